/**
 * The qcow2 overlay `qemu-img create -f qcow2 -F raw -b BASE` makes, written by qemunet itself: a
 * session of 64 hosts otherwise starts 64 qemu-img processes before its first VM. Only this one
 * layout is written (qcow2 version 3, 64 KiB clusters, no data yet): a header with the backing
 * format, the backing file's name, one refcount table and block, and an empty L1 table. Checked
 * against `qemu-img check` and `qemu-img info` in the tests; anything outside it is left to qemu-img.
 */
const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
const HEADER_LENGTH = 112;
const MAGIC = 0x514649fb; // 'QFI\xfb'
const BACKING_FORMAT_EXTENSION = 0xe2792aca;
/** Bytes of guest data one L2 table maps: 8192 entries of a cluster each. */
const L2_COVERS = (CLUSTER / 8) * CLUSTER;
/** QEMU refuses longer backing file names. */
const MAX_BACKING_NAME = 1023;

const REFCOUNT_TABLE_AT = CLUSTER;
const REFCOUNT_BLOCK_AT = 2 * CLUSTER;
const L1_AT = 3 * CLUSTER;

/** The overlay's bytes, or undefined for what this layout does not cover (qemu-img makes those). */
export function qcow2Overlay(backingFile: string, virtualSize: number): Buffer | undefined {
  const name = Buffer.from(backingFile);
  const l1Entries = Math.ceil(virtualSize / L2_COVERS);
  // A size QEMU would round, a name QEMU refuses, or an L1 table over one cluster: not this layout.
  if (virtualSize <= 0 || virtualSize % 512 !== 0 || name.length === 0 || name.length > MAX_BACKING_NAME || l1Entries * 8 > CLUSTER) return undefined;
  const ext = Buffer.alloc(8 + 8 + 8); // the backing format "raw" (padded to 8), then the end of the extensions
  ext.writeUInt32BE(BACKING_FORMAT_EXTENSION, 0);
  ext.writeUInt32BE(3, 4);
  ext.write('raw', 8, 'ascii');
  const nameAt = HEADER_LENGTH + ext.length;
  const file = Buffer.alloc(L1_AT + l1Entries * 8);
  file.writeUInt32BE(MAGIC, 0);
  file.writeUInt32BE(3, 4); // version
  file.writeBigUInt64BE(BigInt(nameAt), 8);
  file.writeUInt32BE(name.length, 16);
  file.writeUInt32BE(CLUSTER_BITS, 20);
  file.writeBigUInt64BE(BigInt(virtualSize), 24);
  // crypt_method 0 at 32
  file.writeUInt32BE(l1Entries, 36);
  file.writeBigUInt64BE(BigInt(L1_AT), 40);
  file.writeBigUInt64BE(BigInt(REFCOUNT_TABLE_AT), 48);
  file.writeUInt32BE(1, 56); // refcount table clusters
  // no snapshots (60, 64); no incompatible, compatible or autoclear features (72, 80, 88)
  file.writeUInt32BE(4, 96); // refcount order: 16-bit refcounts
  file.writeUInt32BE(HEADER_LENGTH, 100);
  // compression type 0 (zlib) at 104, padding to 112
  ext.copy(file, HEADER_LENGTH);
  name.copy(file, nameAt);
  file.writeBigUInt64BE(BigInt(REFCOUNT_BLOCK_AT), REFCOUNT_TABLE_AT);
  // Clusters 0-3 (header, refcount table, refcount block, L1 table) are each used once.
  for (let c = 0; c < 4; c++) file.writeUInt16BE(1, REFCOUNT_BLOCK_AT + 2 * c);
  return file;
}

/** The backing file named in a qcow2 header, or undefined when the bytes are not a qcow2 header that names one. */
export function qcow2BackingFile(header: Buffer): string | undefined {
  if (header.length < 20 || header.readUInt32BE(0) !== MAGIC) return undefined;
  const at = Number(header.readBigUInt64BE(8));
  const size = header.readUInt32BE(16);
  if (at === 0 || size === 0 || at + size > header.length) return undefined;
  return header.subarray(at, at + size).toString();
}

const DATA_FILE_EXTENSION = 0x44415441; // 'DATA': the name of an external data file
const INCOMPATIBLE_DATA_FILE = 1n << 2n;
/** dirty, corrupt, external data file, compression type, extended L2 entries: every bit qcow2 defines. */
const KNOWN_INCOMPATIBLE = 0b11111n;

/**
 * Why QEMU must not open this overlay, or undefined when it may. An overlay can come from a session
 * archive (another person's file): qcow2 lets its header name an external data file, which QEMU,
 * running as root, opens for reading and writing beside the overlay, so a crafted overlay would read
 * or overwrite any file of the machine. qemunet's overlays have no data file, no encryption and no
 * feature this reader does not know. Reads only the header (the first cluster), never the files it names.
 */
export function qcow2Refusal(header: Buffer): string | undefined {
  if (header.length < 72 || header.readUInt32BE(0) !== MAGIC) return 'it is not a qcow2 image';
  const version = header.readUInt32BE(4);
  if (version !== 2 && version !== 3) return `its qcow2 version ${version} is neither 2 nor 3`;
  if (header.readUInt32BE(32) !== 0) return 'it is encrypted';
  if (version === 3) {
    if (header.length < 104) return 'its header is cut short';
    const incompatible = header.readBigUInt64BE(72);
    if (incompatible & INCOMPATIBLE_DATA_FILE) return 'it keeps its data in an external file';
    if (incompatible & ~KNOWN_INCOMPATIBLE) return `it uses qcow2 features qemunet does not know (incompatible bits 0x${incompatible.toString(16)})`;
  }
  for (const ext of extensions(header, version === 3 ? header.readUInt32BE(100) : 72)) {
    if (ext === 'cut') return 'its header extensions run past its first cluster';
    if (ext.type === DATA_FILE_EXTENSION) return 'its header names an external data file';
  }
  return undefined;
}

/** The backing file's format its header records ("raw" in qemunet's overlays), or undefined. */
export function qcow2BackingFormat(header: Buffer): string | undefined {
  if (header.length < 104 || header.readUInt32BE(0) !== MAGIC) return undefined;
  for (const ext of extensions(header, header.readUInt32BE(4) === 3 ? header.readUInt32BE(100) : 72)) {
    if (ext === 'cut') return undefined;
    if (ext.type === BACKING_FORMAT_EXTENSION) return ext.data.toString('latin1');
  }
  return undefined;
}

/** The header extensions from `at` to the end marker; 'cut' when they run past the bytes read. */
function* extensions(header: Buffer, at: number): Generator<{ type: number; data: Buffer } | 'cut'> {
  for (;;) {
    if (at + 8 > header.length) return yield 'cut';
    const type = header.readUInt32BE(at);
    const length = header.readUInt32BE(at + 4);
    if (type === 0) return;
    if (at + 8 + length > header.length) return yield 'cut';
    yield { type, data: header.subarray(at + 8, at + 8 + length) };
    at += 8 + Math.ceil(length / 8) * 8;
  }
}
