import { connect } from 'node:net';
import { SessionError } from '../../errors.js';
import { LineReader } from '../../process/lines.js';
import { encodeRequest, parseNotification, parseReply, type CommandName, type CommandOf, type ControlNotification, type ResultOf } from '../../protocol/session-protocol.js';

/*
 * A client of a running session's control socket (`<session>/qemunet.ctl`, served by
 * driver/control-server.ts): one request line, its reply, then the notifications it asked for.
 */

/** Sends one command to a session's control socket and waits for its answer. */
export async function controlRequest<K extends CommandName>(path: string, command: CommandOf<K>, timeoutMs = 120000): Promise<ResultOf<K>> {
  const held = await controlHold(path, command, timeoutMs);
  held.close();
  return held.result;
}

/** Sends a command and keeps the connection open: what it started lasts until `close()` (or this process ends). */
export function controlHold<K extends CommandName>(
  path: string,
  command: CommandOf<K>,
  timeoutMs = 120000,
  onNotification?: (n: ControlNotification) => void,
): Promise<{ result: ResultOf<K>; close(): void; closed: Promise<void> }> {
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
    socket.on('connect', () => socket.write(encodeRequest(command)));
    socket.once('close', () => {
      clearTimeout(timer);
      if (!answered) reject(new SessionError('SESSION_NOT_RUNNING', `the session's qemunet process closed the control connection without answering "${command.cmd}"; is the session stopping?`));
    });
    socket.on('data', (d: Buffer) => {
      if (answered) {
        if (onNotification) readNotifications(d);
        return;
      }
      let result: ResultOf<K>;
      let rest: string[];
      try {
        const [line, ...more] = reader.push(d);
        if (line === undefined) return;
        rest = more;
        result = parseReply(line, command.cmd as K);
      } catch (e) {
        answered = true;
        clearTimeout(timer);
        socket.destroy();
        reject(e);
        return;
      }
      answered = true;
      clearTimeout(timer);
      resolve({ result, close: () => socket.end(), closed });
      rest.forEach(deliver);
    });
    const deliver = (line: string) => {
      const notification = parseNotification(line);
      // Not a notification of this protocol: this is not a qemunet session of this version talking.
      if (notification) onNotification?.(notification);
      else socket.destroy();
    };
    const readNotifications = (d: Buffer) => {
      try {
        reader.push(d).forEach(deliver);
      } catch {
        socket.destroy();
      }
    };
  });
}

/**
 * Subscribes to a session's state: resolves with the state at once; `onEvent` then gets every
 * pushed notification until `close()`, or until the session goes (then `closed` resolves).
 */
export async function controlSubscribe(path: string, onEvent: (n: ControlNotification) => void, timeoutMs = 30000): Promise<{ result: ResultOf<'subscribe'>; close(): void; closed: Promise<void> }> {
  return controlHold(path, { cmd: 'subscribe' }, timeoutMs, onEvent);
}
