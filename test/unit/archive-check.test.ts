import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { inspectArchive, type ArchiveEntry, type ArchiveLimits } from '../../src/session/archive-check.js';
import { fixture } from '../helpers/fixtures.js';

const execFileP = promisify(execFile);
const LIMITS: ArchiveLimits = { maxTotalBytes: 1 << 30, maxEntries: 100 };
const MiB = 1 << 20;
// D/F is past 100 bytes: GNU tar needs 'L'/'K' headers, pax path/linkpath, ustar a prefix.
const D = 'd'.repeat(99);
const F = 'f'.repeat(90);

let tmp: string;
let made = 0;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'qemunet-archive-check-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/** Runs `script` (sh -e) in a fresh directory and returns that directory. */
async function inDir(script: string): Promise<string> {
  const dir = join(tmp, `case-${++made}`);
  await mkdir(dir);
  await execFileP('sh', ['-ec', script], { cwd: dir });
  return dir;
}

/** A ustar (or, with `gnu`, GNU) header block; the checksum is right unless `badSum`. */
function header(name: string, o: { type?: string; size?: number; link?: string; badSum?: boolean; gnu?: boolean; patch?: (h: Buffer) => void } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0' + '0000000\0' + '0000000\0', 100, 'latin1');
  h.write(`${(o.size ?? 0).toString(8).padStart(11, '0')}\0` + '00000000000\0', 124, 'latin1');
  h.write(o.type ?? '0', 156, 'latin1');
  h.write(o.link ?? '', 157, 100);
  h.write(o.gnu ? 'ustar  \0' : 'ustar\x0000', 257, 'latin1');
  o.patch?.(h);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0) + (o.badSum ? 1 : 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;

function data(content: string | Buffer): Buffer {
  const b = Buffer.from(content);
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/** A pax 'x' or 'g' header and its records. */
function pax(type: 'x' | 'g', records: Record<string, string>): Buffer {
  const body = Object.entries(records).map(([k, v]) => {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len++;
    return `${len}${rest}`;
  }).join('');
  return Buffer.concat([header('PaxHeader', { type, size: Buffer.byteLength(body) }), data(body)]);
}

/** Writes blocks (plus the end-of-archive marker unless `end` is false) as a .tgz; returns its path. */
async function crafted(blocks: Buffer[], end = true): Promise<string> {
  const file = join(tmp, `crafted-${++made}.tgz`);
  await writeFile(file, gzipSync(Buffer.concat([...blocks, Buffer.alloc(end ? 1024 : 0)])));
  return file;
}

async function refused(file: string, code: string, message: string, limits = LIMITS): Promise<void> {
  await assert.rejects(inspectArchive(file, limits), { name: 'SessionError', code, message });
}

const paths = (entries: ArchiveEntry[]) => entries.map((e) => e.path);

describe('inspectArchive accepts QemuNet sessions', () => {
  it('lists lan.tgz as tar -tzvf does', async () => {
    const disk = (path: string): ArchiveEntry => ({ path, type: 'file', size: 100 * MiB, mode: 0o644 });
    assert.deepEqual(await inspectArchive(fixture('sessions', 'lan.tgz'), LIMITS), [
      disk('grave.disk'), disk('immortal.disk'), disk('opeth.disk'), disk('syl.disk'),
      { path: 'topology', type: 'file', size: 383, mode: 0o644 },
    ]);
  });
  it('accepts gw.tgz and vlan.tgz', async () => {
    assert.deepEqual(paths(await inspectArchive(fixture('sessions', 'gw.tgz'), LIMITS)), ['grave.disk', 'immortal.disk', 'opeth.disk', 'syl.disk', 'topology']);
    const vlan = await inspectArchive(fixture('sessions', 'vlan.tgz'), LIMITS);
    assert.deepEqual(paths(vlan), ['grave.disk', 'grave.sh', 'immortal.disk', 'immortal.sh', 'nile.disk', 'nile.sh', 'opeth.disk', 'opeth.sh', 's1.cmd', 'syl.disk', 'syl.sh', 'topology']);
    assert.deepEqual(vlan[1], { path: 'grave.sh', type: 'file', size: 551, mode: 0o755 });
  });
  it('names the archive as the caller asks (a download names its URL, not the saved file)', async () => {
    const file = await crafted([header('dev/sda', { type: '4' })]);
    await assert.rejects(inspectArchive(file, LIMITS, undefined, 'http://example.org/debian10.tgz'), { code: 'ARCHIVE_UNSAFE', message: 'archive http://example.org/debian10.tgz is refused: entry "dev/sda" is a block device' });
  });
  it('stops reading at the first entry past maxTotalBytes', async () => {
    await refused(fixture('sessions', 'lan.tgz'), 'ARCHIVE_TOO_BIG', `archive ${fixture('sessions', 'lan.tgz')} is refused: its files add up to more than ${200 * MiB} bytes (at entry "opeth.disk")`, { maxTotalBytes: 200 * MiB, maxEntries: 100 });
  });
});

describe('inspectArchive reads the formats GNU tar writes', () => {
  let src: string;
  before(async () => {
    src = await inDir(`mkdir src && cd src && printf 'topo\\n' > topology && chmod 644 topology && mkdir -m 755 session ${D} &&
      printf abc > session/topology && chmod 600 session/topology && printf 'x\\n' > ${D}/${F} && chmod 644 ${D}/${F} &&
      ln -s ../topology session/up && ln -s ${D}/${F} longlink && ln topology hard`);
  });
  const common: ArchiveEntry[] = [
    { path: 'topology', type: 'file', size: 5, mode: 0o644 },
    { path: 'session', type: 'dir', size: 0, mode: 0o755 },
    { path: 'session/topology', type: 'file', size: 3, mode: 0o600 },
    { path: 'session/up', type: 'symlink', size: 0, mode: 0o777, linkTarget: '../topology' },
    { path: D, type: 'dir', size: 0, mode: 0o755 },
    { path: `${D}/${F}`, type: 'file', size: 2, mode: 0o644 },
  ];
  const hard: ArchiveEntry = { path: 'hard', type: 'hardlink', size: 0, mode: 0o644, linkTarget: 'topology' };
  const longlink: ArchiveEntry = { path: 'longlink', type: 'symlink', size: 0, mode: 0o777, linkTarget: `${D}/${F}` };

  for (const format of ['gnu', 'oldgnu', 'posix']) {
    it(`--format=${format}: long names and link targets, symlinks, hard links, ./ dropped`, async () => {
      await inDir(`tar -czf ../${format}.tgz --format=${format} --sort=name -C ${src}/src ./topology session ${D} longlink hard`);
      assert.deepEqual(await inspectArchive(join(tmp, `${format}.tgz`), LIMITS), [...common, longlink, hard]);
    });
  }
  it('--format=ustar: names split into prefix and name', async () => {
    await inDir(`tar -czf ../ustar.tgz --format=ustar --sort=name -C ${src}/src ./topology session ${D} hard`);
    assert.deepEqual(await inspectArchive(join(tmp, 'ustar.tgz'), LIMITS), [...common, hard]);
  });
  it('omits the ./ entry of an archive made with -C dir .', async () => {
    await inDir(`tar -czf ../dot.tgz --sort=name -C ${src}/src .`);
    assert.deepEqual(paths(await inspectArchive(join(tmp, 'dot.tgz'), LIMITS)), [D, `${D}/${F}`, 'hard', 'longlink', 'session', 'session/topology', 'session/up', 'topology']);
  });
});

describe('inspectArchive reports sparse files by their logical size', () => {
  let dir: string;
  before(async () => {
    // Eight data fragments: more than the four an old GNU header holds, so extension blocks follow it.
    dir = await inDir(`truncate -s 100M disk.img && for o in 1 10 20 30 40 50 60 70; do printf x | dd of=disk.img bs=1M seek=$o conv=notrunc status=none; done &&
      printf 'after\\n' > after && chmod 644 disk.img after`);
  });
  const expected: ArchiveEntry[] = [{ path: 'disk.img', type: 'file', size: 100 * MiB, mode: 0o644 }, { path: 'after', type: 'file', size: 6, mode: 0o644 }];
  for (const [name, options] of [['gnu', '--format=gnu'], ['pax-0.0', '--format=posix --sparse-version=0.0'], ['pax-0.1', '--format=posix --sparse-version=0.1'], ['pax-1.0', '--format=posix --sparse-version=1.0']]) {
    it(`tar -S ${options}`, async () => {
      await execFileP('sh', ['-ec', `tar -czSf ${name}.tgz ${options} disk.img after`], { cwd: dir });
      const file = join(dir, `${name}.tgz`);
      assert.deepEqual(await inspectArchive(file, LIMITS), expected);
      await refused(file, 'ARCHIVE_TOO_BIG', `archive ${file} is refused: its files add up to more than ${100 * MiB - 1} bytes (at entry "disk.img")`, { maxTotalBytes: 100 * MiB - 1, maxEntries: 10 });
    });
  }
  it('the gnu archive really has an old GNU sparse header with extension blocks', async () => {
    const tar = gunzipSync(await readFile(join(dir, 'gnu.tgz')));
    assert.equal(String.fromCharCode(tar[156]!), 'S');
    assert.equal(tar[482], 1);
  });
});

describe('inspectArchive reads pax headers', () => {
  it('takes path and size from an x header, after a g header', async () => {
    const file = await crafted([pax('g', { comment: 'made by hand' }), pax('x', { path: './session/topology', size: '3' }), header('short'), data('abc'), header('next', { size: 1 }), data('n')]);
    assert.deepEqual(await inspectArchive(file, LIMITS), [
      { path: 'session/topology', type: 'file', size: 3, mode: 0o644 },
      { path: 'next', type: 'file', size: 1, mode: 0o644 },
    ]);
  });
  it('applies a g header path to the entries after it', async () => {
    const file = await crafted([pax('g', { path: '../evil' }), header('ok', { size: 1 }), data('o')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "../evil" has a ".." component`);
  });
  it('reads a regular file named with a trailing slash as a directory, as GNU tar does', async () => {
    const file = await crafted([header('old-style-dir/')]);
    assert.deepEqual(await inspectArchive(file, LIMITS), [{ path: 'old-style-dir', type: 'dir', size: 0, mode: 0o644 }]);
  });
  it('cuts pax values at a NUL, as GNU tar does', async () => {
    const file = await crafted([pax('x', { linkpath: '..\0/inside' }), header('l', { type: '2' })]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "l" is a symlink to "..", outside the archive`);
  });
  it('keeps only the latest x and g headers, as GNU tar does', async () => {
    const file = await crafted([pax('g', { path: 'dropped' }), pax('g', { comment: 'c' }), pax('x', { path: 'dropped-too' }), pax('x', { comment: 'c' }), header('kept')]);
    assert.deepEqual(paths(await inspectArchive(file, LIMITS)), ['kept']);
  });
  it('takes an empty x path as GNU tar does: the extraction directory', async () => {
    const file = await crafted([pax('g', { path: 'global' }), pax('x', { path: '' }), header('plain')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "" would replace the extraction directory`);
  });
});

describe('inspectArchive refuses unsafe archives', () => {
  const unsafe = async (script: string, archive: string, detail: (dir: string) => string) => {
    const dir = await inDir(`echo a > a && echo t > topology && ${script}`);
    await refused(join(dir, archive), 'ARCHIVE_UNSAFE', `archive ${join(dir, archive)} is refused: entry ${detail(dir)}`);
  };
  it('absolute paths (tar -P)', () => unsafe('tar -czPf x.tgz "$PWD/a"', 'x.tgz', (dir) => `"${dir}/a" has an absolute path`));
  it('.. components', () => unsafe(`tar -czf x.tgz --transform='s,^a$,x/../../a,' a`, 'x.tgz', () => '"x/../../a" has a ".." component'));
  it('.. in a GNU long name', () => unsafe(`mkdir ${D} && tar -czf x.tgz --format=gnu --transform='s,^,../,' ${D}`, 'x.tgz', () => `"../${D}/" has a ".." component`));
  it('a symlink to an absolute path', () => unsafe('ln -s /etc/passwd pw && tar -czf x.tgz pw', 'x.tgz', () => '"pw" is a symlink to "/etc/passwd", outside the archive'));
  it('a symlink that climbs out of the archive', () => unsafe('mkdir sub && ln -s ../../etc/passwd sub/pw && tar -czf x.tgz sub', 'x.tgz', () => '"sub/pw" is a symlink to "../../etc/passwd", outside the archive'));
  it('a symlink that climbs out through a later symlink (here -> ., up -> here/..)', () => unsafe('ln -s . here && ln -s here/.. up && tar -czf x.tgz up here', 'x.tgz', () => '"up" is a symlink to "here/..", outside the archive'));
  it('an entry written through a symlink of the archive', () => unsafe(`mkdir sub && echo f > sub/f && ln -s sub l && tar -czf x.tgz --transform='s,^sub/f$,l/f,' l sub/f`, 'x.tgz', () => '"l/f" lies below the symlink "l"'));
  it('a symlink at the path of another entry', () => unsafe(`ln -s topology b && tar -czf x.tgz --transform='s,^b$,a,' a b`, 'x.tgz', () => '"a" reuses the path of another entry, one of them a symlink'));
  it('a hard link to an absolute path', () => unsafe(`ln a b && tar -czPf x.tgz --transform='s,^a$,/etc/shadow,RSh' a b`, 'x.tgz', () => '"b" is a hard link to "/etc/shadow", outside the archive'));
  it('a hard link that climbs out', () => unsafe(`ln a b && tar -czPf x.tgz --transform='s,^a$,../a,RSh' a b`, 'x.tgz', () => '"b" is a hard link to "../a", outside the archive'));
  it('a hard link to a path not earlier in the archive', () => unsafe(`ln a b && tar -czf x.tgz --transform='s,^a$,later,RSh' a b`, 'x.tgz', () => '"b" is a hard link to "later", which is not an earlier file of the archive'));
  it('a FIFO', () => unsafe('mkfifo ff && tar -czf x.tgz ff', 'x.tgz', () => '"ff" is a FIFO'));
  it('a character device', () => unsafe('tar -czf x.tgz -C / dev/null', 'x.tgz', () => '"dev/null" is a character device'));
  it('a volume label (any other type)', () => unsafe("tar -czf x.tgz -V 'my label' a", 'x.tgz', () => '"my label" has unsupported type "V"'));
  it('a block device', async () => {
    const file = await crafted([header('sda', { type: '4' })]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "sda" is a block device`);
  });
  it('a hard link with data, which GNU tar would read as headers', async () => {
    const file = await crafted([header('f', { size: 1 }), data('f'), header('h', { type: '1', size: 1, link: 'f' }), data('X')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "h" is a hardlink that carries 1 bytes of data`);
  });
  it('a directory with data, which GNU tar would read as headers', async () => {
    const file = await crafted([header('d/', { type: '5', size: 10 }), data('0123456789')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "d/" is a dir that carries 10 bytes of data`);
  });
});

describe('inspectArchive refuses sparse maps GNU tar would read differently', () => {
  // Two 1-byte fragments stored in one block: GNU tar reads a block per fragment, so it takes the
  // next header for data and the carrier's data for a header (tar -t does not show it; tar -x reads it).
  const sparse = (map: number[], realsize: number, size: number, posix = false) =>
    header('sp', { type: 'S', size, gnu: !posix, patch: (h) => {
      h.write(map.map((n) => octal(n, 12)).join(''), 386, 'latin1');
      h.write(octal(realsize, 12), 483, 'latin1');
    } });
  it('old GNU fragments that do not fill their blocks', async () => {
    const hidden = header('topology', { gnu: true });
    const file = await crafted([sparse([0, 1, 2048, 1], 4096, 512), data('a'), header('carrier', { size: 512, gnu: true }), hidden]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "sp" has an inconsistent sparse map`);
  });
  it('old GNU fragments beyond the real size, and an S header without the GNU magic', async () => {
    const beyond = await crafted([sparse([8192, 1], 4096, 1), data('a')]);
    await refused(beyond, 'ARCHIVE_UNSAFE', `archive ${beyond} is refused: entry "sp" has an inconsistent sparse map`);
    const posix = await crafted([sparse([0, 1], 4096, 1, true), data('a')]);
    await refused(posix, 'ARCHIVE_UNSAFE', `archive ${posix} is refused: entry "sp" has an inconsistent sparse map`);
  });
  it('pax sparse keywords without a map, which make GNU tar skip the logical size', async () => {
    const file = await crafted([pax('x', { 'GNU.sparse.size': '1024' }), header('f', { size: 3 }), data('abc'), header('after')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "f" has an inconsistent sparse map`);
  });
  it('a pax 1.0 map that does not add up to the stored size', async () => {
    const file = await crafted([pax('x', { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '4096', 'GNU.sparse.name': 'sp' }), header('GNUSparseFile.1/sp', { size: 1024 }), data('1\n0\n1\n'), data('a')]);
    await refused(file, 'ARCHIVE_UNSAFE', `archive ${file} is refused: entry "sp" has an inconsistent sparse map`);
    const exact = await crafted([pax('x', { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '4096', 'GNU.sparse.name': 'sp' }), header('GNUSparseFile.1/sp', { size: 513 }), data('1\n0\n1\n'), data('a')]);
    assert.deepEqual(await inspectArchive(exact, LIMITS), [{ path: 'sp', type: 'file', size: 4096, mode: 0o644 }]);
  });
});

describe('inspectArchive refuses corrupt, empty and too big archives', () => {
  it('not gzip', async () => {
    const file = join(tmp, 'plain.tgz');
    await writeFile(file, 'this is not gzip');
    await refused(file, 'ARCHIVE_CORRUPT', `archive ${file} is corrupt: incorrect header check`);
  });
  it('a header with a bad checksum', async () => {
    const file = await crafted([header('topology', { size: 1, badSum: true }), data('t')]);
    await refused(file, 'ARCHIVE_CORRUPT', `archive ${file} is corrupt: the header of "topology" at byte 0 has a bad checksum`);
    const dir = await inDir('echo a > a && echo t > topology && tar -cf x.tar a topology');
    const tar = await readFile(join(dir, 'x.tar'));
    tar[1024] = 'T'.charCodeAt(0);
    await writeFile(join(dir, 'x.tgz'), gzipSync(tar));
    await refused(join(dir, 'x.tgz'), 'ARCHIVE_CORRUPT', `archive ${join(dir, 'x.tgz')} is corrupt: the header of "Topology" at byte 1024 has a bad checksum`);
  });
  it('truncated inside an entry, inside a header, inside the gzip stream', async () => {
    const dir = await inDir('echo a > a && head -c 200000 /dev/urandom > big && tar -cf x.tar a big && gzip -k x.tar');
    const tar = await readFile(join(dir, 'x.tar'));
    const cut = async (name: string, bytes: Buffer) => {
      await writeFile(join(dir, name), bytes);
      return join(dir, name);
    };
    const inEntry = await cut('entry.tgz', gzipSync(tar.subarray(0, 1024 + 512 + 1000)));
    await refused(inEntry, 'ARCHIVE_CORRUPT', `archive ${inEntry} is truncated: it ends inside entry "big"`);
    const inHeader = await cut('header.tgz', gzipSync(tar.subarray(0, 1024 + 100)));
    await refused(inHeader, 'ARCHIVE_CORRUPT', `archive ${inHeader} is truncated: it ends after entry "a"`);
    const gz = await readFile(join(dir, 'x.tar.gz'));
    const inGzip = await cut('gzip.tgz', gz.subarray(0, gz.length >> 1));
    await refused(inGzip, 'ARCHIVE_CORRUPT', `archive ${inGzip} is truncated: it ends inside entry "big"`);
  });
  it('data after the end-of-archive marker', async () => {
    const file = await crafted([header('a'), Buffer.alloc(1024), header('hidden')], false);
    await refused(file, 'ARCHIVE_CORRUPT', `archive ${file} is corrupt: data follows the end-of-archive marker at byte 512`);
  });
  it('a malformed pax header', async () => {
    const file = await crafted([header('PaxHeader', { type: 'x', size: 8 }), data('garbage\n'), header('a')]);
    await refused(file, 'ARCHIVE_CORRUPT', `archive ${file} is corrupt: the pax header at byte 0 is malformed`);
  });
  it('no entries: an empty archive, only ./, an empty gzip stream', async () => {
    const dir = await inDir('mkdir e && tar -czf empty.tgz -T /dev/null && tar -czf root.tgz -C e . && printf "" | gzip > nothing.tgz');
    for (const name of ['empty.tgz', 'root.tgz', 'nothing.tgz']) await refused(join(dir, name), 'ARCHIVE_EMPTY', `archive ${join(dir, name)} contains no files`);
  });
  it('more entries than maxEntries', async () => {
    const file = await crafted([header('a'), header('b'), header('c')]);
    await refused(file, 'ARCHIVE_TOO_BIG', `archive ${file} is refused: it has more than 2 entries`, { maxTotalBytes: 100, maxEntries: 2 });
  });
  it('a missing file', async () => {
    const file = join(tmp, 'missing.tgz');
    await refused(file, 'ARCHIVE_UNREADABLE', `cannot read archive ${file}: ENOENT: no such file or directory, open '${file}'`);
  });
  it('rejects with the abort reason when aborted', async () => {
    await assert.rejects(inspectArchive(fixture('sessions', 'lan.tgz'), LIMITS, AbortSignal.abort(new Error('stop'))), { message: 'stop' });
  });
});
