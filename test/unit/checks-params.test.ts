import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { QemunetError } from '../../src/errors.js';
import { deriveParams, parseChecks, renderParamsFile, resolveChecks, TOKEN_ALPHABET, type Check } from '../../src/checks/index.js';

const SECRET = 'networks-2026-bordeaux';
const LAB = `SECRET "${SECRET}"
PARAM flag = token(8)
PARAM port = int(2000, 2999)
PARAM colour = choice(red, green, blue)
PARAM net = subnet(10.0.0.0/8, 24)
PARAM small = subnet(192.168.0.0/16, 30)
CHECK "the flag" exec opeth "nc -w 3 {{net.1}} {{port}}" ~ "flag: {{flag}} at {{net}}"
CHECK "router" ping opeth {{net.254}}
CHECK "service" tcp opeth {{small.2}}:{{port}}
CHECK "colour" file opeth /etc/{{colour}}.conf !~ "^{{colour}}=off$"
`;

/** What a resolved check tests, in short, for exact comparisons. */
function brief(c: Check): string[] {
  switch (c.kind) {
    case 'exec':
      return [c.command, c.regex.source];
    case 'file':
      return [c.path, c.regex.source];
    case 'tcp':
    case 'notcp':
      return [`${c.address}:${c.port}`];
    default:
      return [c.address];
  }
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof QemunetError, String(e));
    return `${e.code} ${e.message}`;
  }
  return 'no error';
}

