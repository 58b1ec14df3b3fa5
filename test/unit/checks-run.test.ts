import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QemunetError } from '../../src/errors.js';
import { checksExitStatus, MAX_STREAM_BYTES, parseChecks, resolveChecks, runChecks, scoreOf, seenOf, sessionExecutor, type CheckExecutor, type CheckResult, type ExecClient, type ExecOutcome } from '../../src/checks/index.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

const checksOf = (text: string) => resolveChecks(parseChecks(text, 'checks')).checks;
const out = (status: number, stdout = '', stderr = ''): ExecOutcome => ({ status, stdout, stderr });

interface Call {
  at: number;
  host: string;
  argv: readonly string[];
  timeoutMs: number;
}

/** An executor that answers from `answer` after `costMs` of virtual time, and records every call. */
function fakeExecutor(clock: VirtualClock, answer: (host: string, argv: readonly string[], now: number) => ExecOutcome, costMs = 100): { executor: CheckExecutor; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    executor: {
      async exec(host, argv, timeoutMs, signal) {
        calls.push({ at: clock.now(), host, argv, timeoutMs });
        const now = clock.now();
        await clock.sleep(costMs, signal);
        return answer(host, argv, now);
      },
    },
  };
}

/** A result in short: what the report needs, without the check itself. */
const brief = (r: CheckResult) => ({ status: r.status, earned: r.earned, attempts: r.attempts, elapsedMs: r.elapsedMs, seen: r.seen });

