import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/**
 * Follows a file that another process appends to (QEMU writing a capture's pcap): each `poll`
 * reads from where the previous one stopped, so following a file reads each byte once, however
 * often it polls.
 */
export class FileFollower {
  private constructor(
    private readonly fh: FileHandle,
    private offset: number,
  ) {}

  /** Follows `path` from byte `from` on (what was there before is not handed over). */
  static async open(path: string, from = 0): Promise<FileFollower> {
    return new FileFollower(await open(path, 'r'), from);
  }

  /** Where the next read starts: the start offset plus the bytes read so far. */
  get bytesRead(): number {
    return this.offset;
  }

  /** Hands over what was appended since the last poll, in chunks of at most 64 KiB; resolves with its size at the end of the file. */
  async poll(deliver: (chunk: Buffer) => void): Promise<number> {
    const start = this.offset;
    for (;;) {
      // A new buffer each time: `deliver` may keep the chunk (a pending stdout write does).
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await this.fh.read(buffer, 0, CHUNK, this.offset);
      if (!bytesRead) return this.offset - start;
      this.offset += bytesRead;
      deliver(buffer.subarray(0, bytesRead));
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
