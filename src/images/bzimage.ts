import { ImageError } from '../errors.js';

/** Where the compressed kernel sits inside an x86 bzImage, and how it is compressed. */
export interface BzImagePayload {
  offset: number;
  length: number;
  compression: 'xz' | 'gzip' | 'zstd' | 'lzma' | 'lz4' | 'bzip2' | 'lzo' | 'unknown';
}

const MAGICS: ReadonlyArray<[BzImagePayload['compression'], number[]]> = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
];

/**
 * Reads the boot protocol header (Documentation/arch/x86/boot.rst): the protected-mode code starts
 * after (setup_sects + 1) sectors, and payload_offset/payload_length (protocol 2.08+) locate the
 * compressed vmlinux inside it. Decompressing that payload gives the ELF kernel that QEMU can boot
 * through its PVH entry, skipping the slow in-guest decompression under TCG.
 */
export function findBzImagePayload(image: Uint8Array): BzImagePayload {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.byteLength < 0x260 || view.getUint32(0x202, true) !== 0x53726448 /* "HdrS" */) {
    throw new ImageError('KERNEL_FORMAT', 'the kernel file is not an x86 bzImage (no "HdrS" boot header)');
  }
  const protocol = view.getUint16(0x206, true);
  if (protocol < 0x208) {
    throw new ImageError('KERNEL_FORMAT', `the bzImage boot protocol ${protocol.toString(16)} is older than 2.08 and has no payload fields`);
  }
  const setupSects = image[0x1f1] || 4;
  const offset = (setupSects + 1) * 512 + view.getUint32(0x248, true);
  const length = view.getUint32(0x24c, true);
  if (offset + length > image.byteLength) {
    throw new ImageError('KERNEL_FORMAT', 'the bzImage payload runs past the end of the file (truncated kernel?)');
  }
  const head = image.subarray(offset, offset + 8);
  const found = MAGICS.find(([, magic]) => magic.every((b, i) => head[i] === b));
  return { offset, length, compression: found ? found[0] : 'unknown' };
}

/**
 * The decompressed payload is the ELF followed by relocation data; QEMU only needs the ELF, whose
 * end is the end of its section header table.
 */
export function elfLength(elf: Uint8Array): number {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.byteLength < 64 || view.getUint32(0, false) !== 0x7f454c46) {
    throw new ImageError('KERNEL_FORMAT', 'the decompressed kernel is not an ELF file');
  }
  if (elf[4] !== 2) throw new ImageError('KERNEL_FORMAT', 'the decompressed kernel is not a 64-bit ELF');
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const end = shoff + shentsize * shnum;
  if (end > elf.byteLength) throw new ImageError('KERNEL_FORMAT', 'the decompressed kernel ELF is truncated');
  return end;
}
