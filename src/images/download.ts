import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import type { SystemEntry } from '../config/catalog.js';
import { ImageError, ProcessError, SessionError } from '../errors.js';
import { run } from '../process/run.js';
import { inspectArchive, type ArchiveLimits } from '../session/archive-check.js';
import { withStoreLock } from './store-lock.js';

export interface DownloadProgress {
  phase: 'download' | 'verify' | 'extract';
  receivedBytes?: number;
  totalBytes?: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  fetchImpl?: typeof fetch;
}

/**
 * A downloaded archive is untrusted, and qemunet often runs as root: it gets the session archives'
 * check. Disk images are big (raw, often sparse: the logical size counts), so the byte bound is
 * larger than a session's 64 GiB; an image is a few files, so the entry bound stays as it is.
 */
export const IMAGE_ARCHIVE_LIMITS: ArchiveLimits = { maxTotalBytes: 256 * 2 ** 30, maxEntries: 100000 };

export interface DownloadResult {
  downloaded: boolean;
  /** FS, then KERNEL and INITRD when the system declares them. */
  files: string[];
  /** Things the user should know that are not failures (no checksum published, ...). */
  notes: string[];
}

/**
 * QemuNet's `-D SYS`: fetches URL[SYS] (a .tgz) into the directory of FS[SYS], checks it against
 * `<SYS>.md5sum` beside the URL and extracts it there. Idempotent: when the files are present nothing
 * is downloaded. An interrupted download resumes from `<SYS>.tgz.part`.
 */
export async function downloadSystem(system: SystemEntry, options: DownloadOptions = {}): Promise<DownloadResult> {
  const files = [system.fs, system.kernel, system.initrd].filter((f): f is string => !!f);
  if (await allPresent(files)) return { downloaded: false, files, notes: [] };
  if (system.builtin) throw new ImageError('DOWNLOAD_NO_URL', `system ${system.name} is built by qemunet, not downloaded: run qemunet image build ${system.name}`);
  const url = system.url;
  if (!url) throw new ImageError('DOWNLOAD_NO_URL', `system ${system.name} (${system.source}) has no URL[${system.name}], so its missing files cannot be downloaded: ${(await missing(files)).join(', ')}`);
  const dir = dirname(system.fs);
  await mkdir(dir, { recursive: true });
  // Keyed by the FS file, not the name: `debian` and `debian10` install the same files.
  return withStoreLock(dir, `download-${basename(system.fs)}`, options.signal, async () => {
    if (await allPresent(files)) return { downloaded: false, files, notes: [] }; // another qemunet did it while we waited
    const tgz = join(dir, `${system.name}.tgz`);
    if (!(await exists(tgz))) {
      await fetchArchive(url, `${tgz}.part`, options);
      await rename(`${tgz}.part`, tgz);
    }
    const notes: string[] = [];
    try {
      const sum = await fetchChecksum(system.name, url, options);
      if ('note' in sum) notes.push(sum.note);
      else {
        const actual = await md5Of(tgz, options);
        if (actual !== sum.md5) throw new ImageError('DOWNLOAD_CHECKSUM', `${url} is corrupt: its md5 is ${actual} but ${sum.from} says ${sum.md5}; the download was removed, run the command again to fetch it anew`);
      }
      await extract(system, url, tgz, dir, files, options);
    } catch (e) {
      // A bad archive is of no use for a retry; after an abort or a network failure it is kept and reused.
      if (e instanceof ProcessError || (e instanceof ImageError && e.code !== 'DOWNLOAD_NETWORK' && e.code !== 'DOWNLOAD_HTTP')) await rm(tgz, { force: true });
      throw e;
    }
    await rm(tgz, { force: true });
    return { downloaded: true, files, notes };
  });
}

/** Streams `url` into `part`, resuming from what `part` already holds. */
async function fetchArchive(url: string, part: string, o: DownloadOptions): Promise<void> {
  for (;;) {
    const start = (await stat(part).catch(() => undefined))?.size ?? 0;
    const res = await request(url, o, start > 0 ? { Range: `bytes=${start}-` } : {});
    if (res.status === 416 && start > 0) {
      await res.body?.cancel();
      // `bytes */N` with N equal to what we hold: the previous run got everything but stopped before renaming.
      if (Number(/^bytes \*\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]) === start) return;
      await rm(part, { force: true });
      continue;
    }
    if (!res.ok || !res.body) throw httpError(url, res);
    let offset = 0;
    let total = Number(res.headers.get('content-length') ?? NaN);
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== start) {
        // A range we did not ask for: start again from zero rather than splice it in.
        await res.body.cancel();
        if (start === 0) throw httpError(url, res);
        await rm(part, { force: true });
        continue;
      }
      offset = start;
      total = m[2] === '*' ? offset + total : Number(m[2]);
    }
    // A 200 to a Range request is the whole file: the 'w' flag truncates what we had.
    const fh = await open(part, offset > 0 ? 'a' : 'w');
    let received = offset;
    const totalBytes = Number.isFinite(total) ? total : undefined;
    try {
      const reader = res.body.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          o.signal?.throwIfAborted();
          throw new ImageError('DOWNLOAD_NETWORK', `downloading ${url} stopped after ${received} of ${totalBytes ?? '?'} bytes (${causeOf(e)}); run the command again to resume`, { cause: e });
        }
        if (chunk.done) break;
        await fh.write(chunk.value);
        received += chunk.value.byteLength;
        o.onProgress?.({ phase: 'download', receivedBytes: received, ...(totalBytes !== undefined ? { totalBytes } : {}) });
      }
    } finally {
      await fh.close();
    }
    if (totalBytes !== undefined && received !== totalBytes) throw new ImageError('DOWNLOAD_NETWORK', `downloading ${url} ended after ${received} of ${totalBytes} bytes; run the command again to resume`);
    return;
  }
}