describe('checks: per-student parameters', () => {
  const file = parseChecks(LAB, 'checks');

  it("gives each student their own values, substituted (escaped in regexes), and the same ones every time", () => {
    const alice = resolveChecks(file, { student: 'alice' });
    assert.deepEqual(alice.checks.map(brief), [
      ['nc -w 3 10.122.145.1 2238', 'flag: 7bruhfwb at 10\\.122\\.145\\.0/24'],
      ['10.122.145.254'],
      ['192.168.161.74:2238'],
      ['/etc/green.conf', '^green=off$'],
    ]);
    assert.deepEqual(resolveChecks(file, { student: 'alice' }), alice);
    assert.deepEqual(resolveChecks(file, { student: 'bob' }).checks.map(brief), [
      ['nc -w 3 10.86.163.1 2814', 'flag: rgf845bj at 10\\.86\\.163\\.0/24'],
      ['10.86.163.254'],
      ['192.168.234.90:2814'],
      ['/etc/blue.conf', '^blue=off$'],
    ]);
    assert.ok(alice.checks[0]!.kind === 'exec' && alice.checks[0].regex.regex.test('flag: 7bruhfwb at 10.122.145.0/24\n'));
    assert.ok(alice.checks[0]!.kind === 'exec' && !alice.checks[0].regex.regex.test('flag: 7bruhfwb at 10x122.145.0/24'), 'a dot of a value is a dot, not any character');
  });

  it('derives token(N) as documented: HMAC-SHA256(secret, "qemunet.param\\0STUDENT\\0NAME\\0BLOCK"), a byte\'s low 5 bits picking a character', () => {
    const bytes = createHmac('sha256', SECRET).update('qemunet.param\0alice\0flag\x000').digest();
    const expected = [...bytes.subarray(0, 8)].map((b) => TOKEN_ALPHABET[b & 31]).join('');
    assert.equal(expected, '7bruhfwb');
    const long = deriveParams([{ name: 'k', generator: { kind: 'token', length: 40 }, line: 1, column: 1 }], SECRET, 'alice').get('k');
    const two = Buffer.concat([0, 1].map((n) => createHmac('sha256', SECRET).update(`qemunet.param\0alice\0k\0${n}`).digest()));
    assert.deepEqual(long, { kind: 'text', value: [...two.subarray(0, 40)].map((b) => TOKEN_ALPHABET[b & 31]).join('') }, 'past 32 bytes, the next block');
  });

  it('keeps every value in its range, for many students, and a class of 30 gets 30 different tokens', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const v = deriveParams(file.params, SECRET, `student${i}`);
      const port = Number((v.get('port') as { value: string }).value);
      assert.ok(port >= 2000 && port <= 2999, String(port));
      assert.ok(['red', 'green', 'blue'].includes((v.get('colour') as { value: string }).value));
      const net = v.get('net') as { kind: 'subnet'; network: number; length: number };
      assert.equal(net.length, 24);
      assert.equal(net.network % 256, 0);
      assert.equal(Math.floor(net.network / 2 ** 24), 10);
      const flag = (v.get('flag') as { value: string }).value;
      assert.match(flag, /^[a-km-np-z2-9]{8}$/);
      if (i < 30) tokens.add(flag);
    }
    assert.equal(tokens.size, 30);
    assert.notDeepEqual(deriveParams(file.params, 'another-secret-of-the-lab', 'alice'), deriveParams(file.params, SECRET, 'alice'));
  });

  it('writes the params file of the hosts\' share: name=value lines a start script sources, a subnet with its parts', () => {
    assert.equal(
      renderParamsFile(resolveChecks(file, { student: 'alice' }).values),
      [
        "# qemunet: this student's lab parameters (the checks file's PARAM lines). In a start script: . /mnt/host/params",
        'flag=7bruhfwb',
        'port=2238',
        'colour=green',
        'net=10.122.145.0/24',
        'net_network=10.122.145.0',
        'net_prefix=24',
        'net_netmask=255.255.255.0',
        'net_broadcast=10.122.145.255',
        'small=192.168.161.72/30',
        'small_network=192.168.161.72',
        'small_prefix=30',
        'small_netmask=255.255.255.252',
        'small_broadcast=192.168.161.75',
        '',
      ].join('\n'),
    );
    assert.equal(renderParamsFile(new Map()), "# qemunet: this student's lab parameters (the checks file's PARAM lines). In a start script: . /mnt/host/params\n");
    assert.throws(() => renderParamsFile(new Map([['x', { kind: 'text', value: 'a b' }]])), /bug: parameter x's value "a b" is not shell-safe/);
  });

  it('needs the secret and the student when the lab has parameters, and neither when it has none', () => {
    const noSecret = parseChecks('CHECK "x" ping h 10.0.0.1\n\n  PARAM flag = token(8)\n', 'lab/checks');
    assert.equal(errorOf(() => resolveChecks(noSecret, { student: 'alice' })), 'CHECKS_NO_SECRET lab/checks:3:9: a PARAM needs the lab secret its values are derived from: add a line SECRET "..." (at least 16 characters) to this file; a lab without a secret has no parameters');
    assert.deepEqual(brief(resolveChecks(noSecret, { student: 'alice', secret: SECRET }).checks[0]!), ['10.0.0.1'], 'a secret kept out of the file');
    assert.equal(errorOf(() => resolveChecks(file, {})), 'CHECKS_NO_STUDENT this lab has per-student parameters (flag, port, colour, net, small): name the student (their user= value, or --student NAME)');
    const plain = resolveChecks(parseChecks('CHECK "x" ping h 10.0.0.1\n', 'c'));
    assert.deepEqual([plain.checks.map(brief), plain.values.size], [[['10.0.0.1']], 0]);
  });

  it("reports a value that makes a wrong address or host number, at the template's column", () => {
    const lab = (line: string) => parseChecks(`SECRET "${SECRET}"\nPARAM net = subnet(10.0.0.0/8, 24)\nPARAM c = choice(a/b, c/d)\nPARAM tiny = subnet(10.0.0.0/8, 31)\n${line}\n`, 'checks');
    assert.equal(errorOf(() => resolveChecks(lab('CHECK "x" ping h {{c}}'), { student: 'alice' })), 'CHECKS_INVALID checks:5:18: with this student\'s parameters, "a/b" is not an address: write an IPv4 or IPv6 address or a host name');
    assert.equal(errorOf(() => resolveChecks(lab('CHECK "x" ping h {{net.255}}'), { student: 'alice' })), 'CHECKS_INVALID checks:5:18: {{net.255}}: a /24 has hosts 1 to 254');
    assert.equal(errorOf(() => resolveChecks(lab('CHECK "x" exec h "ping {{tiny.1}}" ~ "."'), { student: 'alice' })), 'CHECKS_INVALID checks:5:24: {{tiny.1}}: a /31 has no numbered hosts');
    assert.equal(errorOf(() => resolveChecks(lab('CHECK "x" file h /tmp/{{net}} ~ "."'), { student: 'alice' })), 'no error', 'a path may hold a subnet\'s slash');
  });
});

describe('checks: docs/checks.md', () => {
  it("its example parses, and its params file is the one alice gets from that example's secret", async () => {
    const doc = await readFile(new URL('../../../docs/checks.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = parseChecks(blocks[0]!, 'docs/checks.md');
    assert.equal(example.checks.length, 9);
    assert.equal(renderParamsFile(resolveChecks(example, { student: 'alice' }).values), blocks[1]);
  });
});
