import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SystemEntry } from '../../src/config/catalog.js';
import { downloadSystem, type DownloadProgress } from '../../src/images/download.js';
import { run } from '../../src/process/run.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves `body`, honouring `Range: bytes=N-` as a real server does unless told otherwise. */
function sendFile(req: IncomingMessage, res: ServerResponse, body: Buffer, honourRange = true): void {
  const m = honourRange ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
  if (!m) {
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(body);
    return;
  }
  const start = Number(m[1]);
  if (start >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
    res.end();
    return;
  }
  res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
  res.end(body.subarray(start));
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * Archives holding every system file and one hostile entry besides, made by GNU tar from `src` (the
 * system files) and `bad` (etc -> /etc, demo.initrd -> ../../etc/passwd, a file a and its hard link b).
 */
const HOSTILE: Array<{ what: string; entry: string; args: (src: string, bad: string) => string[] }> = [
  { what: 'a symlink to /etc', entry: '"etc" is a symlink to "/etc", outside the archive', args: (src, bad) => ['-C', src, 'demo.img', 'demo.vmlinuz', 'demo.initrd', '-C', bad, 'etc'] },
  { what: 'a system file that is a symlink climbing out', entry: '"demo.initrd" is a symlink to "../../etc/passwd", outside the archive', args: (src, bad) => ['-C', src, 'demo.img', 'demo.vmlinuz', '-C', bad, 'demo.initrd'] },
  { what: 'a device node', entry: '"dev/null" is a character device', args: (src) => ['-C', src, 'demo.img', 'demo.vmlinuz', 'demo.initrd', '-C', '/', 'dev/null'] },
  // RSh: only the hard link's target is rewritten; -P keeps it absolute.
  { what: 'a hard link out', entry: '"b" is a hard link to "/etc/shadow", outside the archive', args: (src, bad) => ['-P', '--transform=s,^a$,/etc/shadow,RSh', '-C', src, 'demo.img', 'demo.vmlinuz', 'demo.initrd', '-C', bad, 'a', 'b'] },
];

describe('downloadSystem', { timeout: 60_000 }, () => {
  let root = '';
  let base = '';
  let dir = '';
  let routes: Record<string, Handler> = {};
  let requests: Array<{ path: string; range: string | undefined }> = [];
  const files = { img: randomBytes(300_000), vmlinuz: Buffer.from('kernel bytes\n'), initrd: Buffer.from('initrd bytes\n') };
  const archives: Record<'full' | 'noFs' | 'evil', Buffer> = { full: Buffer.alloc(0), noFs: Buffer.alloc(0), evil: Buffer.alloc(0) };
  const hostile = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    requests.push({ path, range: req.headers.range });
    const route = routes[path];
    if (route) route(req, res);
    else res.writeHead(404).end('not here');
  });

  const system = (over: Partial<SystemEntry> = {}): SystemEntry => ({
    name: 'demo',
    sys: 'linux',
    fs: join(dir, 'demo.img'),
    kernel: join(dir, 'demo.vmlinuz'),
    initrd: join(dir, 'demo.initrd'),
    url: `${base}demo.tgz`,
    qemuopt: '',
    source: 'qemunet.cfg:12',
    ...over,
  });
  const serveArchive = (archive: Buffer, sum = md5(archive)) => {
    routes['/qemunet/demo.tgz'] = (req, res) => sendFile(req, res, archive);
    routes['/qemunet/demo.md5sum'] = (_req, res) => res.end(`${sum}  demo.tgz\n`);
  };
  const assertInstalled = async () => {
    assert.deepEqual((await readdir(dir)).sort(), ['demo.img', 'demo.initrd', 'demo.vmlinuz']);
    assert.ok((await readFile(join(dir, 'demo.img'))).equals(files.img));
    assert.equal(await readFile(join(dir, 'demo.vmlinuz'), 'utf8'), 'kernel bytes\n');
    assert.equal(await readFile(join(dir, 'demo.initrd'), 'utf8'), 'initrd bytes\n');
  };
  const tgzRequests = () => requests.filter((r) => r.path === '/qemunet/demo.tgz');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'qemunet-test-download-'));
    const src = join(root, 'src', 'sub');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'demo.img'), files.img);
    await writeFile(join(src, 'demo.vmlinuz'), files.vmlinuz);
    await writeFile(join(src, 'demo.initrd'), files.initrd);
    await writeFile(join(src, 'other.img'), 'not the one\n');
    await writeFile(join(root, 'src', 'x'), 'escaped\n');
    const tar = async (out: string, args: string[]) => {
      await run('tar', ['-czf', join(root, out), '-C', src, ...args]);
      return readFile(join(root, out));
    };
    archives.full = await tar('full.tgz', ['demo.img', 'demo.vmlinuz', 'demo.initrd']);
    archives.noFs = await tar('no-fs.tgz', ['other.img']);
    // -P keeps the "../x" member name as given, as a hostile archive would.
    archives.evil = await tar('evil.tgz', ['-P', 'demo.img', '../x']);
    const bad = join(root, 'bad');
    await mkdir(bad);
    await run('sh', ['-ec', 'ln -s /etc etc && ln -s ../../etc/passwd demo.initrd && echo a > a && ln a b', 'sh'], { cwd: bad });
    for (const h of HOSTILE) hostile.set(h.what, await tar(`${h.what.replace(/\W+/g, '-')}.tgz`, h.args(src, bad)));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/qemunet/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await rm(root, { recursive: true, force: true });
  });
  let n = 0;
  beforeEach(() => {
    dir = join(root, `images-${++n}`, 'store');
    routes = {};
    requests = [];
  });

  it('downloads, verifies and extracts into the directory of FS, leaving only the system files', async () => {
    serveArchive(archives.full);
    const phases: DownloadProgress['phase'][] = [];
    const r = await downloadSystem(system(), { onProgress: (p) => phases.at(-1) !== p.phase && phases.push(p.phase) });
    assert.deepEqual(r, { downloaded: true, files: [join(dir, 'demo.img'), join(dir, 'demo.vmlinuz'), join(dir, 'demo.initrd')], notes: [] });
    assert.deepEqual(phases, ['download', 'verify', 'extract']);
    await assertInstalled();
    assert.deepEqual(requests, [{ path: '/qemunet/demo.tgz', range: undefined }, { path: '/qemunet/demo.md5sum', range: undefined }]);
  });

  it('resumes a download the server cut half way with a Range request', async () => {
    const half = archives.full.length >> 1;
    serveArchive(archives.full);
    routes['/qemunet/demo.tgz'] = (_req, res) => {
      res.writeHead(200, { 'Content-Length': archives.full.length });
      res.write(archives.full.subarray(0, half), () => res.socket?.destroy());
    };
    const url = `${base}demo.tgz`;
    const failure = await downloadSystem(system()).catch((e: unknown) => e);
    // fetch may drop what it had buffered when the socket closes: the .part holds what was read.
    const kept = (await stat(join(dir, 'demo.tgz.part'))).size;
    assert.ok(kept > 0 && kept <= half, `kept ${kept} of ${half}`);
    assert.deepEqual({ ...(failure as object), message: (failure as Error).message }, {
      name: 'ImageError',
      code: 'DOWNLOAD_NETWORK',
      message: `downloading ${url} stopped after ${kept} of ${archives.full.length} bytes (other side closed); run the command again to resume`,
    });
    routes['/qemunet/demo.tgz'] = (req, res) => sendFile(req, res, archives.full);
    const r = await downloadSystem(system());
    assert.equal(r.downloaded, true);
    assert.deepEqual(tgzRequests().map((q) => q.range), [undefined, `bytes=${kept}-`]);
    await assertInstalled();
  });

  it('starts again from zero when the server answers a Range request with the whole file', async () => {
    serveArchive(archives.full);
    routes['/qemunet/demo.tgz'] = (req, res) => sendFile(req, res, archives.full, false);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'demo.tgz.part'), 'x'.repeat(1000));
    await downloadSystem(system());
    assert.deepEqual(tgzRequests().map((q) => q.range), ['bytes=1000-']);
    await assertInstalled();
  });

  it('takes a .part the server says is already whole (416 with its full size)', async () => {
    serveArchive(archives.full);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'demo.tgz.part'), archives.full);
    await downloadSystem(system());
    assert.deepEqual(tgzRequests().map((q) => q.range), [`bytes=${archives.full.length}-`]);
    await assertInstalled();
  });

  it('rejects a checksum mismatch with both sums and keeps nothing', async () => {
    serveArchive(archives.full, '0123456789abcdef0123456789abcdef');
    await assert.rejects(downloadSystem(system()), {
      code: 'DOWNLOAD_CHECKSUM',
      message: `${base}demo.tgz is corrupt: its md5 is ${md5(archives.full)} but ${base}demo.md5sum says 0123456789abcdef0123456789abcdef; the download was removed, run the command again to fetch it anew`,
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it('reports an HTTP error with the status and the URL', async () => {
    await assert.rejects(downloadSystem(system()), { code: 'DOWNLOAD_HTTP', message: `cannot download ${base}demo.tgz: the server answered HTTP 404 Not Found` });
  });

  it('reports a refused connection with its cause', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    await assert.rejects(downloadSystem(system({ url: `http://127.0.0.1:${port}/demo.tgz` })), {
      code: 'DOWNLOAD_NETWORK',
      message: `cannot download http://127.0.0.1:${port}/demo.tgz: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('names the config line of a system without URL', async () => {
    const s = system();
    delete s.url;
    await assert.rejects(downloadSystem(s), {
      code: 'DOWNLOAD_NO_URL',
      message: `system demo (qemunet.cfg:12) has no URL[demo], so its missing files cannot be downloaded: ${s.fs}, ${s.kernel}, ${s.initrd}`,
    });
  });

  it('refuses an archive that lacks the FS file and installs nothing', async () => {
    serveArchive(archives.noFs);
    await assert.rejects(downloadSystem(system({ kernel: undefined, initrd: undefined } as Partial<SystemEntry>)), {
      code: 'DOWNLOAD_INCOMPLETE',
      message: `${base}demo.tgz lacks FS[demo] (demo.img), declared at qemunet.cfg:12; it holds: other.img`,
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses an archive with a ../ entry before extracting anything', async () => {
    serveArchive(archives.evil);
    await assert.rejects(downloadSystem(system()), { name: 'ImageError', code: 'DOWNLOAD_UNSAFE_ARCHIVE', message: `archive ${base}demo.tgz is refused: entry "../x" has a ".." component; nothing was extracted` });
    assert.deepEqual(await readdir(dir), []);
    assert.equal(existsSync(join(dirname(dir), 'x')), false);
  });

  for (const h of HOSTILE) {
    it(`refuses ${h.what} before extracting anything, as session archives are`, async () => {
      serveArchive(hostile.get(h.what)!);
      await assert.rejects(downloadSystem(system()), { name: 'ImageError', code: 'DOWNLOAD_UNSAFE_ARCHIVE', message: `archive ${base}demo.tgz is refused: entry ${h.entry}; nothing was extracted` });
      assert.deepEqual(await readdir(dir), [], 'nothing in the store, not even the archive');
    });
  }

  it('does nothing, without contacting the server, when the files are present', async () => {
    serveArchive(archives.full);
    await mkdir(dir, { recursive: true });
    for (const f of ['demo.img', 'demo.vmlinuz', 'demo.initrd']) await writeFile(join(dir, f), 'mine');
    const r = await downloadSystem(system());
    assert.deepEqual(r, { downloaded: false, files: [join(dir, 'demo.img'), join(dir, 'demo.vmlinuz'), join(dir, 'demo.initrd')], notes: [] });
    assert.deepEqual(requests, []);
  });

  it("uses the archive's own md5sum for a system sharing it, and notes when there is none", async () => {
    serveArchive(archives.full);
    const shared = system({ name: 'debian' });
    assert.equal((await downloadSystem(shared)).downloaded, true);
    assert.deepEqual(requests.map((q) => q.path), ['/qemunet/demo.tgz', '/qemunet/debian.md5sum', '/qemunet/demo.md5sum']);
    await assertInstalled();
    await rm(dir, { recursive: true });
    delete routes['/qemunet/demo.md5sum'];
    const r = await downloadSystem(system());
    assert.deepEqual(r.notes, [`no checksum published (${base}demo.md5sum: not found), so ${base}demo.tgz was not verified`]);
    await assertInstalled();
  });

  it('keeps the .part for a later resume when aborted, and removes its lock', async () => {
    routes['/qemunet/demo.tgz'] = (_req, res) => {
      res.writeHead(200, { 'Content-Length': archives.full.length });
      res.write(archives.full.subarray(0, 1000)); // and then nothing more
    };
    const ac = new AbortController();
    const reason = new Error('interrupted');
    await assert.rejects(downloadSystem(system(), { signal: ac.signal, onProgress: () => ac.abort(reason) }), reason);
    assert.deepEqual(await readdir(dir), ['demo.tgz.part']);
  });
});