/**
 * QemuNet publishes `<SYS>.md5sum` beside the archive. Systems sharing an archive (`debian` ->
 * debian10.tgz) may only have the archive's own, so that name is tried second.
 */
async function fetchChecksum(name: string, url: string, o: DownloadOptions): Promise<{ md5: string; from: string } | { note: string }> {
  const archive = basename(new URL(url).pathname);
  const names = [...new Set([name, archive.replace(/\.(tgz|tar\.gz)$/, '')])];
  const tried: string[] = [];
  for (const n of names) {
    const from = new URL(`${encodeURIComponent(n)}.md5sum`, url).href;
    const res = await request(from, o, {});
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      tried.push(from);
      continue;
    }
    if (!res.ok) throw httpError(from, res);
    const entries = [...(await res.text()).matchAll(/^([0-9a-fA-F]{32})\s+\*?(.+?)\s*$/gm)].map((m) => ({ md5: m[1]!.toLowerCase(), file: basename(m[2]!) }));
    const entry = entries.find((e) => e.file === archive || e.file === `${name}.tgz`) ?? (entries.length === 1 ? entries[0] : undefined);
    if (!entry) throw new ImageError('DOWNLOAD_CHECKSUM', `${from} has no md5 line for ${archive} (expected "<md5>  ${archive}")`);
    return { md5: entry.md5, from };
  }
  return { note: `no checksum published (${tried.join(', ')}: not found), so ${url} was not verified` };
}

async function extract(system: SystemEntry, url: string, tgz: string, dir: string, files: string[], o: DownloadOptions): Promise<void> {
  o.onProgress?.({ phase: 'extract' });
  const signal = o.signal ? { signal: o.signal } : {};
  const entries = (await checkArchive(tgz, url, o.signal)).map((e) => e.path);
  // Extracted beside the destination, then renamed in: a failure leaves nothing half-installed.
  // The staging directory is new and empty, as inspectArchive's verdict requires.
  const staging = join(dir, `.${system.name}.extracting`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    // As root, tar would keep the archive's setuid/setgid bits: --no-same-permissions drops them.
    await run('tar', ['-xzf', tgz, '-C', staging, '--no-same-owner', '--no-same-permissions'], signal);
    const lacking: string[] = [];
    for (const [role, file] of [['FS', system.fs], ['KERNEL', system.kernel], ['INITRD', system.initrd]] as const) {
      if (!file) continue;
      const rel = relative(dir, file);
      const inArchive = !rel.startsWith('..') && !isAbsolute(rel) && (await exists(join(staging, rel)));
      if (!inArchive && !(await exists(file))) lacking.push(`${role}[${system.name}] (${rel})`);
    }
    if (lacking.length) {
      const list = entries.slice(0, 10).join(', ') + (entries.length > 10 ? ', ...' : '');
      throw new ImageError('DOWNLOAD_INCOMPLETE', `${url} lacks ${lacking.join(' and ')}, declared at ${system.source}; it holds: ${list || 'nothing'}`);
    }
    await moveInto(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * What GNU tar would extract from `tgz`, checked entry by entry (no device, no link or path out of
 * the directory, bounded size) before anything is extracted. Messages name the URL, not the file.
 */
async function checkArchive(tgz: string, url: string, signal?: AbortSignal) {
  try {
    return await inspectArchive(tgz, IMAGE_ARCHIVE_LIMITS, signal, url);
  } catch (e) {
    if (!(e instanceof SessionError)) throw e;
    // An ImageError, so that downloadSystem removes the archive rather than reuse it on the next run.
    throw new ImageError(e.code === 'ARCHIVE_UNSAFE' ? 'DOWNLOAD_UNSAFE_ARCHIVE' : 'DOWNLOAD_BAD_ARCHIVE', `${e.message}; nothing was extracted`, { cause: e });
  }
}

/** Renames every entry of `from` into `to`, merging directories that exist in both. */
async function moveInto(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    const [src, dst] = [join(from, name), join(to, name)];
    if ((await lstat(src)).isDirectory() && (await lstat(dst).catch(() => undefined))?.isDirectory()) await moveInto(src, dst);
    else await rename(src, dst);
  }
}

async function md5Of(file: string, o: DownloadOptions): Promise<string> {
  const hash = createHash('md5');
  const totalBytes = (await stat(file)).size;
  let receivedBytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...(o.signal ? { signal: o.signal } : {}) }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    receivedBytes += chunk.length;
    o.onProgress?.({ phase: 'verify', receivedBytes, totalBytes });
  }
  return hash.digest('hex');
}

async function request(url: string, o: DownloadOptions, headers: Record<string, string>): Promise<Response> {
  try {
    // identity: a transparently decompressed body would break byte ranges and the checksum.
    return await (o.fetchImpl ?? fetch)(url, { headers: { 'Accept-Encoding': 'identity', ...headers }, ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    o.signal?.throwIfAborted();
    throw new ImageError('DOWNLOAD_NETWORK', `cannot download ${url}: ${causeOf(e)}`, { cause: e });
  }
}

function httpError(url: string, res: Response): ImageError {
  void res.body?.cancel().catch(() => {});
  return new ImageError('DOWNLOAD_HTTP', `cannot download ${url}: the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
}

/** fetch wraps the useful message ("connect ECONNREFUSED ...") in a generic "fetch failed". */
function causeOf(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
}

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);
const allPresent = async (files: string[]) => (await missing(files)).length === 0;
async function missing(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) if (!(await exists(f))) out.push(f);
  return out;
}
