import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StateWriter, type SessionPhase, type SessionState } from '../../src/lab/state.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qemunet-state-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sessionState(sessionDir: string, phase: SessionPhase): SessionState {
  return { version: 1, dir: sessionDir, topology: 'lan.topo', pid: 4242, phase, accel: 'tcg', startedAt: '2024-05-01T10:00:00.000Z', hosts: [], switches: [] };
}

describe('StateWriter', () => {
  it('writes the next change after a failed write, and flush() resolves meanwhile', async () => {
    // Tests run as root, which ignores directory permissions: a missing directory is the unwritable place.
    const sessionDir = join(dir, 'session');
    const file = join(sessionDir, 'state.json');
    let phase: SessionPhase = 'running';
    const writer = new StateWriter(file, () => sessionState(sessionDir, phase));

    await writer.changed();
    assert.equal((writer.lastError as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
    await writer.flush();

    await mkdir(sessionDir);
    phase = 'stopping';
    await writer.changed();
    assert.equal(writer.lastError, undefined);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), sessionState(sessionDir, 'stopping'));
    assert.deepEqual(await readdir(sessionDir), ['state.json']);
  });

  it('lets flush() resolve after a failed write, as the teardown needs before it releases the session lock', async () => {
    const sessionDir = join(dir, 'removed');
    await mkdir(sessionDir);
    const writer = new StateWriter(join(sessionDir, 'state.json'), () => sessionState(sessionDir, 'stopped'));
    await rm(sessionDir, { recursive: true });
    void writer.changed();
    await writer.flush();
    assert.equal((writer.lastError as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
  });
});