describe('checks: the runner', () => {
  it('turns each kind into its guest command, with the tools both built-in images have', async () => {
    const clock = new VirtualClock();
    const { executor, calls } = fakeExecutor(clock, (host) => out(host === 'h2' || host === 'h4' ? 1 : 0, 'x'));
    await runChecks(
      checksOf(`CHECK a ping h1 10.0.0.1
CHECK b noping h2 10.0.0.2
CHECK c tcp h3 10.0.0.3:80
CHECK d notcp h4 [2001:db8::1]:23
CHECK e exec h5 "ip -4 addr show eth0 | grep 'inet '" ~ "x" within 4.5s
CHECK f file h6 "/etc/my file" ~ "x"`),
      { executor, clock },
    );
    assert.deepEqual(calls, [
      { at: 0, host: 'h1', argv: ['ping', '-n', '-c', '1', '-W', '1', '10.0.0.1'], timeoutMs: 4000 },
      { at: 0, host: 'h2', argv: ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', '10.0.0.2'], timeoutMs: 4000 },
      { at: 0, host: 'h3', argv: ['nc', '-z', '-v', '-w', '2', '10.0.0.3', '80'], timeoutMs: 5000 },
      { at: 0, host: 'h4', argv: ['nc', '-z', '-v', '-w', '2', '2001:db8::1', '23'], timeoutMs: 5000 },
      { at: 0, host: 'h5', argv: ['timeout', '-k', '1', '5', 'sh', '-c', "ip -4 addr show eth0 | grep 'inet '"], timeoutMs: 8000 },
      { at: 0, host: 'h6', argv: ['cat', '--', '/etc/my file'], timeoutMs: 4000 },
    ]);
  });

  it('retries every 500 ms until the check passes, its deadline counted from its first try', async () => {
    const clock = new VirtualClock();
    // The web server comes up at t = 3 s.
    const { executor, calls } = fakeExecutor(clock, (_h, _a, now) => (now >= 3000 ? out(0, '', 'Connection to 10.0.0.3 80 port [tcp/http] succeeded!\n') : out(1, '', 'nc: connect to 10.0.0.3 port 80 (tcp) failed: Connection refused\n')));
    const [r] = await runChecks(checksOf('CHECK "web" tcp syl 10.0.0.3:80'), { executor, clock });
    assert.deepEqual(calls.map((c) => c.at), [0, 600, 1200, 1800, 2400, 3000]);
    assert.deepEqual(brief(r!), { status: 'pass', earned: 1, attempts: 6, elapsedMs: 3100, seen: 'Connection to 10.0.0.3 80 port [tcp/http] succeeded!' });
  });

  it('fails at the deadline with what the last try showed, a last try at the deadline itself', async () => {
    const clock = new VirtualClock();
    const { executor, calls } = fakeExecutor(clock, () => out(0, '64 bytes from 172.16.0.2: icmp_seq=1 ttl=63 time=0.9 ms\n\n--- 172.16.0.2 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss\n'));
    const [r] = await runChecks(checksOf('CHECK "cut off" 3 points noping grave 172.16.0.2 within 2s'), { executor, clock });
    assert.deepEqual(calls.map((c) => c.at), [0, 600, 1200, 1800, 2000]);
    assert.deepEqual(brief(r!), { status: 'fail', earned: 0, attempts: 5, elapsedMs: 2100, seen: '64 bytes from 172.16.0.2: icmp_seq=1 ttl=63 time=0.9 ms\n\n--- 172.16.0.2 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss' });
  });

  it('gives exec the time left before the deadline, rounded up to whole seconds, at each try', async () => {
    const clock = new VirtualClock();
    const { executor, calls } = fakeExecutor(clock, () => out(124, 'partial'), 2300);
    const [r] = await runChecks(checksOf('CHECK "slow" exec h "sleep 9" ~ "done" within 5s'), { executor, clock });
    assert.deepEqual(calls.map((c) => [c.at, c.argv[3], c.timeoutMs]), [[0, '5', 8000], [2800, '3', 6000]]);
    assert.deepEqual(brief(r!), { status: 'fail', earned: 0, attempts: 2, elapsedMs: 5100, seen: 'partial (exit 124)' });
  });

  it('matches exec and file regexes against all the output, whatever the exit status; ~ and !~', async () => {
    const clock = new VirtualClock();
    const outputs: Record<string, ExecOutcome> = {
      h1: out(124, 'Your flag is: k3m9x2ab\n'),
      h2: out(0, 'default via 10.0.0.254 dev eth0\n'),
      h3: out(1, '', 'cat: /etc/nope: No such file or directory\n'),
      h4: out(0, 'root:x:0:0:root:/root:/bin/bash\n'),
      h5: out(2, '', 'ls: cannot access x\n'),
    };
    const { executor } = fakeExecutor(clock, (host) => outputs[host]!);
    const results = await runChecks(
      checksOf(`CHECK a exec h1 "nc -w 3 10.0.0.100 2000" ~ "^Your flag is: k3m9x2ab$" within 0s
CHECK b exec h2 "ip route" !~ "^default" within 0s
CHECK c file h3 /etc/nope !~ "x" within 0s
CHECK d file h4 /etc/passwd ~ "^root:" within 0s
CHECK e exec h5 "ls x" ~ "cannot access" within 0s`),
      { executor, clock },
    );
    assert.deepEqual(results.map((r) => [r.status, r.seen]), [
      ['pass', 'Your flag is: k3m9x2ab (exit 124)'],
      ['fail', 'default via 10.0.0.254 dev eth0'],
      ['fail', 'cat: /etc/nope: No such file or directory (exit 1): the file cannot be read'],
      ['pass', 'root:x:0:0:root:/root:/bin/bash'],
      ['pass', 'ls: cannot access x (exit 2)'],
    ]);
  });

  it('tells a test that could not run (error) from one that ran and failed', async () => {
    const clock = new VirtualClock();
    let tries = 0;
    const { executor } = fakeExecutor(clock, (host) => {
      if (host === 'gone') throw new QemunetError('HOST_NOT_RUNNING', 'host gone is not running');
      if (host === 'booting' && ++tries < 3) throw new QemunetError('AGENT_UNAVAILABLE', "booting's guest agent does not answer yet");
      if (host === 'bare') return out(127, '', 'sh: 1: nslookup: not found\n');
      return out(0);
    });
    const results = await runChecks(
      checksOf(`CHECK a ping gone 10.0.0.1
CHECK b exec bare "nslookup x" !~ "NXDOMAIN" within 1s
CHECK c ping booting 10.0.0.1
CHECK d ping ok 10.0.0.1 within 0s`),
      { executor, clock },
    );
    assert.deepEqual(results.map(brief), [
      { status: 'error', earned: 0, attempts: 1, elapsedMs: 100, seen: 'host gone is not running' },
      { status: 'error', earned: 0, attempts: 3, elapsedMs: 1100, seen: 'sh: 1: nslookup: not found (exit 127): the command is not in this guest (exit 127)' },
      { status: 'pass', earned: 1, attempts: 3, elapsedMs: 1300, seen: '(no output)' },
      { status: 'pass', earned: 1, attempts: 1, elapsedMs: 100, seen: '(no output)' },
    ]);
    assert.deepEqual(scoreOf(results), { earned: 2, possible: 4, passed: 2, total: 4 });
    assert.equal(checksExitStatus(results), 1);
    assert.equal(checksExitStatus(results.slice(2)), 0);
  });

  it("runs a host's checks one after the other and different hosts' side by side; results in the file's order", async () => {
    const clock = new VirtualClock();
    const { executor, calls } = fakeExecutor(clock, () => out(0), 1000);
    const told: string[] = [];
    const results = await runChecks(checksOf('CHECK a1 ping a 10.0.0.1\nCHECK b1 ping b 10.0.0.1\nCHECK a2 ping a 10.0.0.2\nCHECK c1 ping c 10.0.0.1\nCHECK a3 ping a 10.0.0.3\nCHECK b2 ping b 10.0.0.2'), { executor, clock, onResult: (r) => told.push(`${clock.now()} ${r.check.name}`) });
    assert.deepEqual(calls.map((c) => `${c.at} ${c.host} ${c.argv.at(-1)}`), ['0 a 10.0.0.1', '0 b 10.0.0.1', '0 c 10.0.0.1', '1000 a 10.0.0.2', '1000 b 10.0.0.2', '2000 a 10.0.0.3']);
    assert.deepEqual(results.map((r) => [r.index, r.check.name]), [[0, 'a1'], [1, 'b1'], [2, 'a2'], [3, 'c1'], [4, 'a3'], [5, 'b2']]);
    assert.deepEqual(told, ['1000 a1', '1000 b1', '1000 c1', '2000 a2', '2000 b2', '3000 a3']);
  });

  it('stops when aborted, with the signal\'s reason', async () => {
    const clock = new VirtualClock();
    const { executor } = fakeExecutor(clock, () => out(1));
    const ac = new AbortController();
    const run = runChecks(checksOf('CHECK a ping h 10.0.0.1 within 60s'), { executor, clock, signal: ac.signal });
    setImmediate(() => ac.abort(new QemunetError('INTERRUPTED', 'interrupted')));
    await assert.rejects(run, { code: 'INTERRUPTED', message: 'interrupted' });
  });

  it('keeps of the output what a report can show: the last lines, trimmed, with a non-zero status', () => {
    assert.equal(seenOf(out(0, '  a\n', '\n')), 'a');
    assert.equal(seenOf(out(1)), '(exit 1)');
    assert.equal(seenOf(out(1, 'x\r\ny\n')), 'x\ny\n(exit 1)');
    const many = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n');
    assert.equal(seenOf(out(0, many)), '…\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\nline 11\nline 12');
    assert.equal(seenOf(out(0, 'z'.repeat(700))), `…${'z'.repeat(600)}`);
  });
});

describe('checks: the session executor', () => {
  it("runs through a session client's exec, keeping the last 64 KiB of each stream as text", async () => {
    const calls: unknown[] = [];
    const client: ExecClient = {
      exec(host, argv, io) {
        calls.push([host, argv, io.timeoutMs]);
        io.onStdout(Buffer.from('x'.repeat(40 * 1024)));
        io.onStdout(Buffer.from('y'.repeat(40 * 1024)));
        io.onStdout(Buffer.from('end\n'));
        io.onStderr(Buffer.from('caf\xc3\xa9', 'latin1'));
        return Promise.resolve(3);
      },
    };
    const r = await sessionExecutor(client).exec('opeth', ['ping', '10.0.0.1'], 4000);
    assert.deepEqual(calls, [['opeth', ['ping', '10.0.0.1'], 4000]]);
    assert.equal(r.status, 3);
    assert.equal(r.stdout.length, MAX_STREAM_BYTES);
    assert.ok(r.stdout.endsWith('y'.repeat(100) + 'end\n') && r.stdout.startsWith('x'));
    assert.equal(r.stderr, 'café');
  });
});
