import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { FakeWebSession } from '../helpers/fake-web-session.js';
import { extractArchive } from '../../src/lab/driver/restore.js';
import { run } from '../../src/process/run.js';
import { archivedSessionFiles } from '../../src/session/archive-manifest.js';
import { keepValidLayout, parseLayout, readLayout, writeLayout } from '../../src/session/layout.js';
import { escapeXml, graphSvg } from '../../src/web/graph-svg.js';
import { decodeConsoleClient } from '../../src/web/protocol.js';
import { ConsoleSizer, type TerminalSize } from '../../src/web/server/console-size.js';
import { startWebServer, type WebServer } from '../../src/web/server/http-server.js';
import type { GraphLayout } from '../../src/web/protocol.js';

describe('graph layout kept in the session', () => {
  it('takes node positions, and names what is wrong in anything else', () => {
    assert.deepEqual(parseLayout({ positions: { 'host:a': { x: 1.5, y: -2 }, 'sw:s1': { x: 0, y: 0 }, 'tap:t0': { x: 3, y: 4 } } }), {
      positions: { 'host:a': { x: 1.5, y: -2 }, 'sw:s1': { x: 0, y: 0 }, 'tap:t0': { x: 3, y: 4 } },
    });
    assert.throws(() => parseLayout([]), { code: 'LAYOUT', message: 'graph layout: give {"positions": {"host:NAME": {"x": 10, "y": 20}, ...}}' });
    assert.throws(() => parseLayout({ positions: {}, extra: 1 }), { message: 'graph layout: unknown field "extra"; allowed: positions' });
    assert.throws(() => parseLayout({ positions: { '../etc': { x: 1, y: 1 } } }), { message: 'graph layout: node id "../etc": write host:NAME, sw:NAME or tap:NAME' });
    assert.throws(() => parseLayout({ positions: { 'host:a': { x: 1, y: '2' } } }), { message: 'graph layout: host:a: give {"x": N, "y": N} with numbers from -1000000 to 1000000' });
    assert.throws(() => parseLayout({ positions: { 'host:a': { x: 1, y: 2, z: 3 } } }), { code: 'LAYOUT' });
    assert.throws(() => parseLayout(JSON.parse('{"positions":{"host:a":{"x":1e400,"y":0}}}')), { code: 'LAYOUT' });
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`host:h${i}`, { x: i, y: i }]));
    assert.throws(() => parseLayout({ positions: many }), { message: 'graph layout: 1001 nodes; at most 1000' });
  });

  it('writes the file whole and owner-only; a broken file reads as no layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-layout-'));
    try {
      const file = join(dir, 'qemunet-layout.json');
      assert.equal(await readLayout(file), undefined);
      await writeLayout(file, { positions: { 'host:a': { x: 10, y: 20 } } });
      assert.equal(await readFile(file, 'utf8'), '{"positions":{"host:a":{"x":10,"y":20}}}\n');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.deepEqual(await readLayout(file), { positions: { 'host:a': { x: 10, y: 20 } } });
      await assert.rejects(writeLayout(file, { positions: { 'host:a b': { x: 0, y: 0 } } }), { code: 'LAYOUT' });
      assert.deepEqual(await readLayout(file), { positions: { 'host:a': { x: 10, y: 20 } } }, 'a refused layout leaves the kept one');
      await writeFile(file, '{"positions": 3}');
      assert.equal(await readLayout(file), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('graph layout in session archives', () => {
  it('is one of the files a save archives', () => {
    assert.deepEqual(archivedSessionFiles(['topology', 'a.qcow2', 'qemunet-layout.json', 'qemunet-state.json', 'a.log'], ['a']), ['topology', 'a.qcow2', 'qemunet-layout.json']);
  });

  it('a restore keeps a valid layout and removes anything else under its name (junk, a symlink, a directory)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'qemunet-layout-archive-'));
    const good = '{"positions":{"host:a":{"x":10,"y":20}}}\n';
    // Each archive: a topology and what it carries as qemunet-layout.json.
    const cases: Array<[string, (src: string) => Promise<void>, 'kept' | 'removed']> = [
      ['valid', (src) => writeFile(join(src, 'qemunet-layout.json'), good), 'kept'],
      ['junk', (src) => writeFile(join(src, 'qemunet-layout.json'), '{"positions":{"../x":1}}'), 'removed'],
      ['symlink', async (src) => { await writeFile(join(src, 'other.json'), good); await symlink('other.json', join(src, 'qemunet-layout.json')); }, 'removed'],
      ['directory', (src) => mkdir(join(src, 'qemunet-layout.json')).then(() => {}), 'removed'],
    ];
    try {
      for (const [name, make, expected] of cases) {
        const src = join(tmp, `${name}-src`);
        const dest = join(tmp, `${name}-dest`);
        await mkdir(src);
        await mkdir(dest);
        await writeFile(join(src, 'topology'), 'HOST tiny a s1\n');
        await make(src);
        await run('tar', ['-czf', join(tmp, `${name}.tgz`), '-C', src, ...(await readdir(src))]);
        await extractArchive(join(tmp, `${name}.tgz`), dest, { needTopology: true });
        const kept = (await readdir(dest)).includes('qemunet-layout.json');
        assert.equal(kept ? 'kept' : 'removed', expected, name);
        if (kept) assert.deepEqual(await readLayout(join(dest, 'qemunet-layout.json')), { positions: { 'host:a': { x: 10, y: 20 } } });
      }
      assert.equal(await keepValidLayout(join(tmp, 'nothing.json')), 'none');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('graph as SVG', () => {
  it('draws edges, then nodes with their labels as text, fitted to the drawing', () => {
    const svg = graphSvg(
      [
        { label: 'a<1>', shape: 'host', colour: '#1e8e3e', x: 0, y: 0 },
        { label: 's1', shape: 'switch', colour: '#4285f4', x: 100, y: 50 },
      ],
      [{ from: { x: 0, y: 0 }, to: { x: 100, y: 50 }, label: 'eth0 · down', kind: 'nic', down: true, capturing: false }],
    );
    assert.equal(
      svg,
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-40 -40 180 146" width="180" height="146" font-family="DejaVu Sans, sans-serif">',
        '<rect x="-40" y="-40" width="180" height="146" fill="#202124"/>',
        '<line x1="0" y1="0" x2="100" y2="50" stroke="#d93025" stroke-width="3" stroke-dasharray="8 5"/><text x="50" y="21" font-size="10" fill="#bdc1c6" text-anchor="middle">eth0 · down</text>',
        '<g><rect x="-22" y="-15" width="44" height="30" rx="6" fill="#1e8e3e"/><text x="0" y="32" font-size="12" fill="#e8eaed" text-anchor="middle">a&lt;1&gt;</text></g>',
        '<g><rect x="75" y="39" width="50" height="22" fill="#4285f4"/><text x="100" y="82" font-size="12" fill="#e8eaed" text-anchor="middle">s1</text></g>',
        '</svg>',
        '',
      ].join('\n'),
    );
    assert.equal(escapeXml(`"x" & 'y'`), '&quot;x&quot; &amp; &apos;y&apos;');
  });
});

describe('console terminal size', () => {
  it('decodes resize messages within bounds only', () => {
    assert.deepEqual(decodeConsoleClient('{"t":"resize","cols":120,"rows":40}'), { t: 'resize', cols: 120, rows: 40 });
    assert.equal(decodeConsoleClient('{"t":"resize","cols":0,"rows":40}'), undefined);
    assert.equal(decodeConsoleClient('{"t":"resize","cols":80.5,"rows":40}'), undefined);
    assert.equal(decodeConsoleClient('{"t":"resize","cols":80,"rows":9999}'), undefined);
    assert.equal(decodeConsoleClient('{"t":"resize","cols":"80","rows":24}'), undefined);
  });

  it('applies the last size asked for, one at a time per host, and retries a guest not ready yet', async () => {
    const applied: string[] = [];
    let failFirst = 2;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const sizer = new ConsoleSizer(
      async (host: string, s: TerminalSize) => {
        if (host === 'b' && failFirst-- > 0) throw new Error('agent not ready');
        if (host === 'a') await gate;
        applied.push(`${host} ${s.cols}x${s.rows}`);
      },
      5,
      10,
    );
    sizer.request('a', { cols: 80, rows: 24 });
    sizer.request('a', { cols: 90, rows: 30 });
    sizer.request('a', { cols: 100, rows: 40 });
    sizer.request('b', { cols: 70, rows: 20 });
    await waitFor(() => applied.includes('b 70x20'));
    release();
    gate = Promise.resolve();
    await waitFor(() => applied.length === 3);
    assert.deepEqual(applied, ['b 70x20', 'a 80x24', 'a 100x40']);
    sizer.close();
  });
});

/** A session with no VMs whose layout lives in a real file, as ApiSession keeps it. */
class LayoutSession extends FakeWebSession {
  constructor(private readonly file: string) {
    super();
  }
  override layout() {
    return readLayout(this.file);
  }
  override saveLayout(layout: unknown) {
    return writeLayout(this.file, layout as GraphLayout);
  }
}

describe('web server: /api/layout', () => {
  let server: WebServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemunet-layout-http-'));
    server = await startWebServer({ session: new LayoutSession(join(dir, 'qemunet-layout.json')), port: 0, token: 't0k' });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const call = (method: string, body?: string, headers: Record<string, string> = { Authorization: 'Bearer t0k' }) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/api/layout', method, headers: { Host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('keeps a valid layout, refuses a bad one with a clear 400 and keeps the old, and needs the token', async () => {
    assert.deepEqual(await call('GET'), { status: 200, body: { ok: true, result: null } });
    assert.deepEqual(await call('POST', '{"positions":{"host:a":{"x":1,"y":2}}}'), { status: 200, body: { ok: true } });
    const bad = await call('POST', '{"positions":{"host:a":{"x":"1","y":2}}}');
    assert.deepEqual(bad, { status: 400, body: { ok: false, code: 'LAYOUT', message: 'graph layout: host:a: give {"x": N, "y": N} with numbers from -1000000 to 1000000' } });
    assert.equal((await call('POST', '{"positions":{}}', {})).status, 401);
    assert.equal((await call('POST', 'x'.repeat(70 * 1024))).status, 400);
    assert.deepEqual(await call('GET'), { status: 200, body: { ok: true, result: { positions: { 'host:a': { x: 1, y: 2 } } } } });
  });
});

async function waitFor(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
