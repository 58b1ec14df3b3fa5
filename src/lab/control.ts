import { rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { QemunetError, SessionError } from '../errors.js';

export type ControlCommand = { cmd: 'freeze' } | { cmd: 'thaw' } | { cmd: 'restart'; host: string };
type Reply = { ok: true; result: unknown } | { ok: false; code: string; message: string };

/**
 * The control socket of a running session (`<session>/qemunet.ctl`): other qemunet processes ask
 * the one driving the session to freeze its VMs for a consistent save, thaw them, or restart a
 * crashed host. One JSON request per line, one JSON reply per line.
 */
export class ControlServer {
  private constructor(
    private readonly server: Server,
    private readonly path: string,
  ) {}

  static async listen(path: string, handle: (c: ControlCommand) => Promise<unknown>): Promise<ControlServer> {
    await rm(path, { force: true });
    const server = createServer((socket) => {
      let buffer = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        buffer += d.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          void answer(line, handle).then((reply) => socket.writable && socket.write(`${JSON.stringify(reply)}\n`));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    return new ControlServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
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
export function controlRequest(path: string, command: ControlCommand, timeoutMs = 120000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SessionError('CONTROL_TIMEOUT', `the session did not answer "${command.cmd}" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new SessionError('SESSION_NOT_RUNNING', `cannot reach the session's qemunet process (${e.code}); is the session running?`));
    });
    socket.on('connect', () => socket.write(`${JSON.stringify(command)}\n`));
    socket.on('data', (d) => {
      buffer += d.toString();
      if (!buffer.includes('\n')) return;
      clearTimeout(timer);
      socket.destroy();
      const reply = JSON.parse(buffer.slice(0, buffer.indexOf('\n'))) as Reply;
      if (reply.ok) resolve(reply.result);
      else reject(new QemunetError(reply.code, reply.message));
    });
  });
}
