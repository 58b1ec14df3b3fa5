import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FakeWebSession } from '../helpers/fake-web-session.js';
import { WebSocket } from 'ws';
import { QemunetError } from '../../src/errors.js';
import { vncSocketOf } from '../../src/lab/client/screens.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import type { HostStatus, SessionState } from '../../src/lab/state.js';
import { startWebServer, type WebServer } from '../../src/web/server/http-server.js';
import { hostRequest, screenRefusal, screenRequest } from '../../src/web/server/screen-bridge.js';
import { buildView } from '../../src/web/server/view.js';

function host(name: string, o: Partial<HostStatus> = {}): HostStatus {
  return { name, system: 'tiny', base: '/b', state: 'ready', display: 'none', nics: [], console: `/s/${name}.console`, agent: true, ...o };
}

function session(hosts: HostStatus[], phase: SessionState['phase'] = 'running'): SessionState {
  return { version: 1, dir: '/s', topology: '/t.topo', pid: 1, phase, accel: 'tcg', startedAt: '', hosts, switches: [] };
}

describe('screen requests (pure)', () => {
  it('takes the host from /ws/screen/HOST only, and checks its name', () => {
    assert.equal(screenRequest('/ws/console/a'), undefined);
    assert.equal(screenRequest('/ws/screen/a/b'), undefined);
    assert.equal(screenRequest('/ws/screenx/a'), undefined);
    assert.deepEqual(screenRequest('/ws/screen/web-1.a_b'), { host: 'web-1.a_b' });
    assert.deepEqual(screenRequest('/ws/screen/%61'), { host: 'a' });
    assert.deepEqual(screenRequest('/ws/screen/'), { status: 400, message: '"" is not a host name (letters, digits, _ . - and at most 32 of them)' });
    assert.deepEqual(screenRequest('/ws/screen/..%2F..%2Fetc'), { status: 400, message: '"../../etc" is not a host name (letters, digits, _ . - and at most 32 of them)' });
    assert.deepEqual(screenRequest('/ws/screen/%E0%A4%A'), { status: 400, message: '"%E0%A4%A" is not a well-formed host name' });
    assert.deepEqual(screenRequest(`/ws/screen/${'a'.repeat(33)}`), { status: 400, message: `"${'a'.repeat(33)}" is not a host name (letters, digits, _ . - and at most 32 of them)` });
  });

  it('reads console paths the same way (a malformed escape is a 400, not an exception)', () => {
    assert.deepEqual(hostRequest('/ws/console/a', 'console'), { host: 'a' });
    assert.equal(hostRequest('/ws/screen/a', 'console'), undefined);
    assert.deepEqual(hostRequest('/ws/console/%E0', 'console'), { status: 400, message: '"%E0" is not a well-formed host name' });
  });

  it('refuses with 404 for no such screen, 503 for not now, 500 for the rest', () => {
    assert.deepEqual(screenRefusal(new QemunetError('UNKNOWN_HOST', 'm')), { status: 404, message: 'm' });
    assert.deepEqual(screenRefusal(new QemunetError('NO_VNC_SCREEN', 'm')), { status: 404, message: 'm' });
    assert.deepEqual(screenRefusal(new QemunetError('HOST_NOT_RUNNING', 'm')), { status: 503, message: 'm' });
    assert.deepEqual(screenRefusal(new QemunetError('SCREEN_UNAVAILABLE', 'm')), { status: 503, message: 'm' });
    assert.deepEqual(screenRefusal(new Error('bug')), { status: 500, message: 'bug' });
  });

  it('finds the VNC socket of a running vnc host, and says what any other host has instead', () => {
    const vnc = host('v', { display: 'vnc', screen: { kind: 'vnc', socket: '/s/v.vnc', connect: 'xtigervncviewer /s/v.vnc' } });
    const state = session([
      vnc,
      host('n'),
      host('g', { display: 'graphic', screen: { kind: 'window', connect: 'w' } }),
      host('sp', { display: 'spice', screen: { kind: 'spice', socket: '/s/sp.spice', connect: 'r' } }),
      host('t', { display: 'vnc', screen: { kind: 'vnc', address: '127.0.0.1', port: 5901, password: 'pw', connect: 'r' } }),
      host('p', { display: 'vnc', state: 'pending' }),
      host('c', { display: 'vnc', state: 'crashed', screen: { kind: 'vnc', socket: '/s/c.vnc', connect: 'x' } }),
    ]);
    assert.equal(vncSocketOf(state, 'v'), '/s/v.vnc');
    const fails = (name: string) => {
      try {
        vncSocketOf(state, name);
      } catch (e) {
        return `${(e as QemunetError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    assert.equal(fails('x'), 'UNKNOWN_HOST: session /s has no host x; hosts: v, n, g, sp, t, p, c');
    assert.equal(fails('n'), 'NO_VNC_SCREEN: host n has no screen, only its serial console (display none), not a VNC server; display vnc (HOST tiny/vnc n ...) serves it to VNC clients and the browser');
    assert.equal(fails('g'), "NO_VNC_SCREEN: host g has QEMU's own window (display graphic), not a VNC server; display vnc (HOST tiny/vnc g ...) serves it to VNC clients and the browser");
    assert.equal(fails('sp'), 'NO_VNC_SCREEN: host sp has a SPICE server (remote-viewer opens it; qemunet status says how), not a VNC server; display vnc (HOST tiny/vnc sp ...) serves it to VNC clients and the browser');
    assert.equal(fails('t'), 'NO_VNC_SCREEN: host t serves VNC on 127.0.0.1:5901 with a password (--display-tcp), which is not bridged; connect a VNC client there (qemunet status), or start without --display-tcp');
    assert.equal(fails('p'), 'HOST_NOT_RUNNING: host p is not running (pending); its screen comes back when it runs');
    assert.equal(fails('c'), 'HOST_NOT_RUNNING: host c is not running (crashed); its screen comes back when it runs');
    assert.throws(() => vncSocketOf(session([vnc], 'stopped'), 'v'), { code: 'HOST_NOT_RUNNING', message: 'host v is not running (session stopped); its screen comes back when it runs' });
  });

  it('marks in the view the hosts whose screen the page shows', () => {
    const state = session([
      host('v', { display: 'vnc', screen: { kind: 'vnc', socket: '/s/v.vnc', connect: 'x' } }),
      host('p', { display: 'vnc', state: 'pending' }),
      host('t', { display: 'vnc', screen: { kind: 'vnc', address: '127.0.0.1', port: 5901, password: 'pw', connect: 'r' } }),
      host('sp', { display: 'spice', screen: { kind: 'spice', socket: '/s/sp.spice', connect: 'r' } }),
      host('n'),
    ]);
    assert.deepEqual(buildView(state, undefined).hosts.map((h) => [h.name, h.screen ?? false]), [['v', true], ['p', true], ['t', false], ['sp', false], ['n', false]]);
  });

  it('offers faults on every NIC on a switch (a wirefilter goes in live), on a hub only with a LINK line or a wire', () => {
    const nic = (eth: string, sw: string, port: number) => ({ eth, switch: sw, port, mac: 'm' });
    const state = { ...session([host('a', { nics: [nic('eth0', 's1', 1), nic('eth1', 'h1', 1)] }), host('b', { nics: [nic('eth0', 'h1', 2)] })]), switches: [{ name: 's1', hub: false, state: 'running' as const }, { name: 'h1', hub: true, state: 'running' as const }] };
    const faultable = (wired: Set<string>) => buildView(state, undefined, wired).hosts.flatMap((h) => h.nics.map((n) => [n.ref, n.faultable]));
    assert.deepEqual(faultable(new Set()), [['a:eth0', true], ['a:eth1', false], ['b:eth0', false]]);
    assert.deepEqual(faultable(new Set(['b:eth0'])), [['a:eth0', true], ['a:eth1', false], ['b:eth0', true]]);
  });

  it("labels each NIC's faults from the session's state, whoever set them (the topology is not read for them)", () => {
    const topology = resolveTopology(parseTopology('SWITCH s1\nHOST tiny a s1 s1\nLINK a:eth1 delay=100ms\n', 't.topo'));
    const nics = [{ eth: 'eth0', switch: 's1', port: 1, mac: 'm', faults: { delay: { ms: 40, jitterMs: 10 }, lossPct: 5 } }, { eth: 'eth1', switch: 's1', port: 2, mac: 'm' }];
    const state = { ...session([host('a', { nics })]), switches: [{ name: 's1', hub: false, state: 'running' as const }] };
    assert.deepEqual(buildView(state, topology).hosts[0]!.nics.map((n) => [n.ref, n.faults]), [['a:eth0', '40 ms ±10 ms, 5 % loss'], ['a:eth1', undefined]]);
  });

  it('offers no faults on a NIC with tagged VLANs (its port cannot be split live) unless it has a LINK line', () => {
    const topology = resolveTopology(parseTopology('SWITCH s1\nHOST tiny a s1:10,20 s1:30\nHOST tiny b s1:10,20\nLINK b:eth0\n', 't.topo'));
    const state = { ...session([host('a', { nics: [{ eth: 'eth0', switch: 's1', port: 1, mac: 'm' }, { eth: 'eth1', switch: 's1', port: 2, mac: 'm' }] }), host('b', { nics: [{ eth: 'eth0', switch: 's1', port: 3, mac: 'm' }] })]), switches: [{ name: 's1', hub: false, state: 'running' as const }] };
    assert.deepEqual(buildView(state, topology).hosts.flatMap((h) => h.nics.map((n) => [n.ref, n.faultable])), [['a:eth0', false], ['a:eth1', true], ['b:eth0', true]]);
  });
});

/** A session whose one screen, v, is a unix socket server of the test's (standing in for QEMU's VNC server). */
class ScreenSession extends FakeWebSession {
  constructor(private readonly vncPath: string) {
    super();
  }
  override openScreen(name: string): Promise<Duplex> {
    if (name === 'n') return Promise.reject(new QemunetError('NO_VNC_SCREEN', 'host n has no screen, only its serial console (display none), not a VNC server'));
    if (name === 'off') return Promise.reject(new QemunetError('HOST_NOT_RUNNING', 'host off is not running (stopped)'));
    if (name !== 'v') return Promise.reject(new QemunetError('UNKNOWN_HOST', `session /nowhere has no host ${name}; hosts: v, n, off`));
    const s = connect(this.vncPath);
    return once(s, 'connect').then(() => s);
  }
}

describe('the screen websocket, bridged to a unix socket', () => {
  let dir: string;
  let vnc: Server;
  let web: WebServer;
  const peers: Socket[] = [];
  let onPeer: (s: Socket) => void = () => {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemunet-screen-'));
    vnc = createServer((s) => {
      peers.push(s);
      onPeer(s);
    });
    vnc.listen(join(dir, 'v.vnc'));
    await once(vnc, 'listening');
    web = await startWebServer({ session: new ScreenSession(join(dir, 'v.vnc')), port: 0, token: 'tok' });
  });
  after(async () => {
    await web.close();
    for (const p of peers) p.destroy();
    vnc.close();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (name: string) => `ws://127.0.0.1:${web.port}/ws/screen/${name}`;
  const opened = (name: string, headers: Record<string, string> = { Authorization: 'Bearer tok' }) =>
    new Promise<{ status: number; body: string; ws?: WebSocket }>((resolve) => {
      const ws = new WebSocket(url(name), { headers });
      ws.on('open', () => resolve({ status: 101, body: '', ws }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      ws.on('error', () => {});
    });
  const nextPeer = () => new Promise<Socket>((resolve) => (onPeer = resolve));

  it('refuses an upgrade without the token, from a foreign Origin, for a bad name, an unknown host, a host without VNC or not running, saying why', async () => {
    const own = `http://127.0.0.1:${web.port}`;
    assert.equal((await opened('v', { Origin: own })).status, 401);
    assert.equal((await opened('v', { Origin: 'http://evil.example', Authorization: 'Bearer tok' })).status, 403);
    const badConsole = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws/console/%E0`, { headers: { Authorization: 'Bearer tok' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('error', () => {});
    });
    assert.equal(badConsole, 400, 'a malformed console path is refused (it used to throw and end the server)');
    assert.deepEqual(await opened('..%2Fx'), { status: 400, body: '{"ok":false,"message":"\\"../x\\" is not a host name (letters, digits, _ . - and at most 32 of them)"}\n' });
    assert.deepEqual(await opened('zz'), { status: 404, body: '{"ok":false,"message":"session /nowhere has no host zz; hosts: v, n, off"}\n' });
    assert.deepEqual(await opened('n'), { status: 404, body: '{"ok":false,"message":"host n has no screen, only its serial console (display none), not a VNC server"}\n' });
    assert.deepEqual(await opened('off'), { status: 503, body: '{"ok":false,"message":"host off is not running (stopped)"}\n' });
    assert.equal(peers.length, 0, 'no VNC connection was made');
  });

  it('carries bytes both ways in binary frames; the VNC side closing closes the websocket', async () => {
    const peer = nextPeer();
    const { ws } = await opened('v');
    const server = await peer;
    const got: Buffer[] = [];
    ws!.on('message', (d: Buffer, binary: boolean) => binary && got.push(d));
    server.write('RFB 003.008\n');
    const fromPage = once(server, 'data');
    ws!.send(Buffer.from('RFB 003.008\n'));
    assert.equal(String((await fromPage)[0]), 'RFB 003.008\n');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(Buffer.concat(got).toString(), 'RFB 003.008\n');
    const closed = once(ws!, 'close');
    server.destroy();
    const [code, reason] = (await closed) as [number, Buffer];
    assert.deepEqual([code, reason.toString()], [4000, 'the VNC server closed (the host stopped or restarted)']);
  });

  it('the websocket closing closes the VNC connection; a text frame closes both', async () => {
    let peer = nextPeer();
    let { ws } = await opened('v');
    let server = await peer;
    let ended = once(server, 'close');
    ws!.close();
    await ended;
    peer = nextPeer();
    ({ ws } = await opened('v'));
    server = await peer;
    ended = once(server, 'close');
    const wsClosed = once(ws!, 'close');
    ws!.send('not RFB');
    assert.equal(((await wsClosed) as [number])[0], 1003);
    await ended;
  });

  it('stops reading the VNC socket while the browser does not read, and loses nothing', async () => {
    const total = 64 * 1024 * 1024;
    const peer = nextPeer();
    const { ws } = await opened('v');
    const server = await peer;
    ws!.pause();
    // A writer that respects backpressure, as QEMU does: it counts what the bridge accepted.
    let written = 0;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!server.write(chunk)) return void server.once('drain', pump);
      }
    };
    pump();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(written < 24 * 1024 * 1024, `the bridge took ${written} bytes from the VNC side while the browser read none`);
    let received = 0;
    ws!.on('message', (d: Buffer) => (received += d.length));
    ws!.resume();
    const end = Date.now() + 30000;
    while (received < total && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received, total);
    ws!.close();
  });
});
