import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { endProcess, groupAlive, spawnProcess, startProcess } from '../../src/process/start.js';

describe('starting and ending long-lived programs', () => {
  it('ends a program and what it started in its group, which outlives it otherwise', async () => {
    // The shell leaves a background sleep in its group, as dpipe leaves its stages.
    const child = await startProcess('sh', ['-c', 'sleep 60 & exec sleep 61'], { stdio: 'ignore' });
    assert.ok(groupAlive(child.pid!));
    await endProcess(child);
    assert.equal(groupAlive(child.pid!), false, 'nothing of the group is left once endProcess resolves');
    assert.equal(child.signalCode, 'SIGTERM');
  });

  it('kills a program that ignores SIGTERM, after the time given', async () => {
    const child = await startProcess('sh', ['-c', 'trap "" TERM; echo trapped; while :; do sleep 0.05; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await once(child.stdout!, 'data');
    const t0 = Date.now();
    await endProcess(child, 300);
    assert.equal(groupAlive(child.pid!), false);
    assert.ok(Date.now() - t0 >= 300, 'SIGTERM was given its time first');
  });

  it('names the missing program', async () => {
    const { started } = spawnProcess('qemunet-no-such-program', [], { stdio: 'ignore' });
    await assert.rejects(started, { code: 'PROGRAM_MISSING' });
  });
});
