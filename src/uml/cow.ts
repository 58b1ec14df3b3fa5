import { open, stat } from 'node:fs/promises';

/** UML's COW file header, version 3 (arch/um/drivers/cow_user.c), big-endian. */
const MAGIC = 0x4f4f4f4d;
const VERSION = 3;
const MTIME_AT = 8;
const SIZE_AT = 12;
const BACKING_AT = 32;
/** PATH_LEN_V3: room for the backing file's path, NUL-terminated. */
const BACKING_LEN = 4096;
export const COW_HEADER_BYTES = BACKING_AT + BACKING_LEN;

/**
 * A COW header pointing at `base` with its mtime and size. UML refuses a COW whose recorded backing
 * file's mtime differs from the base's (a session restored on another machine or image store), and one
 * whose recorded path is not the base given on its command line stats a path that is not in its jail.
 * Undefined when the header is not a version 3 COW header (nothing is changed then). Pure.
 */
export function cowHeaderFor(header: Buffer, base: string, mtimeSec: number, sizeBytes: bigint): Buffer | undefined {
  if (header.length < COW_HEADER_BYTES || header.readUInt32BE(0) !== MAGIC || header.readUInt32BE(4) !== VERSION) return undefined;
  const path = Buffer.from(base);
  if (path.length >= BACKING_LEN) return undefined;
  const out = Buffer.from(header);
  out.writeUInt32BE(mtimeSec >>> 0, MTIME_AT);
  out.writeBigUInt64BE(sizeBytes, SIZE_AT);
  out.fill(0, BACKING_AT, BACKING_AT + BACKING_LEN);
  path.copy(out, BACKING_AT);
  return out;
}

/** Points an existing COW file at `base` as it is on this machine; a missing COW is left for UML to create. */
export async function fitCowToBase(cow: string, base: string): Promise<void> {
  const file = await open(cow, 'r+').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!file) return;
  try {
    const header = Buffer.alloc(COW_HEADER_BYTES);
    await file.read(header, 0, COW_HEADER_BYTES, 0);
    const st = await stat(base);
    const fixed = cowHeaderFor(header, base, Math.floor(st.mtimeMs / 1000), BigInt(st.size));
    if (fixed && !fixed.equals(header)) await file.write(fixed, 0, COW_HEADER_BYTES, 0);
  } finally {
    await file.close();
  }
}
