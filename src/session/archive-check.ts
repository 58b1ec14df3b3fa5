import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SessionError } from '../errors.js';

export interface ArchiveEntry {
  /** Normalized and relative, without a leading `./`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  /** Bytes of the extracted file: for sparse files the logical size; 0 for all but files. */
  size: number;
  /** Symlinks: the target as stored. Hard links: the normalized path of the earlier entry. */
  linkTarget?: string;
  /** Permission bits, setuid, setgid and sticky included. */
  mode: number;
}

export interface ArchiveLimits {
  maxTotalBytes: number;
  maxEntries: number;
}

const BLOCK = 512;
/** Long names, pax headers and sparse maps are held in memory, so they are capped. */
const MAX_META = 1 << 20;
/** tar pads the end-of-archive marker to its record size; nobody pads this much. */
const MAX_TRAILER = 1 << 20;
const MAX_PATH = 4096;
const SPECIAL: Record<string, string> = { '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };
const ZEROS = Buffer.alloc(1 << 16);
const q = JSON.stringify;

/**
 * Lists a gzip'd tar archive and checks that GNU tar would extract it only below the current
 * directory, before anything is extracted. Streams it: file data is never held in memory.
 * Wherever GNU tar would read the archive differently from this reader, the archive is refused.
 * Extract it into an empty directory, without `-P`, `--ignore-zeros` or `-G`.
 * Messages name the archive `name`: a download names its URL rather than the file it was saved to.
 */
export async function inspectArchive(file: string, limits: ArchiveLimits, signal?: AbortSignal, name = file): Promise<ArchiveEntry[]> {
  const at: Position = { file: name };
  let entries: ArchiveEntry[] = [];
  try {
    await pipeline(createReadStream(file), createGunzip({ chunkSize: ZEROS.length }), async (source: AsyncIterable<Buffer>) => {
      entries = await readEntries(new Bytes(source[Symbol.asyncIterator]()), limits, at);
    }, { signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (e instanceof SessionError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR') throw truncated(at, err);
    if (err.code?.startsWith('Z_')) throw new SessionError('ARCHIVE_CORRUPT', `archive ${name} is corrupt: ${err.message}`, { cause: e });
    throw new SessionError('ARCHIVE_UNREADABLE', `cannot read archive ${name}: ${err.message}`, { cause: e });
  }
  if (entries.length === 0) throw new SessionError('ARCHIVE_EMPTY', `archive ${name} contains no files`);
  return entries;
}

/** Where reading stopped, for the truncation message. */
interface Position { file: string; entry?: string; last?: string }

function truncated(at: Position, cause?: unknown): SessionError {
  const where = at.entry !== undefined ? `inside entry ${q(at.entry)}` : at.last !== undefined ? `after entry ${q(at.last)}` : 'before its first entry';
  return new SessionError('ARCHIVE_CORRUPT', `archive ${at.file} is truncated: it ends ${where}`, { cause });
}

/** The tree the archive will leave on disk, to check symlinks against each other. */
interface Node { kids: Map<string, Node>; kind?: ArchiveEntry['type'] }

async function readEntries(src: Bytes, limits: ArchiveLimits, at: Position): Promise<ArchiveEntry[]> {
  const corrupt = (what: string) => new SessionError('ARCHIVE_CORRUPT', `archive ${at.file} is corrupt: ${what}`);
  const refuse = (why: string) => new SessionError('ARCHIVE_UNSAFE', `archive ${at.file} is refused: ${why}`);
  const unsafe = (name: string, why: string) => refuse(`entry ${q(name)} ${why}`);
  const tooBig = (why: string) => new SessionError('ARCHIVE_TOO_BIG', `archive ${at.file} is refused: ${why}`);
  const need = async (n: number) => {
    const b = await src.read(n);
    if (b.length < n) throw truncated(at);
    return b;
  };
  const entries: ArchiveEntry[] = [];
  const root: Node = { kids: new Map() };
  const symlinks: { dir: string[]; target: string; name: string }[] = [];
  // GNU tar keeps only the latest 'g', 'x', 'L' and 'K' header, so each one replaces the previous.
  let globals = NO_PAX;
  let local = NO_PAX;
  let longName: string | undefined;
  let longLink: string | undefined;
  let total = 0;
  for (;;) {
    const offset = src.offset;
    const h = await src.read(BLOCK);
    if (h.length === 0) break; // GNU tar, too, accepts an archive without end-of-archive blocks
    if (h.length < BLOCK) throw truncated(at);
    if (isZero(h)) {
      // GNU tar stops here: whatever follows would be checked by nobody.
      let zeros = true;
      if ((await src.each(MAX_TRAILER + 1, (b) => (zeros &&= isZero(b)))) > MAX_TRAILER || !zeros) throw corrupt(`data follows the end-of-archive marker at byte ${offset}`);
      break;
    }
    const headerName = cstr(h, 0, 100);
    if (!checksumOk(h)) throw corrupt(`the header of ${q(headerName)} at byte ${offset} has a bad checksum`);
    const flag = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
    const headerSize = num(h, 124, 12);
    if (Number.isNaN(headerSize)) throw corrupt(`the header of ${q(headerName)} at byte ${offset} has an invalid size`);
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      if (headerSize > MAX_META) throw refuse(`its extended header at byte ${offset} has ${headerSize} bytes (at most ${MAX_META})`);
      at.entry = longName ?? headerName;
      const body = await need(headerSize);
      await need(padding(headerSize));
      if (flag === 'L') longName = cstr(body, 0, headerSize);
      else if (flag === 'K') longLink = cstr(body, 0, headerSize);
      else {
        const pax = parsePax(body);
        if (!pax) throw corrupt(`the pax header at byte ${offset} is malformed`);
        if (flag === 'x') local = pax;
        else globals = pax;
      }
      continue;
    }
    const attrs = new Map([...globals.records, ...local.records]);
    // GNU tar lets GNU.sparse.name win over path, wherever each comes from.
    const name = attrs.get('GNU.sparse.name') ?? attrs.get('path') ?? longName ?? ustarName(h);
    const link = attrs.get('linkpath') ?? longLink ?? cstr(h, 157, 100);
    const size = decimal(attrs.get('size') ?? String(headerSize));
    const sparse = flag === 'S' || [...attrs.keys()].some(isSparseKey);
    const sparseOk = !sparse || (![...globals.records.keys()].some(isSparseKey) && !attrs.has('size'));
    const sequence = local.sparse;
    local = NO_PAX;
    longName = longLink = undefined;
    at.entry = name;
    if (Number.isNaN(size)) throw corrupt(`entry ${q(name)} at byte ${offset} has an invalid size`);

    const parts = split(name);
    if (name.startsWith('/')) throw unsafe(name, 'has an absolute path');
    if (parts.includes('..')) throw unsafe(name, 'has a ".." component');
    if (name.length > MAX_PATH) throw unsafe(name.slice(0, 100), `has a path of ${name.length} bytes (at most ${MAX_PATH})`);
    const isFile = flag === '0' || flag === '7' || flag === 'S';
    // A trailing slash makes a "file" a directory for GNU tar (an old convention).
    const type = flag === '5' || (isFile && name.endsWith('/')) ? 'dir' : isFile ? 'file' : flag === '1' ? 'hardlink' : flag === '2' ? 'symlink' : undefined;
    if (!type) throw unsafe(name, SPECIAL[flag] ? `is ${SPECIAL[flag]}` : `has unsupported type ${q(flag)}`);
    // GNU tar reads no data after directories and hard links; other readers do. Refuse the ambiguity.
    if (type !== 'file' && size > 0) throw unsafe(name, `is a ${type} that carries ${size} bytes of data`);
    if (parts.length === 0) {
      if (type === 'dir' && !sparse) continue; // `./`, the extraction directory itself
      throw unsafe(name, 'would replace the extraction directory');
    }
    const map = sparse ? sparseOk && type === 'file' && (await sparseMap(h, flag, attrs, sequence, size, need)) : undefined;
    if (map === false || map === null) throw unsafe(name, 'has an inconsistent sparse map');

    const path = parts.join('/');
    let node = root;
    for (const [i, part] of parts.entries()) {
      if (node.kind === 'symlink') throw unsafe(name, `lies below the symlink ${q(parts.slice(0, i).join('/'))}`);
      let next = node.kids.get(part);
      if (!next) node.kids.set(part, (next = { kids: new Map() }));
      else if (i === parts.length - 1 && (next.kind === 'symlink' || type === 'symlink')) throw unsafe(name, 'reuses the path of another entry, one of them a symlink');
      node = next;
    }
    const entry: ArchiveEntry = { path, type, size: type !== 'file' ? 0 : map ? map.real : size, mode: num(h, 100, 8) & 0o7777 };
    if (type === 'hardlink') {
      const target = split(link);
      if (link.startsWith('/') || target.includes('..')) throw unsafe(name, `is a hard link to ${q(link)}, outside the archive`);
      const kind = lookup(root, target)?.kind;
      if (kind !== 'file' && kind !== 'hardlink') throw unsafe(name, `is a hard link to ${q(link)}, which is not an earlier file of the archive`);
      entry.linkTarget = target.join('/');
    }
    node.kind = type;
    if (type === 'symlink') {
      entry.linkTarget = link;
      symlinks.push({ dir: parts.slice(0, -1), target: link, name });
      if (escapes(root, parts.slice(0, -1), link)) throw unsafe(name, `is a symlink to ${q(link)}, outside the archive`);
    }
    entries.push(entry);
    total += entry.size;
    if (entries.length > limits.maxEntries) throw tooBig(`it has more than ${limits.maxEntries} entries`);
    if (total > limits.maxTotalBytes) throw tooBig(`its files add up to more than ${limits.maxTotalBytes} bytes (at entry ${q(name)})`);
    const rest = size - (map?.mapBytes ?? 0) + padding(size);
    if ((await src.each(rest)) < rest) throw truncated(at);
    at.last = name;
    at.entry = undefined;
  }
  // A later symlink can change where an earlier one leads.
  for (const s of symlinks) if (escapes(root, s.dir, s.target)) throw unsafe(s.name, `is a symlink to ${q(s.target)}, outside the archive`);
  return entries;
}

/**
 * GNU tar extracts a sparse file fragment by fragment, reading whole blocks for each, so unless the
 * map accounts exactly for the stored bytes it would read a different stream of headers than we do.
 * Returns null for a map GNU tar would misread or that does not match the data.
 */
async function sparseMap(h: Buffer, flag: string, attrs: Map<string, string>, sequence: Pax['sparse'], size: number, need: (n: number) => Promise<Buffer>): Promise<{ real: number; mapBytes: number } | null> {
  const get = (k: string) => attrs.get(`GNU.sparse.${k}`);
  const regions: number[] = [];
  let real: number;
  let mapBytes = 0;
  const magic = h.toString('latin1', 257, 265);
  if (flag === 'S') {
    if (magic !== 'ustar  \0') return null; // otherwise GNU tar reads no extension blocks
    real = num(h, 483, 12);
    // GNU tar stops at the first empty slot and then reads no further extension blocks.
    for (let block = h, slot = 386, left = 4, more = h[482] !== 0; ; slot += 24, left--) {
      if (left === 0) {
        if (!more) break;
        [block, slot, left] = [await need(BLOCK), 0, 21];
        more = block[504] !== 0;
      }
      if (block[slot + 12] === 0) break;
      regions.push(num(block, slot, 12), num(block, slot + 12, 12));
    }
  } else {
    // star headers share the POSIX magic; GNU tar ignores sparse keywords on them and on GNU ones.
    const star = h[475] === 0 && [476, 488].every((i) => h[i]! >= 0x30 && h[i]! <= 0x37 && h[i + 11] === 0x20);
    if (!magic.startsWith('ustar\0') || star || (flag !== '0' && flag !== '7')) return null;
    const [realsize, oldSize] = [get('realsize'), get('size')];
    real = realsize !== undefined && oldSize !== undefined && realsize !== oldSize ? NaN : decimal(realsize ?? oldSize ?? '');
    if (get('major') !== undefined) {
      if (get('major') !== '1' || get('minor') !== '0' || sequence.length) return null;
      // Format 1.0 keeps the map at the start of the data: a count, then offset/size pairs, a number a line.
      const numbers: number[] = [];
      for (let text = ''; numbers.length === 0 || numbers.length < 1 + 2 * numbers[0]!; ) {
        if (mapBytes >= Math.min(size, MAX_META)) return null;
        text += (await need(BLOCK)).toString('latin1');
        mapBytes += BLOCK;
        const lines = text.split('\n');
        text = lines.pop()!;
        for (const line of lines) if (numbers.length === 0 || numbers.length < 1 + 2 * numbers[0]!) numbers.push(decimal(line));
        if (Number.isNaN(numbers[0])) return null;
      }
      regions.push(...numbers.slice(1));
    } else {
      // Formats 0.0 and 0.1: replay the records as GNU tar's decoders do, room for fragments included.
      let room = 0;
      let offset = 0;
      for (const [key, value] of sequence) {
        if (key === 'numblocks') {
          [room, offset] = [decimal(value), 0];
          regions.length = 0;
        } else if (key === 'map') {
          regions.length = 0;
          regions.push(...value.split(',').map(decimal));
          room = regions.length / 2;
        } else if (!(regions.length / 2 < room)) return null; // GNU tar would drop it
        else if (key === 'offset') offset = decimal(value);
        else {
          regions.push(offset, decimal(value));
          offset = 0;
        }
      }
    }
    if (regions.length === 0) return null; // GNU tar would take this for a plain file of the logical size
  }
  let stored = 0;
  let unaligned = false;
  for (let i = 0; i < regions.length; i += 2) {
    const [offset, bytes] = [regions[i]!, regions[i + 1]];
    // Only the last fragment with data may end inside a block, or block counts would differ.
    if (bytes === undefined || !(offset + bytes <= real) || (unaligned && bytes > 0)) return null;
    unaligned ||= bytes % BLOCK !== 0;
    stored += bytes;
  }
  return Number.isSafeInteger(real) && stored + mapBytes === size ? { real, mapBytes } : null;
}

/**
 * Follows a symlink through the archive's tree. Lexical `..` is only right while no symlink has been
 * passed through (`l/..` is not the parent of `l` when `l` is a link), so `..` after one is refused.
 */
function escapes(root: Node, dir: string[], target: string): boolean {
  if (target.startsWith('/')) return true;
  const parts = [...dir, ...split(target)];
  const stack: (Node | undefined)[] = [];
  let viaLink = false;
  for (const [i, part] of parts.entries()) {
    if (part === '..') {
      if (viaLink || stack.length === 0) return true;
      stack.pop();
      continue;
    }
    const next = (stack.length ? stack[stack.length - 1] : root)?.kids.get(part);
    stack.push(next);
    if (next?.kind === 'symlink' && i < parts.length - 1) viaLink = true;
  }
  return false;
}

function lookup(root: Node, parts: string[]): Node | undefined {
  let node: Node | undefined = root;
  for (const part of parts) node = node?.kids.get(part);
  return parts.length ? node : undefined;
}

const split = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.');
const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
const decimal = (s: string) => (/^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : NaN);
const isZero = (b: Buffer) => (b.length <= ZEROS.length ? b.equals(ZEROS.subarray(0, b.length)) : b.every((x) => x === 0));

function cstr(b: Buffer, start: number, len: number): string {
  const end = b.subarray(start, start + len).indexOf(0);
  return b.toString('utf8', start, end < 0 ? start + len : start + end);
}

function ustarName(h: Buffer): string {
  const prefix = h.toString('latin1', 257, 263) === 'ustar\0' ? cstr(h, 345, 155) : '';
  return prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100);
}

/** A numeric header field as GNU tar reads it: octal, or base-256 for big values; NaN where it errs. */
function num(h: Buffer, start: number, len: number): number {
  if (h[start]! & 0x80) {
    if (h[start]! & 0x40) return NaN; // negative
    let v = h[start]! & 0x3f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + h[i]!;
    return Number.isSafeInteger(v) ? v : NaN;
  }
  const m = /^\0?[ \t\n\v\f\r]*(?=[^])([0-7]*)(?:[\0 \t\n\v\f\r]|$)/.exec(h.toString('latin1', start, start + len));
  return m ? parseInt(m[1] || '0', 8) : NaN;
}

/** Historic tars summed signed bytes; GNU tar accepts either sum, so do we. */
function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const recorded = num(h, 148, 8);
  return recorded === unsigned || recorded === signed;
}

/** Pax records (the last of each key) and, in order, the GNU sparse map records (format 0.0 repeats them). */
interface Pax { records: Map<string, string>; sparse: [string, string][] }
const NO_PAX: Pax = { records: new Map(), sparse: [] };
const isSparseKey = (k: string) => k.startsWith('GNU.sparse.') && k !== 'GNU.sparse.name';

/** `<length> <key>=<value>\n`, the length counting the whole record. */
function parsePax(body: Buffer): Pax | undefined {
  const pax: Pax = { records: new Map(), sparse: [] };
  for (let i = 0; i < body.length; ) {
    const space = body.indexOf(0x20, i);
    const len = space > i ? decimal(body.toString('latin1', i, space)) : NaN;
    if (!(len > space - i) || i + len > body.length || body[i + len - 1] !== 0x0a) return undefined;
    const record = body.toString('utf8', space + 1, i + len - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    if (eq <= 0 || key.includes('\0')) return undefined;
    const value = record.slice(eq + 1).split('\0')[0]!; // GNU tar reads values as C strings
    pax.records.set(key, value);
    const m = /^GNU\.sparse\.(numblocks|offset|numbytes|map)$/.exec(key);
    if (m) pax.sparse.push([m[1]!, value]);
    i += len;
  }
  return pax;
}

/** Exact byte counts out of the gunzip stream; skipped bytes are looked at, not kept. */
class Bytes {
  offset = 0;
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Up to `n` bytes, fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    const got = await this.each(n, (b) => parts.push(b));
    return Buffer.concat(parts, got);
  }

  /** Hands up to `n` bytes to `visit` piece by piece; returns how many there were. */
  async each(n: number, visit?: (b: Buffer) => void): Promise<number> {
    let got = 0;
    while (got < n) {
      if (this.at >= this.chunk.length) {
        const r = await this.it.next();
        if (r.done) break;
        [this.chunk, this.at] = [r.value, 0];
        continue;
      }
      const k = Math.min(n - got, this.chunk.length - this.at);
      visit?.(this.chunk.subarray(this.at, this.at + k));
      this.at += k;
      got += k;
    }
    this.offset += got;
    return got;
  }
}
