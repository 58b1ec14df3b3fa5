import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseStartTicks, processIdentity } from '../../src/process/identity.js';
import { waitForLock, type PidLock } from '../../src/process/pid-lock.js';
import { heldBy, lockSession } from '../../src/session/lock.js';
import { processAlive } from '../../src/process/alive.js';
import { down } from '../../src/lab/client/sessions.js';
import { writeState } from '../../src/lab/state.js';
import { sessionPaths } from '../../src/session/paths.js';
import { tempDir } from '../helpers/tiny.js';

describe('process identity', () => {
  it('reads the start time after the last parenthesis, whatever the command name holds', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    assert.equal(parseStartTicks(`42 (a) (b c) ${fields.join(' ')}`), '22');
    assert.equal(parseStartTicks('42 (short) S 1 2'), undefined);
  });
  it('tells this process from a pid that does not exist', () => {
    assert.match(processIdentity(process.pid) ?? '', /^\d+@[0-9a-f-]{36}$/);
    assert.equal(processIdentity(process.pid), processIdentity(process.pid));
    assert.equal(processIdentity(2 ** 30), undefined);
  });
});

describe('session lock', () => {
  it('records the identity of its holder; only that process holds it', async () => {
    await using tmp = await tempDir('lock');
    const file = join(tmp.path, 'qemunet.lock');
    const lock = await lockSession(file, tmp.path);
    try {
      assert.equal(await readFile(file, 'utf8'), `${process.pid} ${processIdentity(process.pid)}\n`);
      assert.equal(await heldBy(file, process.pid), true);
      assert.equal(await heldBy(file, process.ppid), false);
      await assert.rejects(lockSession(file, tmp.path), { code: 'SESSION_LOCKED', message: `session ${tmp.path} is in use by qemunet process ${process.pid}; stop it with "qemunet down --session ${tmp.path}"` });
    } finally {
      await lock.release();
    }
  });

  it('takes over a lock whose pid now belongs to another process', async () => {
    await using tmp = await tempDir('lock');
    const file = join(tmp.path, 'qemunet.lock');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(file, `${other.pid} 4242@00000000-0000-0000-0000-000000000000\n`);
      assert.equal(await heldBy(file, other.pid!), false);
      const lock = await lockSession(file, tmp.path);
      assert.equal(lock.tookOverFrom, other.pid);
      await lock.release();
      // A lock without an identity (made by hand, or by an earlier version) is taken at its word.
      await writeFile(file, `${other.pid}\n`);
      assert.equal(await heldBy(file, other.pid!), false, 'not known to be that process');
      await assert.rejects(lockSession(file, tmp.path), { code: 'SESSION_LOCKED' });
      assert.equal(other.exitCode, null);
    } finally {
      other.kill();
    }
  });
});

describe('image store lock (the same lock, waited for)', () => {
  it('a second builder waits until the first lets go, then takes it; nothing is left beside it', async () => {
    await using tmp = await tempDir('lock');
    const file = join(tmp.path, '.tiny.lock');
    const first = await waitForLock(file);
    let second: PidLock | undefined;
    const waiting = waitForLock(file).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(second, undefined, 'still waiting while the first holds it');
    await first.release();
    await waiting;
    assert.equal(await readFile(file, 'utf8'), `${process.pid} ${processIdentity(process.pid)}\n`);
    await second!.release();
    assert.deepEqual(await readdir(tmp.path), []);
  });

  it('an abort ends the wait', async () => {
    await using tmp = await tempDir('lock');
    const file = join(tmp.path, '.tiny.lock');
    const held = await waitForLock(file);
    try {
      await assert.rejects(waitForLock(file, AbortSignal.timeout(300)), { name: 'TimeoutError' });
    } finally {
      await held.release();
    }
  });
});

describe('down', () => {
  it('returns once the session process has exited, not only let its lock go', async () => {
    await using tmp = await tempDir('down');
    const paths = sessionPaths(tmp.path);
    // A stand-in for the process driving a session, slow to exit after it lets the lock go (as a
    // loaded machine makes Node's exit): a timing real qemunet cannot be made to show on demand.
    const module = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
    const script = `
      import { lockSession } from ${module('../../src/session/lock.js')};
      import { ControlServer } from ${module('../../src/lab/driver/control-server.js')};
      const lock = await lockSession(${JSON.stringify(paths.lock)}, ${JSON.stringify(tmp.path)});
      const server = await ControlServer.listen(${JSON.stringify(paths.control)}, async () => {
        setTimeout(async () => { await server.close(); await lock.release(); setTimeout(() => {}, 1500); }, 100);
        return process.pid;
      });
      process.stdout.write('listening\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    await writeState(paths.state, { version: 1, dir: tmp.path, topology: 't', pid: child.pid!, phase: 'running', accel: 'tcg', startedAt: new Date().toISOString(), hosts: [], switches: [] });
    const state = await down(tmp.path);
    assert.equal(processAlive(child.pid!), false);
    assert.equal(state.phase, 'stopped');
  });
});
