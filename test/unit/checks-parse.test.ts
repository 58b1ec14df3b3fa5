import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { checkAgainstTopology, parseChecks } from '../../src/checks/index.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { fixture } from '../helpers/fixtures.js';

const EXAMPLE = fileURLToPath(new URL('../../../test/fixtures/checks/issue-20-example/checks', import.meta.url));

/** The error a checks text gives, as the user reads it, with its code. */
function errorOf(text: string, file = 'checks'): string {
  try {
    parseChecks(text, file);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return `${e.code} ${e.message}`;
  }
  return 'no error';
}

const lit = (text: string) => ({ text });
const common = { points: 1, withinMs: 10_000, hidden: false };

describe('checks file: parse', () => {
  it("reads issue 20's example, every kind and option, as data", async () => {
    const f = parseChecks(await readFile(EXAMPLE, 'utf8'), 'checks');
    assert.deepEqual(f.secret, { value: 'networks-2026-bordeaux', line: 3, column: 8 });
    assert.deepEqual(f.params, [
      { name: 'flag', generator: { kind: 'token', length: 8 }, line: 4, column: 7 },
      { name: 'net', generator: { kind: 'subnet', base: 0x0a000000, baseLength: 8, length: 24 }, line: 5, column: 7 },
    ]);
    assert.deepEqual(f.checks, [
      { name: 'opeth reaches the router', host: 'opeth', hostColumn: 43, ...common, line: 7, kind: 'ping', address: { parts: [lit('147.210.15.2')], column: 49 } },
      { name: 'grave is cut off from the DMZ', host: 'grave', hostColumn: 46, ...common, line: 8, kind: 'noping', address: { parts: [lit('172.16.0.2')], column: 52 } },
      { name: 'web server is up', host: 'syl', hostColumn: 43, ...common, line: 9, kind: 'tcp', target: { parts: [lit('147.210.15.2:80')], column: 47 } },
      { name: 'nothing listens on telnet', host: 'syl', hostColumn: 45, ...common, line: 10, kind: 'notcp', target: { parts: [lit('147.210.15.2:23')], column: 49 } },
      { name: 'opeth got its DHCP lease', host: 'opeth', hostColumn: 44, ...common, line: 11, kind: 'exec', command: { parts: [lit('ip -4 addr show eth0')], column: 50 }, match: '~', regex: { parts: [lit('192\\.168\\.0\\.10/24')], column: 75 } },
      { name: 'dnsmasq names opeth', host: 'syl', hostColumn: 44, ...common, line: 12, kind: 'exec', command: { parts: [lit('nslookup opeth.qemunet.org 10.0.0.1')], column: 48 }, match: '~', regex: { parts: [lit('192\\.168\\.0\\.10')], column: 88 } },
      { name: 'the flag', host: 'opeth', hostColumn: 44, ...common, line: 13, kind: 'exec', command: { parts: [lit('nc -w 3 192.168.0.100 2000')], column: 50 }, match: '~', regex: { parts: [lit('Your flag is: '), { param: 'flag', column: 96 }], column: 81 } },
      { name: 'routes', host: 'immortal', hostColumn: 44, ...common, points: 2, line: 14, kind: 'exec', command: { parts: [lit('ip route')], column: 53 }, match: '~', regex: { parts: [lit('default via 147\\.210\\.12\\.2')], column: 66 } },
      { name: 'no default route on grave', host: 'grave', hostColumn: 44, points: 1, withinMs: 30_000, hidden: true, line: 15, kind: 'file', path: { parts: [lit('/proc/net/route')], column: 50 }, match: '!~', regex: { parts: [lit('^eth0\\t00000000')], column: 69 } },
      { name: 'the lab net answers', host: 'immortal', hostColumn: 44, ...common, line: 16, kind: 'ping', address: { parts: [{ param: 'net', field: '1', column: 53 }], column: 53 } },
    ]);
  });

  it('takes options before the kind and after its arguments, in any order', () => {
    const [a, b] = parseChecks('CHECK "a" hidden within 2.5s 0 points ping h 10.0.0.1\nCHECK b ping h 10.0.0.1 1 point within 500ms\n', 'c').checks;
    assert.deepEqual([a!.hidden, a!.withinMs, a!.points], [true, 2500, 0]);
    assert.deepEqual([b!.name, b!.hidden, b!.withinMs, b!.points], ['b', false, 500, 1]);
    assert.equal(parseChecks('CHECK x ping h a within 2m', 'c').checks[0]!.withinMs, 120_000);
  });

  it('reads strings: \\" and \\\\ in names and commands, regexes exactly as written, \\{{ not a parameter', () => {
    const [c] = parseChecks(String.raw`CHECK "say \"hi\" \\ \d" exec h "echo \"a b\" \\ \$HOME \{{x}}" ~ "a\"b\\c\.{{n}}\{{m}}"` + '\nSECRET 0123456789abcdefgh\nPARAM n = int(1, 9)', 'c').checks;
    assert.equal(c!.name, String.raw`say "hi" \ \d`);
    assert.ok(c!.kind === 'exec');
    assert.deepEqual(c.command.parts, [lit(String.raw`echo "a b" \ \$HOME \{{x}}`)]);
    assert.deepEqual(c.regex.parts, [lit(String.raw`a\"b\\c\.`), { param: 'n', column: 77 }, lit(String.raw`\{{m}}`)]);
  });

  it('reports each mistake at its file:line:column, saying what is allowed', () => {
    const cases: Array<[string, string]> = [
      ['', 'CHECKS_EMPTY checks:1:1: this checks file has no CHECK line: CHECK "name" KIND HOST ARGS, with KIND one of ping, noping, tcp, notcp, exec, file'],
      ['# only a comment\n', 'CHECKS_EMPTY checks:1:1: this checks file has no CHECK line: CHECK "name" KIND HOST ARGS, with KIND one of ping, noping, tcp, notcp, exec, file'],
      ['CHECK "a" ping h 10.0.0.1\n  TEST "b"', 'CHECKS_SYNTAX checks:2:3: unknown statement "TEST"; allowed: CHECK, PARAM, SECRET, and # comments'],
      ['CHECK "x" pong opeth 10.0.0.1', 'CHECKS_SYNTAX checks:1:11: unknown check kind "pong"; allowed: ping, noping, tcp, notcp, exec, file (and before it: N points, within DURATION (like 30s), hidden)'],
      ['CHECK "x" "ping" opeth 10.0.0.1', 'CHECKS_SYNTAX checks:1:11: the kind is a word, not a string: write ping without quotes'],
      ['CHECK "x" ping h 10.0.0.1 within', 'CHECKS_SYNTAX checks:1:33: within needs a duration, like 30s, 500ms or 2m'],
      ['CHECK "x" ping h 10.0.0.1\r\nCHECK "y" ping h a b\r\n', 'CHECKS_SYNTAX checks:2:20: unexpected "b" after ping HOST ADDRESS; what may follow: N points, within DURATION (like 30s), hidden'],
      ['CHECK', 'CHECKS_SYNTAX checks:1:6: CHECK needs a name, shown to the student: CHECK "name" KIND HOST ARGS'],
      ['CHECK "x"', 'CHECKS_SYNTAX checks:1:10: this check needs a kind and its host: ping, noping, tcp, notcp, exec, file'],
      ['CHECK "  "  ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:7: a check needs a name that is not blank'],
      ['CHECK "x" ping', 'CHECKS_SYNTAX checks:1:15: ping needs: ping HOST ADDRESS'],
      ['CHECK "x" ping opeth', 'CHECKS_SYNTAX checks:1:21: ping needs: ping HOST ADDRESS'],
      ['CHECK "x" ping op/eth 10.0.0.1', `CHECKS_SYNTAX checks:1:16: "op/eth" is not valid as a host name: use letters, digits, '.', '_' and '-', starting with a letter or digit`],
      ['CHECK "x" ping opeth -f', 'CHECKS_SYNTAX checks:1:22: "-f" is not an address: write an IPv4 or IPv6 address or a host name'],
      ['CHECK "x" ping opeth 10.0.0.300', 'CHECKS_SYNTAX checks:1:22: "10.0.0.300" is not an address: write an IPv4 or IPv6 address or a host name'],
      ['CHECK "x" ping opeth 10.0.0.1 extra', 'CHECKS_SYNTAX checks:1:31: unexpected "extra" after ping HOST ADDRESS; what may follow: N points, within DURATION (like 30s), hidden'],
      ['CHECK "x" tcp syl 10.0.0.1', 'CHECKS_SYNTAX checks:1:19: "10.0.0.1" is not an address and a port: write ADDRESS:PORT, like 10.0.0.1:80 or [2001:db8::1]:80'],
      ['CHECK "x" tcp syl 10.0.0.1:0', 'CHECKS_SYNTAX checks:1:19: port 0 is not between 1 and 65535'],
      ['CHECK "x" tcp syl [2001:db8::1]:99999', 'CHECKS_SYNTAX checks:1:19: port 99999 is not between 1 and 65535'],
      ['CHECK "x" exec h "ip route" = "x"', 'CHECKS_SYNTAX checks:1:29: expected ~ (matches) or !~ (does not match) before the regex: exec HOST "COMMAND" ~ "REGEX" (or !~)'],
      ['CHECK "x" exec h "ip route" ~', 'CHECKS_SYNTAX checks:1:30: exec needs: exec HOST "COMMAND" ~ "REGEX" (or !~)'],
      ['CHECK "x" exec h "ip route" ~ "via (1"', 'CHECKS_SYNTAX checks:1:31: "via (1" is not a regular expression: Unterminated group'],
      ['CHECK "x" exec h "ip route" ~ "a{2,1}"', 'CHECKS_SYNTAX checks:1:31: "a{2,1}" is not a regular expression: numbers out of order in {} quantifier'],
      ['CHECK "x" exec h "  " ~ "x"', 'CHECKS_SYNTAX checks:1:18: the command is empty'],
      ['CHECK "x" file h etc/passwd ~ "root"', 'CHECKS_SYNTAX checks:1:18: "etc/passwd" is not an absolute path: the file\'s path in the guest starts with /'],
      ['CHECK "x" exec h "ip route ~ "x"', 'CHECKS_SYNTAX checks:1:31: a space must follow the closing " of a string'],
      ['CHECK "x" exec h "ip route', 'CHECKS_SYNTAX checks:1:18: this string has no closing " on its line (write \\" for a quote inside a string)'],
      ['CHECK "x" exec h ip"route" ~ x', 'CHECKS_SYNTAX checks:1:20: a quote may only open a string: put the whole string in "..."'],
      ['CHECK "x" 2 ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:13: expected "points" after 2 (N points, within DURATION (like 30s), hidden)'],
      ['CHECK "x" 2000 points ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:11: at most 1000 points a check'],
      ['CHECK "x" within soon ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:18: within needs a duration, like 30s, 500ms or 2m'],
      ['CHECK "x" within 11m ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:18: within is at most 10 minutes'],
      ['CHECK "x" hidden ping h 10.0.0.1 hidden', 'CHECKS_SYNTAX checks:1:34: hidden is given twice'],
      ['CHECK "x" ping h 10.0.0.1\nCHECK "x" ping g 10.0.0.2', 'CHECKS_SYNTAX checks:2:7: a check named "x" is already at line 1: each check needs its own name (it is a column of the class table)'],
      ['CHECK "x" ping h {{ip}}', 'CHECKS_INVALID checks:1:18: no parameter "ip": this file has no PARAM line (PARAM ip = token(8))'],
      ['SECRET 0123456789abcdefgh\nPARAM n = int(1, 2)\nCHECK "x" exec h "echo {{m}}" ~ "."', 'CHECKS_INVALID checks:3:24: no parameter "m": defined: n (PARAM m = token(8))'],
      ['SECRET 0123456789abcdefgh\nPARAM n = int(1, 2)\nCHECK "x" ping h {{n.1}}', 'CHECKS_INVALID checks:3:18: "n.1": a int parameter\'s fields are none (write {{name}})'],
      ['SECRET 0123456789abcdefgh\nPARAM net = subnet(10.0.0.0/8, 24)\nCHECK "x" ping h {{net.gateway}}', 'CHECKS_INVALID checks:3:18: "net.gateway": a subnet parameter\'s fields are network, prefix, netmask, broadcast, or a host number like .1'],
      ['CHECK "x" exec h "echo {{flag" ~ "."', 'CHECKS_SYNTAX checks:1:24: "{{" opens a parameter: close it with "}}", like {{flag}} (write \\{{ for the characters themselves)'],
      ['CHECK "x" exec h "echo {{Flag}}" ~ "."', 'CHECKS_SYNTAX checks:1:24: "{{Flag}}" is not a parameter: write {{name}} or {{name.field}} with a PARAM name (lower-case letters, digits, _)'],
      ['SECRET short\nCHECK "x" ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:8: the secret is too short (5 characters): it needs at least 16, e.g. the output of openssl rand -base64 12'],
      ['SECRET\nCHECK "x" ping h 10.0.0.1', 'CHECKS_SYNTAX checks:1:7: SECRET needs the lab\'s secret: SECRET "at least 16 characters"'],
      ['SECRET 0123456789abcdefgh\nSECRET 0123456789abcdefgi', 'CHECKS_SYNTAX checks:2:1: the secret is already given at line 1'],
    ];
    assert.deepEqual(cases.map(([text]) => errorOf(text)), cases.map(([, expected]) => expected));
  });

  it('reports PARAM mistakes at their column, listing the generators', () => {
    const cases: Array<[string, string]> = [
      ['PARAM', 'CHECKS_SYNTAX checks:1:6: PARAM needs a name: PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)'],
      ['PARAM Flag = token(8)', `CHECKS_SYNTAX checks:1:7: "Flag" is not valid as a parameter name: use lower-case letters, digits and _, starting with a letter (it becomes a shell variable in the hosts' params file)`],
      ['PARAM flag token(8)', 'CHECKS_SYNTAX checks:1:12: expected "=" after the parameter name: PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)'],
      ['PARAM flag = random(8)', 'CHECKS_SYNTAX checks:1:14: unknown generator "random"; allowed: token, int, choice, subnet (PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN))'],
      ['PARAM flag = token 8', 'CHECKS_SYNTAX checks:1:19: expected "(" after token: PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)'],
      ['PARAM flag = token(8', 'CHECKS_SYNTAX checks:1:19: this "(" has no ")": PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)'],
      ['PARAM flag = token(8) x', 'CHECKS_SYNTAX checks:1:23: unexpected "x" after the PARAM\'s ")"'],
      ['PARAM flag = token(0)', 'CHECKS_SYNTAX checks:1:20: "0" is not a token length (a whole number from 1 to 64)'],
      ['PARAM flag = token()', 'CHECKS_SYNTAX checks:1:20: token takes one argument: token(N), N characters from a-z and 2-9 (no l, o, 0, 1)'],
      ['PARAM flag = token(8, 9)', 'CHECKS_SYNTAX checks:1:23: token takes one argument: token(N), N characters from a-z and 2-9 (no l, o, 0, 1)'],
      ['PARAM n = int(9, 1)', 'CHECKS_SYNTAX checks:1:18: the upper bound 1 is below the lower bound 9'],
      ['PARAM n = int(1,)', 'CHECKS_SYNTAX checks:1:17: an argument is missing here: PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)'],
      ['PARAM n = int(-1, 5)', 'CHECKS_SYNTAX checks:1:15: "-1" is not a lower bound (a whole number from 0 to 4294967295)'],
      ['PARAM c = choice(red)', 'CHECKS_SYNTAX checks:1:18: choice needs at least two values: choice(red, green, blue)'],
      ['PARAM c = choice(red, $HOME)', 'CHECKS_SYNTAX checks:1:23: "$HOME" cannot be a value: use letters, digits and _ . : / @ % + = - (not first), no spaces or shell characters'],
      ['PARAM c = choice(red, -rf)', 'CHECKS_SYNTAX checks:1:23: "-rf" cannot be a value: use letters, digits and _ . : / @ % + = - (not first), no spaces or shell characters'],
      ['PARAM net = subnet(10.0.0.1/8, 24)', 'CHECKS_SYNTAX checks:1:20: "10.0.0.1/8" has host bits set: write the network itself, like 10.0.0.0/8'],
      ['PARAM net = subnet(10.0.0.0, 24)', 'CHECKS_SYNTAX checks:1:20: "10.0.0.0" is not an IPv4 network like 10.0.0.0/8'],
      ['PARAM net = subnet(10.0.0.0/16, 8)', 'CHECKS_SYNTAX checks:1:33: "8" is not a prefix length inside /16 (a whole number from 16 to 32)'],
      ['PARAM a = token(4)\nPARAM a = token(5)', 'CHECKS_SYNTAX checks:2:7: parameter "a" is already defined at line 1'],
      ['PARAM net = subnet(10.0.0.0/8, 24)\nPARAM net_prefix = int(1, 2)\nCHECK x ping h 10.0.0.1', 'CHECKS_SYNTAX checks:2:7: "net_prefix" is already a variable of the params file, from the subnet "net" at line 1: choose another name'],
    ];
    assert.deepEqual(cases.map(([text]) => errorOf(text)), cases.map(([, expected]) => expected));
  });

  it('reads PARAM lines with or without spaces, and a comment after them', () => {
    const f = parseChecks('PARAM c=choice(red,green , blue)  # colours\nPARAM p = int( 2000 , 2999 )\nCHECK x ping h 10.0.0.1', 'c');
    assert.deepEqual(f.params.map((p) => p.generator), [{ kind: 'choice', options: ['red', 'green', 'blue'] }, { kind: 'int', min: 2000, max: 2999 }]);
  });

  it("names a check's host that the topology does not have, at the host's column, listing the hosts", async () => {
    const path = fixture('topologies', 'gw.topo');
    const topology = resolveTopology(parseTopology(await readFile(path, 'utf8'), path));
    checkAgainstTopology(parseChecks(await readFile(EXAMPLE, 'utf8'), 'checks'), topology);
    const wrong = parseChecks('CHECK "a" ping opeth 10.0.0.1\n\nCHECK "b" tcp  aaaa 10.0.0.1:80\n', 'lab/checks');
    assert.throws(() => checkAgainstTopology(wrong, topology), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.code, 'CHECKS_INVALID');
      assert.equal(e.message, `lab/checks:3:16: no host "aaaa" in the topology ${path}; its hosts: immortal, opeth, syl, grave`);
      return true;
    });
  });
});
