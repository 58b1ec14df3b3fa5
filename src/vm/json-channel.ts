import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { VmError, type QemunetError } from '../errors.js';
import { LineReader } from '../process/lines.js';

type Message = Record<string, unknown>;
interface Waiter {
  match: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  error: VmError;
}

/** Long enough for QMP "stop", which first flushes every disk. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60000;

export interface RequestOptions {
  signal?: AbortSignal;
  /** How long to wait for the answer; Infinity waits as long as the connection lasts. */
  timeoutMs?: number;
}

/**
 * A line-delimited JSON connection over a unix socket, as QMP and the guest agent speak it.
 * Pending requests are rejected together when the connection closes, with an error created when
 * the request was sent so its stack points at the caller.
 */
export class JsonChannel extends EventEmitter {
  private readonly reader: LineReader;
  private closed = false;
  /** Why this side closed the connection, if it did for a reason of its own. */
  private failure?: QemunetError;
  private readonly waiters: Waiter[] = [];

  private constructor(private readonly socket: Socket, readonly what: string) {
    super();
    this.reader = new LineReader(`the ${what} connection`);
    socket.on('data', (d: Buffer) => this.onData(d));
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

  /**
   * Sends a message and waits for the first message that matches. It never throws: on a closed
   * connection, at the timeout or on abort the promise rejects, and the waiter is gone. (Sending
   * after registering a waiter and throwing would leave the waiter's rejection unhandled.)
   */
  request(message: unknown, match: (m: Message) => boolean, options: RequestOptions & { prefix?: Uint8Array } = {}): Promise<Message> {
    let line: Buffer;
    try {
      line = Buffer.from(`${JSON.stringify(message)}\n`);
    } catch (e) {
      return Promise.reject(e);
    }
    if (options.prefix) line = Buffer.concat([options.prefix, line]);
    const execute = (message as { execute?: unknown } | null)?.execute;
    const reply = this.wait(match, options, typeof execute === 'string' ? ` "${execute}"` : '');
    // A closed channel has already rejected the waiter; writing to a socket that is closing fails
    // through its 'error' event, and its 'close' then rejects the waiter.
    if (!this.closed) this.socket.write(line);
    return reply;
  }

  /** Resolves with the first message that matches, or rejects when the connection closes, at the timeout, or on abort. */
  waitFor(match: (m: Message) => boolean, options: RequestOptions = {}): Promise<Message> {
    return this.wait(match, options, '');
  }

  private wait(match: (m: Message) => boolean, { signal, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS }: RequestOptions, about: string): Promise<Message> {
    // Created here, so that their stacks point at the caller.
    const error = new VmError('SOCKET_CLOSED', `the ${this.what} connection closed before it answered${about}`);
    const timeout = new VmError('REQUEST_TIMEOUT', `the ${this.what} connection did not answer${about} within ${timeoutMs / 1000} s`);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.failure ?? error);
      if (signal?.aborted) return reject(signal.reason);
      // Settling removes the waiter, its timer and its abort listener (or a long poll would pile them up on the signal).
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      const waiter: Waiter = { match, resolve: settle(resolve), reject: settle(reject), error };
      const onAbort = () => waiter.reject(signal!.reason);
      // setTimeout fires at once for a delay of 2^31 ms or more, Infinity included.
      const timer = timeoutMs < 2 ** 31 ? setTimeout(() => waiter.reject(timeout), timeoutMs) : undefined;
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    // The guest agent sends a 0xFF byte before the answer to guest-sync-delimited. That byte never
    // occurs in UTF-8, so dropping it wherever it is loses no text.
    let lines: string[];
    try {
      lines = this.reader.push(data.includes(0xff) ? Buffer.from(data.filter((b) => b !== 0xff)) : data);
    } catch (e) {
      this.failure = e as QemunetError;
      this.socket.destroy();
      return;
    }
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      let msg: Message;
      try {
        msg = JSON.parse(line) as Message;
      } catch {
        continue;
      }
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.waiters[i]!.resolve(msg);
      else this.emit('message', msg);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.reject(this.failure ?? w.error);
    this.emit('close');
  }
}
