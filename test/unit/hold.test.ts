import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { holdUntilTurnEnds } from '../../src/process/hold.js';
import { pollUntil } from '../../src/process/poll.js';

/** The process state letter of /proc/PID/stat: T when stopped. */
const state = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
};

describe('holdUntilTurnEnds (QEMUs spawned together start initialising after the last spawn)', () => {
  it('keeps every child spawned in this turn stopped until the turn ends, then lets them all go on', async () => {
    const children = [0, 1, 2].map(() => spawn('sleep', ['30'], { stdio: 'ignore', detached: true }));
    try {
      for (const c of children) holdUntilTurnEnds(c.pid);
      // Still in this turn: a stopped process shows T once the kernel has run it to take the signal.
      const start = Date.now();
      while (!children.every((c) => state(c.pid!) === 'T')) assert.ok(Date.now() - start < 10_000, 'children stopped');
      await nextTurn();
      const running = await pollUntil(() => (children.every((c) => state(c.pid!) !== 'T') ? true : undefined), { timeoutMs: 10_000 });
      assert.equal(running, true);
    } finally {
      children.forEach((c) => c.kill('SIGKILL'));
    }
  });

  it('a held child still dies of SIGKILL, and its exit is reported as usual', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    holdUntilTurnEnds(child.pid);
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    child.kill('SIGKILL');
    assert.deepEqual(await exited, [null, 'SIGKILL']);
  });

  it('ignores a child that could not be spawned or is gone', async () => {
    holdUntilTurnEnds(undefined);
    holdUntilTurnEnds(2 ** 22 + 1);
    await nextTurn();
  });
});
