import type { WebSocket } from 'ws';
import { isQemunetError } from '../../errors.js';
import { decodeConsoleClient, type ConsoleServerMessage, type Cursor } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';
import { WsBackpressure } from './ws-backpressure.js';

const RETRY_MS = 1000;

/**
 * One browser console websocket joined to a host's console hub, by byte offset: when the hub
 * drops this client (it read too slowly) or the VM restarts, it reconnects from the offset it
 * reached and tells the page what was lost.
 */
export function bridgeConsole(ws: WebSocket, session: WebSession, host: string, cursor: Cursor | undefined): void {
  let stream: ConsoleStream | undefined;
  let position = cursor;
  let pagePaused = false;
  let waiting = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  // While the browser has a backlog, the hub is not read from (it buffers, then drops us: a gap, never a slower VM).
  const backlog = new WsBackpressure(ws, () => stream?.socket.pause(), () => flow());
  let typing = Promise.resolve();
  let attached = false;

  const send = (m: ConsoleServerMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
  const paused = () => pagePaused || backlog.paused;

  const forward = (data: Buffer) => {
    if (!position || data.length === 0) return;
    ws.send(data, { binary: true });
    position = { epoch: position.epoch, offset: position.offset + data.length };
    backlog.check();
  };

  /** Reads from the hub when nobody asked to wait; reconnects when the hub dropped us meanwhile. */
  const flow = () => {
    if (closed || paused()) return;
    if (stream) stream.socket.resume();
    else if (waiting) {
      waiting = false;
      void attach();
    }
  };

  const attach = async () => {
    retry = undefined;
    let s: ConsoleStream;
    try {
      s = await session.openConsole(host, position);
    } catch (e) {
      if (closed) return;
      send(isQemunetError(e) && e.code !== 'CONSOLE_UNAVAILABLE' ? { t: 'error', code: e.code, message: e.message } : { t: 'unavailable', host, message: (e as Error).message });
      if (isQemunetError(e) && e.code === 'UNKNOWN_HOST') return void ws.close(4404, 'unknown host');
      retry = setTimeout(() => void attach(), RETRY_MS);
      return;
    }
    if (closed) return void s.socket.destroy();
    stream = s;
    attached = true;
    position = { epoch: s.epoch, offset: s.from };
    send({ t: 'hello', host, epoch: s.epoch, from: s.from, lost: s.lost });
    forward(s.first);
    s.socket.on('data', forward);
    s.socket.once('close', () => {
      stream = undefined;
      if (closed) return;
      // Dropped by the hub, or the VM stopped: come back from where we are once the browser keeps up.
      if (paused()) waiting = true;
      else retry = setTimeout(() => void attach(), 50);
    });
    if (!paused()) s.socket.resume();
  };

  /**
   * Keys typed while the hub has dropped us (this browser fell behind a flood) and we wait for it
   * to catch up: Ctrl-C is typed exactly then. They go through a connection of their own, in order.
   */
  const typeDetached = async (bytes: Buffer) => {
    if (closed) return;
    const s = await session.openConsole(host, position).catch(() => undefined);
    if (!s) return;
    // Its output is read and dropped (this client gets it on its main connection): the hub then sees it out.
    s.socket.resume();
    await new Promise<void>((resolve) => s.socket.end(bytes, () => resolve()));
    setTimeout(() => s.socket.destroy(), 5000).unref();
  };

  ws.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (stream) stream.socket.write(bytes);
      else typing = typing.then(() => typeDetached(bytes));
      return;
    }
    const m = decodeConsoleClient(bytes.toString('utf8'));
    if (m?.t === 'pause') {
      pagePaused = true;
      stream?.socket.pause();
    } else if (m?.t === 'resume') {
      pagePaused = false;
      flow();
    } else if (m?.t === 'resize' && attached) {
      // Only once attached: the host exists.
      session.resizeConsole(host, m.cols, m.rows);
    }
  });
  ws.on('close', () => {
    closed = true;
    clearTimeout(retry);
    backlog.dispose();
    stream?.socket.destroy();
  });
  ws.on('error', () => {});
  void attach();
}
