import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sessionStatus } from '../../src/lab/client/sessions.js';
import { StateWriter, writeState, type SessionPhase, type SessionState } from '../../src/lab/state.js';

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

describe('sessionStatus of a session whose process is gone', () => {
  it('reports it stopped, its hosts stopped and no capture running', async () => {
    const sessionDir = join(dir, 'dead');
    await mkdir(sessionDir);
    const nic = { eth: 'eth0', switch: 's1', port: 1, mac: 'm', up: false, wired: true, faults: { lossPct: 5 }, captures: [{ id: 'capture1', since: '2024-05-01T10:01:00.000Z' }] };
    const host = { name: 'a', system: 'tiny', base: '/b', state: 'ready' as const, display: 'none' as const, nics: [nic], console: '/c', agent: true };
    // No lock file: nothing holds the session, whatever runs as pid 4242 now.
    await writeState(join(sessionDir, 'qemunet-state.json'), { ...sessionState(sessionDir, 'running'), hosts: [host] });
    const state = await sessionStatus(sessionDir);
    assert.deepEqual([state.phase, state.error, state.hosts[0]!.state], ['stopped', 'qemunet process 4242 is gone', 'stopped']);
    assert.deepEqual(state.hosts[0]!.nics, [{ eth: 'eth0', switch: 's1', port: 1, mac: 'm', up: false, wired: true, faults: { lossPct: 5 } }]);
  });
});
