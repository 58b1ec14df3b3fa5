import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { VmError } from '../errors.js';

/**
 * A line-delimited JSON connection over a unix socket, as QMP and the guest agent speak it.
 * Pending requests are rejected together when the connection closes, with an error created when
 * the request was sent so its stack points at the caller.
 */
export class JsonChannel extends EventEmitter {
  private buffer = '';
  private closed = false;
  private readonly waiters: Array<{ match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; error: VmError }> = [];

  private constructor(private readonly socket: Socket, readonly what: string) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => this.onClose());
    socket.on('error', () => {});
  }

  static open(path: string, what: string, signal?: AbortSignal): Promise<JsonChannel> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const onAbort = () => socket.destroy();
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(new JsonChannel(socket, what));
      });
      socket.once('error', (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new VmError('SOCKET_CONNECT', `cannot connect to the ${what} socket ${path}: ${e.message}`, { cause: e }));
      });
    });
  }

  send(message: unknown, raw = ''): void {
    if (this.closed) throw new VmError('SOCKET_CLOSED', `the ${this.what} connection is closed`);
    this.socket.write(raw + JSON.stringify(message) + '\n');
  }

  /** Resolves with the first message that matches, or rejects when the connection closes. */
  waitFor(match: (m: Record<string, unknown>) => boolean, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const error = new VmError('SOCKET_CLOSED', `the ${this.what} connection closed before it answered`);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(error);
      // The abort listener goes away with the waiter, or a long poll would pile them up on the signal.
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      const waiter = { match, resolve: settle(resolve), reject: settle(reject), error };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: string): void {
    // The guest agent may emit a 0xFF sentinel before a delimited sync reply.
    this.buffer += data.replace(/\uFFFD|\xFF/g, '');
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
      else this.emit('message', msg);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(w.error);
    this.emit('close');
  }
}
