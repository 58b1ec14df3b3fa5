import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SessionState } from '../../src/lab/state.js';
import { processAlive } from '../../src/process/alive.js';
import { run } from '../../src/process/run.js';
import { alivePids, eventually, leftovers, qemunet, qemunetForeground, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

const TWO_HOSTS = 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n';

async function topology(dir: string, text = TWO_HOSTS): Promise<string> {
  const file = join(dir, 'two.topo');
  await writeFile(file, text);
  return file;
}

/** Waits until the foreground qemunet has started every VM and switch of the session. */
async function started(dir: string): Promise<SessionState> {
  return eventually(async () => {
    const s = await stateOf(dir);
    return s && s.hosts.every((h) => h.pid) && s.switches.every((sw) => sw.pid) && s.phase === 'running' ? s : undefined;
  }, 120000, 'the session to start');
}

/** A foreground `up` of one tiny host under TCG, its output gathered, once its VM and switch run. */
async function upOneHost(tmp: string) {
  const dir = join(tmp, 's');
  const child = qemunetForeground(['up', await topology(tmp, 'SWITCH s1\nHOST tiny a s1\n'), '--session', dir, '-K'], { cwd: tmp });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const output = { text: '' };
  child.stdout!.on('data', (d) => (output.text += d));
  child.stderr!.on('data', (d) => (output.text += d));
  return { dir, exited, output, state: await started(dir) };
}

describe('session lifecycle', { timeout: 600000 }, () => {
  test('Ctrl-C stops every VM gracefully, then the switches; nothing remains', async () => {
    await tinyImage();
    const tmp = suiteDir('sigint');
    try {
      const dir = join(tmp.path, 's');
      const child = qemunetForeground(['up', await topology(tmp.path), '--session', dir], { cwd: tmp.path });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      const state = await started(dir);
      await eventually(async () => ((await stateOf(dir))?.hosts.every((h) => h.state === 'ready') ? true : undefined), 120000, 'hosts ready');
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, out);
      assert.match(out, /Ctrl-C: stopping the session/);
      assert.match(out, /session stopped/);
      assert.deepEqual(alivePids(sessionPids(state)), []);
      assert.deepEqual(await leftovers(dir), []);
      const log = await readFile(join(dir, 'a.log'), 'utf8');
      assert.match(log, /reboot: Power down/, 'the guest powered itself off (ACPI), it was not killed');
    } finally {
      await tmp.remove();
    }
  });

  test('removing the directory of a running session stops it: no VM, switch or helper runs on unseen', async () => {
    const tmp = suiteDir('rmdir');
    try {
      const { dir, exited, output, state } = await upOneHost(tmp.path);
      await rm(dir, { recursive: true, force: true });
      await exited;
      assert.match(output.text, new RegExp(`the session directory ${dir} was removed: stopping the session`));
      assert.deepEqual(alivePids(sessionPids(state)), []);
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });

  test('qemunet down asks the session over its control socket; everything stops', async () => {
    const tmp = suiteDir('down');
    try {
      const { dir, exited, output, state } = await upOneHost(tmp.path);
      const r = await qemunet(['down', '--session', dir]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `session ${dir}: stopped\n`, '']);
      const [code] = await exited;
      assert.equal(code, 0, output.text);
      assert.doesNotMatch(output.text, /SIGTERM/, 'it was asked, not signalled');
      assert.match(output.text, /session stopped/);
      assert.deepEqual(alivePids(sessionPids(state)), []);
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });

  test("down of a session whose qemunet is gone never signals the process that now has its pid", async () => {
    const tmp = suiteDir('stale');
    // After a crash and a reboot, the pid in a session's files belongs to some other process.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pid = other.pid!;
      const host = { name: 'a', system: 'tiny', base: '/images/tiny.img', state: 'ready', display: 'none', nics: [], console: '', agent: true };
      const stale = async (name: string, lock?: string) => {
        const dir = join(tmp.path, name);
        await mkdir(dir);
        await writeFile(join(dir, 'qemunet-state.json'), JSON.stringify({ version: 1, dir, topology: join(dir, 'topology'), pid, phase: 'running', accel: 'tcg', startedAt: '2024-05-01T10:00:00.000Z', hosts: [host], switches: [] }));
        if (lock !== undefined) await writeFile(join(dir, 'qemunet.lock'), lock);
        return dir;
      };
      // With the lock its qemunet left (identity from the boot before), and with none at all.
      for (const dir of [await stale('crashed', `${pid} 4242@00000000-0000-0000-0000-000000000000\n`), await stale('no-lock')]) {
        const r = await qemunet(['down', '--session', dir]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `qemunet: session ${dir} is not running (its qemunet process is gone)\n`]);
        assert.ok(processAlive(pid) && other.exitCode === null && other.signalCode === null, `process ${pid} was not signalled`);
        const state = (await stateOf(dir))!;
        assert.deepEqual([state.phase, state.hosts.map((h) => h.state)], ['stopped', ['stopped']], 'the state file says stopped now');
        const status = await qemunet(['status', '--session', dir, '--json']);
        assert.equal(JSON.parse(status.stdout).phase, 'stopped');
      }
    } finally {
      other.kill();
      await tmp.remove();
    }
  });

  test('SIGKILL of the foreground qemunet takes every VM and switch with it', async () => {
    const tmp = suiteDir('sigkill');
    try {
      const dir = join(tmp.path, 's');
      const child = qemunetForeground(['up', await topology(tmp.path), '--session', dir], { cwd: tmp.path });
      const state = await started(dir);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await eventually(() => (alivePids(sessionPids(state)).length === 0 ? true : undefined), 15000, `no process of the session (alive: ${alivePids(sessionPids(state))})`);
      assert.deepEqual(await leftovers(dir), []);
      const status = await qemunet(['status', '--session', dir, '--json']);
      assert.equal(JSON.parse(status.stdout).phase, 'stopped');
      // The lock of the dead process is taken over by the next run.
      const again = await qemunet(['up', await topology(tmp.path), '--session', dir, '--dry-run']);
      assert.equal(again.code, 0, again.stderr);
    } finally {
      await tmp.remove();
    }
  });

  test('a session in use is locked; two sessions at once do not interfere; a crashed VM shows as crashed', async () => {
    const tmp = suiteDir('two');
    const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
    const [d1, d2] = [join(tmp.path, 's1'), join(tmp.path, 's2')];
    try {
      const topo = await topology(tmp.path);
      const [r1, r2] = await Promise.all([d1, d2].map((d) => qemunet(['up', topo, '--wait', '--session', d], { cwd: tmp.path, env })));
      assert.equal(r1!.code, 0, r1!.stderr);
      assert.equal(r2!.code, 0, r2!.stderr);
      const locked = await qemunet(['up', topo, '--session', d1], { env });
      const holder = (await stateOf(d1))!.pid;
      assert.equal(locked.code, 1);
      assert.equal(locked.stderr, `qemunet: session ${d1} is in use by qemunet process ${holder}; stop it with "qemunet down --session ${d1}"\n`);
      const ambiguous = await qemunet(['status'], { env });
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.stderr, /2 sessions are running; choose one with --session/);

      // Same host names, same switch name, separate sessions: each network is its own.
      const s1 = (await stateOf(d1))!;
      process.kill(s1.hosts.find((h) => h.name === 'b')!.pid!, 'SIGKILL');
      const crashed = await eventually(async () => (await stateOf(d1))?.hosts.find((h) => h.name === 'b' && h.state === 'crashed'), 15000, 'b crashed');
      assert.match(crashed.detail ?? '', /QEMU exited \(SIGKILL\)/);
      const other = await qemunet(['exec', 'a', '--session', d2, '--', 'hostname'], { env });
      assert.equal(other.stdout, 'a\n');
      assert.deepEqual((await stateOf(d2))!.hosts.map((h) => h.state), ['ready', 'ready']);
    } finally {
      await Promise.all([d1, d2].map((d) => qemunet(['down', '--session', d], { env })));
      await tmp.remove();
    }
  });

  test('tmux display: one window per host (and per switch with -y); the windows go when the session is killed', async () => {
    const tmp = suiteDir('tmux');
    // A tmux server of the test's own, not the user's.
    const env = { ...process.env, TMUX_TMPDIR: tmp.path, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
    const dir = join(tmp.path, 's');
    try {
      const r = await qemunet(['up', await topology(tmp.path), '--display', 'tmux', '-y', '--wait', '--session', dir], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /consoles in tmux: tmux attach -t qemunet-s$/m);
      const windows = await run('tmux', ['list-windows', '-t', 'qemunet-s', '-F', '#{window_name}'], { env });
      assert.deepEqual(windows.stdout.trim().split('\n'), ['a', 'b', '[s1]'], 'a window per host, and one per switch with -y');
      const pane = await eventually(async () => {
        const p = (await run('tmux', ['capture-pane', '-p', '-t', 'qemunet-s:a'], { env })).stdout;
        return p.includes('console of a') ? p : undefined;
      }, 10000, 'the console client in window a');
      assert.match(pane, /\[console of a: Ctrl-\] detaches\]/);
      const state = (await stateOf(dir))!;
      process.kill(state.pid, 'SIGKILL');
      await eventually(() => (alivePids(sessionPids(state)).length === 0 ? true : undefined), 15000, 'no process of the session');
      await eventually(async () => ((await run('tmux', ['has-session', '-t', 'qemunet-s'], { env }).then(() => false, () => true)) ? true : undefined), 10000, 'the tmux session to end');
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await qemunet(['down', '--session', dir], { env });
      await tmp.remove();
    }
  });
});
