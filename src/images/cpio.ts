/** One entry of an initramfs: the kernel unpacks "newc" cpio archives. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

function record(ino: number, mode: number, name: string, data: Uint8Array, rdev = [0, 0]): Uint8Array[] {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const header =
    '070701' +
    [ino, mode, 0, 0, 1, 0, data.byteLength, 0, 0, rdev[0], rdev[1], nameBytes.byteLength, 0].map(hex8).join('');
  const head = new TextEncoder().encode(header);
  return [head, nameBytes, pad4(head.byteLength + nameBytes.byteLength), data, pad4(data.byteLength)];
}

/** Builds an uncompressed newc archive, owned by root, with deterministic inode numbers and times. */
export function buildCpio(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  entries.forEach((e, i) => {
    const path = e.path.replace(/^\/+/, '');
    const ino = i + 1;
    if (e.kind === 'dir') parts.push(...record(ino, S_IFDIR | (e.mode ?? 0o755), path, new Uint8Array()));
    else if (e.kind === 'file') parts.push(...record(ino, S_IFREG | (e.mode ?? 0o644), path, e.data));
    else if (e.kind === 'symlink') parts.push(...record(ino, S_IFLNK | 0o777, path, new TextEncoder().encode(e.target)));
    else parts.push(...record(ino, S_IFCHR | (e.mode ?? 0o600), path, new Uint8Array(), [e.major, e.minor]));
  });
  parts.push(...record(0, 0, 'TRAILER!!!', new Uint8Array()));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
