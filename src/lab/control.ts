import { rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { QemunetError, SessionError } from '../errors.js';
import { LineReader } from '../process/lines.js';
import { PRIVATE_UMASK, withUmask } from '../process/umask.js';

export type ControlCommand =
  | { cmd: 'freeze' }
  | { cmd: 'thaw' }
  | { cmd: 'restart'; host: string }
  | { cmd: 'link'; host: string; nic: number; up: boolean }
  /** Lasts as long as the connection that asked for it: the capture ends when its client goes. */
  | { cmd: 'capture'; host: string; nic: number; file: string }
  | { cmd: 'capture-stop'; id: string }
  /** Stops the session (as Ctrl-C does); answered at once with the driving process's pid, which lets the session's lock go once it has stopped. */
  | { cmd: 'stop' };

/** One client connection: what it started is undone when it closes. */
export interface ControlConnection {
  onClose(undo: () => Promise<unknown>): void;
}
type Reply = { ok: true; result: unknown } | { ok: false; code: string; message: string };

/**
 * The control socket of a running session (`<session>/qemunet.ctl`): other qemunet processes ask
 * the one driving the session to freeze its VMs for a consistent save, thaw them, restart a
 * crashed host, or stop the session. One JSON request per line, one JSON reply per line.
 */
export class ControlServer {
  private constructor(
    private readonly server: Server,
    private readonly path: string,
    private readonly clients: Set<Socket>,
  ) {}

  static async listen(path: string, handle: (c: ControlCommand, conn: ControlConnection) => Promise<unknown>): Promise<ControlServer> {
    await rm(path, { force: true });
    const clients = new Set<Socket>();
    const server = createServer((socket) => {
      clients.add(socket);
      socket.once('close', () => clients.delete(socket));
      const reader = new LineReader('a control client');
      const undos: Array<() => Promise<unknown>> = [];
      const conn: ControlConnection = { onClose: (undo) => undos.push(undo) };
      socket.on('error', () => {});
      socket.on('close', () => undos.splice(0).forEach((undo) => void undo().catch(() => {})));
      socket.on('data', (d: Buffer) => {
        let lines: string[];
        try {
          lines = reader.push(d);
        } catch (e) {
          const error = e as QemunetError;
          socket.end(`${JSON.stringify({ ok: false, code: error.code, message: error.message } satisfies Reply)}\n`);
          return;
        }
        for (const line of lines) {
          void answer(line, (c) => handle(c, conn)).then((reply) => socket.writable && socket.write(`${JSON.stringify(reply)}\n`));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Owner-only: whoever can connect can make QEMU write a capture to any path.
      withUmask(PRIVATE_UMASK, () => server.listen(path, resolve));
    });
    return new ControlServer(server, path, clients);
  }

  /** Ends every client connection too: a held one (a running `capture`) would otherwise keep the close waiting. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.clients) socket.destroy();
    await closed;
    await rm(this.path, { force: true });
  }
}

async function answer(line: string, handle: (c: ControlCommand) => Promise<unknown>): Promise<Reply> {
  try {
    const command = JSON.parse(line) as ControlCommand;
    return { ok: true, result: await handle(command) };
  } catch (e) {
    return e instanceof QemunetError ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'CONTROL_FAILED', message: (e as Error).message };
  }
}

/** Sends one command to a session's control socket and waits for its answer. */
export async function controlRequest(path: string, command: ControlCommand, timeoutMs = 120000): Promise<unknown> {
  const held = await controlHold(path, command, timeoutMs);
  held.close();
  return held.result;
}

/** Sends a command and keeps the connection open: what it started lasts until `close()` (or this process ends). */
export function controlHold(path: string, command: ControlCommand, timeoutMs = 120000): Promise<{ result: unknown; close(): void; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const reader = new LineReader("the session's control socket");
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SessionError('CONTROL_TIMEOUT', `the session did not answer "${command.cmd}" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!answered) reject(new SessionError('SESSION_NOT_RUNNING', `cannot reach the session's qemunet process (${e.code}); is the session running?`));
    });
    socket.on('connect', () => socket.write(`${JSON.stringify(command)}\n`));
    socket.once('close', () => {
      clearTimeout(timer);
      if (!answered) reject(new SessionError('SESSION_NOT_RUNNING', `the session's qemunet process closed the control connection without answering "${command.cmd}"; is the session stopping?`));
    });
    socket.on('data', (d: Buffer) => {
      if (answered) return;
      let reply: Reply;
      try {
        const [line] = reader.push(d);
        if (line === undefined) return;
        reply = JSON.parse(line) as Reply;
      } catch (e) {
        answered = true;
        clearTimeout(timer);
        socket.destroy();
        reject(e instanceof QemunetError ? e : new SessionError('CONTROL_FAILED', `the session's answer to "${command.cmd}" is not JSON: ${(e as Error).message}`));
        return;
      }
      answered = true;
      clearTimeout(timer);
      if (!reply.ok) {
        socket.destroy();
        reject(new QemunetError(reply.code, reply.message));
        return;
      }
      resolve({ result: reply.result, close: () => socket.end(), closed });
    });
  });
}
