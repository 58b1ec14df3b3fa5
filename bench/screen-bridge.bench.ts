import { FakeWebSession } from '../test/helpers/fake-web-session.js';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { startWebServer } from '../src/web/server/http-server.js';

const TOTAL = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

/** Writes TOTAL bytes as a VNC server would: as fast as its reader takes them; `written()` is what the reader took so far. */
function flood(s: Socket): { written: () => number } {
  let written = 0;
  s.on('error', () => {}); // the stalled reader is cut off at the end
  const pump = () => {
    while (written < TOTAL) {
      written += CHUNK.length;
      if (!s.write(CHUNK)) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
  return { written: () => written };
}

/**
 * What the screen bridge (/ws/screen/HOST) costs against reading QEMU's VNC socket directly: the
 * throughput of a flood of screen updates through unix socket, server, websocket and client, and
 * how much the bridge takes in while the browser reads nothing (what backpressure bounds).
 */
export async function benchScreenBridge(print: (line: string) => void): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-bench-screen-'));
  const path = join(dir, 'v.vnc');
  let onPeer: (s: Socket) => void = () => {};
  const vnc = createServer((s) => onPeer(s));
  vnc.listen(path);
  await once(vnc, 'listening');
  const session = new (class extends FakeWebSession {
    override openScreen = async (): Promise<Duplex> => {
      const s = connect(path);
      await once(s, 'connect');
      return s;
    };
  })();
  const web = await startWebServer({ session, port: 0, token: 'bench' });
  const peer = () => new Promise<Socket>((resolve) => (onPeer = resolve));
  try {
    // Directly on the unix socket, as TigerVNC reads it.
    let p = peer();
    const direct = connect(path);
    let t = performance.now();
    flood(await p);
    let got = 0;
    direct.on('data', (d: Buffer) => (got += d.length));
    await once(direct, 'end');
    const directMiBs = TOTAL / 1048576 / ((performance.now() - t) / 1000);

    // Through the bridge, as the page's noVNC reads it.
    p = peer();
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws/screen/v`, { headers: { Authorization: 'Bearer bench' } });
    await once(ws, 'open');
    t = performance.now();
    flood(await p);
    got = 0;
    ws.on('message', (d: Buffer) => (got += d.length));
    await once(ws, 'close');
    const bridgedMiBs = got / 1048576 / ((performance.now() - t) / 1000);

    // A browser that reads nothing for 2 s: what the bridge took from the VNC server meanwhile.
    p = peer();
    const stalled = new WebSocket(`ws://127.0.0.1:${web.port}/ws/screen/v`, { headers: { Authorization: 'Bearer bench' } });
    await once(stalled, 'open');
    stalled.pause();
    const writer = flood(await p);
    await new Promise((r) => setTimeout(r, 2000));
    const takenMiB = writer.written() / 1048576;
    stalled.terminate();

    const r = { totalMiB: TOTAL / 1048576, directMiBs: Math.round(directMiBs), bridgedMiBs: Math.round(bridgedMiBs), takenWhileStalledMiB: Math.round(takenMiB * 10) / 10 };
    print(`${r.totalMiB} MiB of screen updates: read directly from the VNC socket ${r.directMiBs} MiB/s, through the websocket bridge ${r.bridgedMiBs} MiB/s; a browser reading nothing for 2 s: the bridge took ${r.takenWhileStalledMiB} MiB (the rest waits in QEMU)`);
    return r;
  } finally {
    await web.close();
    vnc.close();
    await rm(dir, { recursive: true, force: true });
  }
}
