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
