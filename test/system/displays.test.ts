import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SessionState } from '../../src/lab/state.js';
import { processAlive } from '../../src/process/alive.js';
import { run } from '../../src/process/run.js';
import { alivePids, eventually, leftovers, qemunet, qemunetForeground, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** An X server of the test's own (Xvfb on a free display number), so the windows are real but private. */
async function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const fd = child.stdio[3] as NodeJS.ReadableStream;
  let out = '';
  const display = await new Promise<string>((resolve, reject) => {
    fd.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    child.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  return { display, child };
}

/** The id of the visible window whose name matches, once it is there. */
function windowOf(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  return eventually(async () => {
    const r = await run('xdotool', ['search', '--onlyvisible', '--name', name], { env }).catch(() => undefined);
    return r?.stdout.trim().split('\n')[0] || undefined;
  }, 30000, `a window named ${name}`);
}

/** Types a command line into a window, as a person at the keyboard would (XTEST key events). */
async function typeInto(window: string, line: string, env: NodeJS.ProcessEnv): Promise<void> {
  await run('xdotool', ['windowraise', window], { env });
  await run('xdotool', ['windowfocus', '--sync', window], { env });
  await run('xdotool', ['type', '--delay', '60', line], { env });
  await run('xdotool', ['key', 'Return'], { env });
}

/** Waits until a file exists in the guest, seen through the guest agent (`qemunet exec`). */
async function guestHas(host: string, file: string, dir: string): Promise<void> {
  await eventually(async () => ((await qemunet(['exec', host, '--session', dir, '--', 'test', '-e', file])).code === 0 ? true : undefined), 20000, `${file} in ${host}`);
}

/** Bright pixels in a window below its top `skip` rows (a toolkit's menu bar), and their share: text on the guest's black screen. */
async function brightPixels(window: string, env: NodeJS.ProcessEnv, file: string, skip: number): Promise<{ count: number; share: number }> {
  await run('import', ['-window', window, '-depth', '8', file], { env });
  const ppm = await readFile(file);
  // P6\n<w> <h>\n255\n<rgb...>
  const m = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.subarray(0, 40).toString('latin1'))!;
  const [w, h, start] = [Number(m[1]), Number(m[2]), m[0].length];
  let bright = 0;
  for (let i = start + w * 3 * skip; i + 2 < ppm.length; i += 3) if (ppm[i]! + ppm[i + 1]! + ppm[i + 2]! > 384) bright++;
  return { count: bright, share: bright / (w * (h - skip)) };
}

/** The first bytes of an RFB (VNC) handshake: the server's version, then the security types it offers. */
async function rfbSecurityTypes(port: number): Promise<number[]> {
  const s = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  await eventually(() => (Buffer.concat(chunks).length >= 12 ? true : undefined), 10000, 'the RFB version');
  assert.equal(Buffer.concat(chunks).subarray(0, 12).toString(), 'RFB 003.008\n');
  s.write('RFB 003.008\n');
  const types = await eventually(() => {
    const b = Buffer.concat(chunks).subarray(12);
    return b.length >= 1 && b.length >= 1 + b[0]! ? [...b.subarray(1, 1 + b[0]!)] : undefined;
  }, 10000, 'the RFB security types');
  s.destroy();
  return types;
}

async function started(dir: string): Promise<SessionState> {
  return eventually(async () => {
    const s = await stateOf(dir);
    return s && s.phase === 'running' && s.hosts.every((h) => h.state === 'ready') ? s : undefined;
  }, 240000, 'every host ready');
}

describe('display modes under Xvfb', { timeout: 900000 }, () => {
  let x: { display: string; child: ChildProcess };
  let env: NodeJS.ProcessEnv;
  before(async () => {
    await tinyImage();
    x = await startXvfb();
    env = { ...process.env, DISPLAY: x.display };
  });
  after(() => {
    x?.child.kill();
  });

  test('graphic: QEMU window shows the guest screen and its keys reach the shell on tty1; vnc on TCP asks for a password', async () => {
    const tmp = suiteDir('graphic');
    const dir = join(tmp.path, 's');
    try {
      const topo = join(tmp.path, 'g.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny/graphic g s1\nHOST tiny/vnc t s1\n');
      const r = await qemunet(['up', topo, '-K', '--display-tcp', '--wait', '--session', dir], { env });
      assert.equal(r.code, 0, r.stderr);
      const win = await windowOf('^QEMU \\(g\\)$', env);
      await typeInto(win, 'touch /tmp/typed', env);
      await guestHas('g', '/tmp/typed', dir);
      // Text (the prompt and the typed line) on the guest's black screen, below GTK's menu bar.
      // (Two short lines of text light a few hundred pixels; a blank or SeaBIOS-only screen none.)
      const bright = await brightPixels(win, env, join(tmp.path, 'g.ppm'), 40);
      assert.ok(bright.count > 100 && bright.share < 0.2, `the window shows a text screen (${bright.count} bright pixels, ${bright.share})`);

      const status = JSON.parse((await qemunet(['status', '--session', dir, '--json'])).stdout) as SessionState;
      const g = status.hosts.find((h) => h.name === 'g')!;
      assert.deepEqual(g.screen, { kind: 'window', connect: `QEMU's window "QEMU (g)" on X display ${x.display}` });
      const t = status.hosts.find((h) => h.name === 't')!.screen!;
      assert.equal(t.kind, 'vnc');
      assert.equal(t.address, '127.0.0.1');
      assert.match(t.password ?? '', /^[A-Za-z0-9_-]{8}$/);
      assert.deepEqual(await rfbSecurityTypes(t.port!), [2], 'VNC authentication only: no client gets in without the password');
      assert.equal((await stat(join(dir, 'qemunet-state.json'))).mode & 0o077, 0, 'the state file, which holds the password, is owner-only');
      assert.equal((await stat(join(dir, 't.vv'))).mode & 0o077, 0);
    } finally {
      await qemunet(['down', '--session', dir]);
      await tmp.remove();
    }
  });

  test('a mixed lab (serial, vnc, spice) with -V: every host ready, the viewers type into their guests, and go at the end', async () => {
    const tmp = suiteDir('mixed');
    const dir = join(tmp.path, 's');
    try {
      const topo = join(tmp.path, 'm.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny/none ser s1\nHOST tiny/vnc v s1\nHOST tiny/spice sp s1\n');
      const r = await qemunet(['up', topo, '-K', '-V', '--wait', '--session', dir], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^screen of v \\(vnc\\): xtigervncviewer ${dir}/v.vnc$`, 'm'));
      assert.match(r.stdout, new RegExp(`^screen of sp \\(spice\\): remote-viewer --title sp spice\\+unix://${dir}/sp.spice$`, 'm'));
      const state = (await stateOf(dir))!;
      assert.deepEqual(state.hosts.map((h) => [h.name, h.state]), [['ser', 'ready'], ['v', 'ready'], ['sp', 'ready']]);
      assert.equal(state.hosts.find((h) => h.name === 'ser')!.screen, undefined);
      assert.equal(state.hosts.find((h) => h.name === 'v')!.screen!.socket, join(dir, 'v.vnc'));
      for (const sock of ['v.vnc', 'sp.spice']) assert.equal((await stat(join(dir, sock))).mode & 0o077, 0, `${sock} is owner-only`);

      await typeInto(await windowOf('^QEMU \\(v\\) - TigerVNC$', env), 'touch /tmp/typed-vnc', env);
      await guestHas('v', '/tmp/typed-vnc', dir);
      await typeInto(await windowOf('^sp \\(1\\)$', env), 'touch /tmp/typed-spice', env);
      await guestHas('sp', '/tmp/typed-spice', dir);

      const viewers = (await run('pgrep', ['-f', `(xtigervncviewer|remote-viewer).*${dir}`])).stdout.trim().split('\n').map(Number);
      assert.equal(viewers.length, 2);
      assert.equal((await qemunet(['down', '--session', dir])).code, 0);
      await eventually(() => (viewers.some(processAlive) ? undefined : true), 10000, 'the viewers to end with the session');
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await qemunet(['down', '--session', dir]);
      await tmp.remove();
    }
  });

  test('screen: one GNU screen window per host; none after a SIGKILL of the foreground qemunet', async () => {
    const tmp = suiteDir('screen');
    // A screen socket directory of the test's own, not the user's.
    const screenDir = join(tmp.path, 'screens');
    await mkdir(screenDir, { mode: 0o700 });
    const senv = { ...env, SCREENDIR: screenDir };
    const dir = join(tmp.path, 's');
    try {
      const topo = join(tmp.path, 'two.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
      const child = qemunetForeground(['up', topo, '-K', '-d', 'screen', '--session', dir], { env: senv });
      const state = await started(dir);
      assert.equal(state.screenSession, 'qemunet-s');
      const windows = await eventually(async () => {
        const w = await run('screen', ['-S', 'qemunet-s', '-Q', 'windows'], { env: senv }).catch(() => undefined);
        return w?.stdout.includes('b') ? w.stdout : undefined;
      }, 10000, 'the screen windows');
      assert.equal(windows.trim(), '0 a  1 b');
      const status = await qemunet(['status', '--session', dir]);
      assert.match(status.stdout, /^consoles in GNU screen: screen -r qemunet-s$/m);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await eventually(() => (alivePids(sessionPids(state)).length === 0 ? true : undefined), 15000, 'no process of the session');
      await eventually(() => run('screen', ['-S', 'qemunet-s', '-Q', 'windows'], { env: senv }).then(() => undefined, () => true), 15000, 'the screen session to end');
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await qemunet(['down', '--session', dir]);
      await rm(screenDir, { recursive: true, force: true });
      await tmp.remove();
    }
  });
});
