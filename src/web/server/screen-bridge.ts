import type { Duplex } from 'node:stream';
import { isName, MAX_NAME_LENGTH } from '../../protocol/names.js';
import type { WebSocket } from 'ws';
import { isQemunetError, upgradeRefusalStatus } from '../../errors.js';
import type { WebSession } from './session-source.js';
import { WsBackpressure } from './ws-backpressure.js';

/**
 * A host's screen in the page: the browser's noVNC speaks RFB over /ws/screen/HOST, and this
 * module joins that websocket to the host's VNC server on its private unix socket. QEMU's own
 * websocket VNC is never used: it would listen on TCP and accept any Origin.
 */

/** Host names as topologies allow them (letters, digits, `_ . -`), short enough for a socket path. */

export type HostRequest = { host: string } | { status: 400; message: string };

/**
 * The host a websocket path `/ws/KIND/HOST` names; undefined for any other path. A malformed escape
 * or a name no topology allows is a 400 (never an exception). Pure.
 */
export function hostRequest(pathname: string, kind: 'console' | 'screen'): HostRequest | undefined {
  const prefix = `/ws/${kind}/`;
  if (!pathname.startsWith(prefix) || pathname.indexOf('/', prefix.length) >= 0) return undefined;
  const raw = pathname.slice(prefix.length);
  let host: string;
  try {
    host = decodeURIComponent(raw);
  } catch {
    return { status: 400, message: `${JSON.stringify(raw)} is not a well-formed host name` };
  }
  return isName(host) ? { host } : { status: 400, message: `${JSON.stringify(host)} is not a host name (letters, digits, _ . - and at most ${MAX_NAME_LENGTH} of them)` };
}

export type ScreenRequest = HostRequest;

/** The host a /ws/screen/HOST path asks the screen of; undefined for another path. Pure. */
export function screenRequest(pathname: string): ScreenRequest | undefined {
  return hostRequest(pathname, 'screen');
}

/** The HTTP status refusing an upgrade for a session's error: no such screen 404, not running now 503. Pure. */
export function screenRefusal(e: unknown): { status: 404 | 500 | 503; message: string } {
  return { status: isQemunetError(e) ? upgradeRefusalStatus(e.code) : 500, message: (e as Error).message };
}

/**
 * Answers an authenticated upgrade to /ws/screen/HOST: connects to the host's VNC server first, so
 * that an unknown host, a host without a VNC screen or one not running is refused with its reason
 * (as HTTP, before any websocket exists), then hands the connection over to `accept`.
 */
export async function upgradeScreen(session: WebSession, request: ScreenRequest, socket: Duplex, refuse: (socket: Duplex, status: number, message: string) => void, accept: (vnc: Duplex) => void): Promise<void> {
  if (!('host' in request)) return refuse(socket, request.status, request.message);
  let vnc: Duplex;
  try {
    vnc = await session.openScreen(request.host);
  } catch (e) {
    const r = screenRefusal(e);
    return refuse(socket, r.status, r.message);
  }
  // The browser gave up while we connected.
  if (socket.destroyed) return void vnc.destroy();
  // Whatever becomes of the handshake (a server closing refuses it), the VNC connection ends with the browser's.
  socket.once('close', () => vnc.destroy());
  accept(vnc);
}

/**
 * Pumps RFB bytes between the browser and the VNC server, as binary frames. A browser that reads
 * slowly pauses the reading of the VNC socket (QEMU then sends fewer, merged updates: the screen
 * lags, no memory grows); a VNC server that reads slowly pauses the websocket. Either side closing
 * closes the other: the page reconnects (a restarted VM gets a new VNC server on the same path).
 */
export function bridgeScreen(ws: WebSocket, vnc: Duplex): void {
  const flow = new WsBackpressure(ws, () => vnc.pause(), () => vnc.resume());
  let inputPaused = false;
  vnc.on('data', (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(d, { binary: true });
    flow.check();
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return ws.close(1003, 'RFB bytes travel in binary frames');
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!vnc.write(bytes) && !inputPaused) {
      inputPaused = true;
      ws.pause();
      vnc.once('drain', () => {
        inputPaused = false;
        ws.resume();
      });
    }
  });
  vnc.once('close', () => {
    flow.dispose();
    if (ws.readyState === ws.OPEN) ws.close(4000, 'the VNC server closed (the host stopped or restarted)');
  });
  ws.once('close', () => {
    flow.dispose();
    vnc.destroy();
  });
  vnc.on('error', () => {});
  ws.on('error', () => {});
}
