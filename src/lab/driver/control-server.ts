import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { QemunetError } from '../../errors.js';
import { LineReader } from '../../process/lines.js';
import { PRIVATE_UMASK, withUmask } from '../../process/umask.js';
import {
  checkResult, MAX_REQUEST_BYTES, parseRequest,
  type ControlCommand, type ControlNotification, type Reply,
} from '../../protocol/session-protocol.js';

// The commands, their results and the notifications are declared once, in protocol/.
export type { CommandName, CommandOf, ControlCommand, ControlNotification, ResultOf } from '../../protocol/session-protocol.js';

/** One client connection: what it started is undone when it closes. */
export interface ControlConnection {
  onClose(undo: () => Promise<unknown>): void;
  /** Pushes a notification line (after the reply to the request that asked for them). */
  notify(message: ControlNotification): void;
}

/**
 * The control socket of a running session (`<session>/qemunet.ctl`): other qemunet processes ask
 * the one driving the session to freeze its VMs for a consistent save, thaw them, restart a
 * crashed host, or stop the session. One JSON request per line, one JSON reply per line, each
 * request checked against the protocol's declaration before the handler sees it: a bad one gets a
 * typed refusal and the connection goes on.
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
      const reader = new LineReader('a control client', MAX_REQUEST_BYTES);
      const undos: Array<() => Promise<unknown>> = [];
      // Notifications wait until the reply that started them is written, so they never come first.
      let replied = Promise.resolve();
      let cut = false;
      const conn: ControlConnection = {
        onClose: (undo) => undos.push(undo),
        notify: (message) => void replied.then(() => socket.writable && socket.write(`${JSON.stringify(message)}\n`)),
      };
      socket.on('error', () => {});
      socket.on('close', () => undos.splice(0).forEach((undo) => void undo().catch(() => {})));
      socket.on('data', (d: Buffer) => {
        if (cut) return;
        let lines: string[];
        try {
          lines = reader.push(d);
        } catch (e) {
          // An oversized line: the rest of it is not read. The refusal is written after the replies
          // already on their way; a client still sending is cut off a second later.
          cut = true;
          const error = e as QemunetError;
          replied = replied.then(() => void socket.end(`${JSON.stringify({ ok: false, code: error.code, message: error.message } satisfies Reply)}\n`));
          setTimeout(() => socket.destroy(), 1000).unref();
          return;
        }
        for (const line of lines) {
          const replying = answer(line, (c) => handle(c, conn)).then((reply) => {
            if (socket.writable) socket.write(`${JSON.stringify(reply)}\n`);
          });
          replied = replied.then(() => replying);
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

  /**
   * Ends every client connection too: a held one (a running `capture`) would otherwise keep the close
   * waiting. Ended, not destroyed, so a subscriber still gets what was pushed last (the final phase);
   * a client that does not let go within a second is cut off.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.clients) {
      socket.end();
      const cut = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => clearTimeout(cut));
    }
    await closed;
    await rm(this.path, { force: true });
  }
}

/** One request line: checked, handled, and the handler's result checked against the declaration too. */
async function answer(line: string, handle: (c: ControlCommand) => Promise<unknown>): Promise<Reply> {
  try {
    const command = parseRequest(line);
    return { ok: true, result: checkResult(command.cmd, await handle(command)) };
  } catch (e) {
    return e instanceof QemunetError ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'CONTROL_FAILED', message: (e as Error).message };
  }
}

