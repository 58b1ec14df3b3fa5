import { connect, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';

/**
 * The resumable console protocol of a ConsoleHub's second socket (`<host>.resume`). The raw
 * socket (`<host>.console`, what `qemunet console` uses) replays the scrollback at once; a client
 * of this one first says where it is, so a reconnect gets exactly the bytes it missed:
 *
 *   client: `QNC1 <epoch> <offset>\n`   (or `QNC1 - -\n` for everything still kept)
 *   hub:    `QNC1 <epoch> <from> <lost>\n`, then the VM's bytes from offset `from` on, live.
 *
 * Offsets count the bytes the VM printed since it started; the epoch names that start (a
 * restarted VM has a new one). `lost` is how many bytes between the asked offset and `from` the
 * hub no longer holds, or -1 when the asked epoch is not this VM start (it restarted) and what
 * the client has is from an earlier run. After the header line, bytes the client sends go to the VM.
 */
export const CURSOR_MAGIC = 'QNC1';
/** A header line longer than this is not one. */
const MAX_HEADER = 128;

export interface ConsoleCursor {
  epoch: string;
  offset: number;
}

export interface ResumePoint {
  /** Offset of the first byte the client gets. */
  from: number;
  /** Bytes skipped since the asked offset; -1 when the VM restarted since (another epoch). */
  lost: number;
}

/**
 * Where a client asking for `cursor` resumes, given the hub's epoch and the range of offsets its
 * ring still holds ([start, end)). A fresh client (no cursor) gets all that is kept; `lost` then
 * counts the earlier bytes that are not.
 */
export function resumePoint(epoch: string, start: number, end: number, cursor: ConsoleCursor | undefined): ResumePoint {
  if (!cursor) return { from: start, lost: start };
  if (cursor.epoch !== epoch || cursor.offset > end) return { from: start, lost: -1 };
  if (cursor.offset < start) return { from: start, lost: start - cursor.offset };
  return { from: cursor.offset, lost: 0 };
}

export function formatRequest(cursor: ConsoleCursor | undefined): string {
  return cursor ? `${CURSOR_MAGIC} ${cursor.epoch} ${cursor.offset}\n` : `${CURSOR_MAGIC} - -\n`;
}

/** The client's request line (without its newline); undefined cursor for a fresh attach; throws on anything else. */
export function parseRequest(line: string): ConsoleCursor | undefined {
  const m = /^QNC1 (-|[0-9a-z]{1,32}) (-|\d{1,15})$/.exec(line);
  if (!m) throw new QemunetError('CONSOLE_PROTOCOL', `not a console resume request: ${JSON.stringify(line.slice(0, 40))}`);
  if (m[1] === '-' || m[2] === '-') return undefined;
  return { epoch: m[1]!, offset: Number(m[2]) };
}

export function formatHeader(epoch: string, point: ResumePoint): string {
  return `${CURSOR_MAGIC} ${epoch} ${point.from} ${point.lost}\n`;
}

export function parseHeader(line: string): { epoch: string } & ResumePoint {
  const m = /^QNC1 ([0-9a-z]{1,32}) (\d{1,15}) (-1|\d{1,15})$/.exec(line);
  if (!m) throw new QemunetError('CONSOLE_PROTOCOL', `the console hub answered ${JSON.stringify(line.slice(0, 40))}, not a resume header`);
  return { epoch: m[1]!, from: Number(m[2]), lost: Number(m[3]) };
}

/**
 * Splits a header line off the first bytes of a stream. Returns undefined while the line is not
 * complete; throws when it is too long to be one.
 */
export function takeLine(buffered: Buffer): { line: string; rest: Buffer } | undefined {
  const nl = buffered.indexOf(0x0a);
  if (nl < 0) {
    if (buffered.length > MAX_HEADER) throw new QemunetError('CONSOLE_PROTOCOL', 'the console resume header line is too long');
    return undefined;
  }
  return { line: buffered.subarray(0, nl).toString('latin1'), rest: buffered.subarray(nl + 1) };
}

export interface ResumedConsole {
  socket: Socket;
  epoch: string;
  from: number;
  lost: number;
  /** VM bytes that came with the header. */
  first: Buffer;
}

/** Connects to a hub's resume socket and asks for the bytes after `cursor`. */
export function openResumable(path: string, cursor: ConsoleCursor | undefined, timeoutMs = 5000): Promise<ResumedConsole> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = Buffer.alloc(0);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new QemunetError('CONSOLE_TIMEOUT', `the console hub ${path} did not answer`)), timeoutMs);
    socket.on('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
          ? new QemunetError('CONSOLE_UNAVAILABLE', `the console socket ${path} is not served: the host is not running`, { cause: e })
          : new QemunetError('CONSOLE_CONNECT', `cannot attach to the console ${path}: ${e.message}`, { cause: e }),
      ),
    );
    socket.once('close', () => fail(new QemunetError('CONSOLE_UNAVAILABLE', `the console hub ${path} closed before answering`)));
    socket.once('connect', () => socket.write(formatRequest(cursor)));
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      let got;
      try {
        got = takeLine(buffered);
        if (!got) return;
        const header = parseHeader(got.line);
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('error');
        socket.on('error', () => {}); // the owner watches 'close'
        socket.removeAllListeners('close');
        socket.pause();
        resolve({ socket, ...header, first: got.rest });
      } catch (e) {
        fail(e as Error);
      }
    };
    socket.on('data', onData);
  });
}
