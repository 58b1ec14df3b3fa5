import { connect, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';

/** Ctrl-], as telnet and virsh console use it. */
export const DETACH_KEY = 0x1d;

export interface AttachIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  output: NodeJS.WritableStream;
}

/**
 * Connects the terminal to a ConsoleHub socket until Ctrl-] is typed, the input ends or `signal`
 * aborts ('detached'), or the hub goes away ('closed').
 */
export async function attachConsole(socketPath: string, io: AttachIo, signal?: AbortSignal): Promise<'detached' | 'closed'> {
  const socket = await open(socketPath, signal);
  if (!socket) return 'detached';
  const { input, output } = io;
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';

  return new Promise((resolve) => {
    let done = false;
    const finish = (how: 'detached' | 'closed') => {
      if (done) return;
      done = true;
      input.off('data', onInput);
      input.off('end', onInputEnd);
      signal?.removeEventListener('abort', onAbort);
      socket.unpipe(output);
      // end(), not destroy(): what was typed just before Ctrl-] must still reach the VM. Output
      // still arriving is discarded so the socket can see the hub's end and close.
      socket.end();
      socket.resume();
      if (raw) input.setRawMode!(false);
      input.pause();
      (input as { unref?: () => void }).unref?.();
      resolve(how);
    };
    const onInput = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const key = data.indexOf(DETACH_KEY);
      const before = key < 0 ? data : data.subarray(0, key);
      if (before.length > 0 && !socket.write(before) && key < 0) {
        input.pause();
        socket.once('drain', () => done || input.resume());
      }
      if (key >= 0) finish('detached');
    };
    const onInputEnd = () => finish('detached');
    const onAbort = () => finish('detached');

    socket.pipe(output, { end: false });
    socket.once('close', () => finish('closed'));
    input.on('data', onInput);
    input.once('end', onInputEnd);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (raw) input.setRawMode!(true);
    input.resume();
    if (signal?.aborted) finish('detached');
  });
}

/** Resolves with the connected socket, or undefined when `signal` aborted first. */
function open(socketPath: string, signal?: AbortSignal): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(undefined);
    const socket = connect(socketPath);
    const onAbort = () => {
      socket.destroy();
      resolve(undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Kept for the whole connection: a reset by the hub then shows up as 'close'.
    socket.on('error', () => {});
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
          ? new QemunetError('CONSOLE_UNAVAILABLE', `the console socket ${socketPath} is not served: the host is not running`, { cause: e })
          : new QemunetError('CONSOLE_CONNECT', `cannot attach to the console ${socketPath}: ${e.message}`, { cause: e }),
      );
    });
  });
}
