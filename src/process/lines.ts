import { StringDecoder } from 'node:string_decoder';
import { QemunetError } from '../errors.js';

/** Far above anything qemunet's peers send, low enough that a peer gone wrong cannot exhaust memory. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * The text of a byte stream (a socket), decoded as UTF-8 and cut into lines: the one place where
 * qemunet turns received bytes into text. Decoding each chunk on its own would turn a character
 * split across two chunks into two U+FFFD; the decoder here keeps the first bytes until the rest
 * arrives. A line longer than the limit throws LINE_TOO_LONG, and the caller closes the connection.
 *
 * Line protocols use `push`. A protocol that ends a reply with a prompt rather than a newline uses
 * `append`, `text` and `skip` instead; the two styles are not meant to be mixed on one reader.
 */
export class LineReader {
  private readonly decoder = new StringDecoder('utf8');
  /** `append`'s text not yet taken. */
  private buffer = '';
  /** `push`'s text of the line not yet complete, in the pieces it came in. */
  private readonly pending: string[] = [];
  /** Bytes received since the last newline. */
  private lineBytes = 0;

  /** `peer` names the other end in the error, e.g. "the QMP connection". */
  constructor(
    private readonly peer: string,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Takes a chunk and returns the lines it completes, without their "\n" (or "\r\n"). */
  push(chunk: Buffer): string[] {
    this.countLineBytes(chunk);
    const text = this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl; (nl = text.indexOf('\n', start)) >= 0; start = nl + 1) {
      // Text held back is only joined once its line is complete: joining (or searching) it at every
      // chunk would cost the whole line each time, quadratic in a long line.
      const line = this.pending.length ? this.pending.splice(0).join('') + text.slice(start, nl) : text.slice(start, nl);
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (start < text.length) this.pending.push(text.slice(start));
    return lines;
  }

  /** Takes a chunk and keeps its text in `text`. */
  append(chunk: Buffer): void {
    this.countLineBytes(chunk);
    this.buffer += this.decoder.write(chunk);
  }

  private countLineBytes(chunk: Buffer): void {
    let from = 0;
    for (let nl; (nl = chunk.indexOf(0x0a, from)) >= 0; from = nl + 1) {
      this.check(this.lineBytes + nl - from);
      this.lineBytes = 0;
    }
    this.lineBytes += chunk.length - from;
    this.check(this.lineBytes);
  }

  /** The text received and not yet taken. */
  get text(): string {
    return this.buffer;
  }

  /** Drops the first `n` characters of `text`. */
  skip(n: number): void {
    this.buffer = this.buffer.slice(n);
  }

  private check(lineBytes: number): void {
    if (lineBytes <= this.maxLineBytes) return;
    const limit = this.maxLineBytes % (1024 * 1024) === 0 ? `${this.maxLineBytes / (1024 * 1024)} MiB` : `${this.maxLineBytes} bytes`;
    throw new QemunetError('LINE_TOO_LONG', `${this.peer} sent a line longer than ${limit}`);
  }
}
