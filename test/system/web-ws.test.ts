import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { run } from '../../src/process/run.js';
import { readLayout } from '../../src/session/layout.js';
import { sessionPaths } from '../../src/session/paths.js';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { decodeConsoleServer } from '../../src/web/protocol.js';
import { eventually, qemunet } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';
import { startQemunetWeb } from '../helpers/web.js';

/** A script's console client (Bearer token, no browser): what it got, by offset, and the hellos. */
class ConsoleClient {
  readonly ws: WebSocket;
  readonly hellos: Array<{ epoch: string; from: number; lost: number }> = [];
  /** Offset just past the last byte received (the hello's `from` plus the bytes since). */
  offset = -1;
  bytes = 0;
  private tail = '';

  constructor(url: string, token: string, cursor?: { epoch: string; offset: number }) {
    const query = cursor ? `?epoch=${cursor.epoch}&offset=${cursor.offset}` : '';
    this.ws = new WebSocket(`${url}${query}`, { headers: { Authorization: `Bearer ${token}` } });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        const m = decodeConsoleServer(data.toString('utf8'));
        if (m?.t === 'hello') {
          this.hellos.push({ epoch: m.epoch, from: m.from, lost: m.lost });
          this.offset = m.from;
        }
        return;
      }
      this.offset += data.length;
      this.bytes += data.length;
      this.tail = (this.tail + data.toString('latin1')).slice(-4096);
    });
  }

  /** The last 4 KiB received. */
  get recent(): string {
    return this.tail;
  }

  /** Stops reading the TCP socket, as a browser tab that is stuck or on a slow link. */
  stall(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  unstall(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * The web server's websocket and API paths as a script uses them, on a real session of one tiny VM:
 * a console flooded by `yes` with one stalled client and one that reads; the layout in save archives.
 */
describe('qemunet web for scripts: a flooded console, the layout in save archives', { timeout: 600000 }, () => {
  const tmp = suiteDir('web-ws');
  const dir = join(tmp.path, 's');
  const restored = join(tmp.path, 'r');
  let base = '';
  let token = '';
  const clients: ConsoleClient[] = [];
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);
  const client = (cursor?: { epoch: string; offset: number }) => {
    const c = new ConsoleClient(`${base.replace(/^http/, 'ws')}/ws/console/a`, token, cursor);
    clients.push(c);
    return c;
  };
  /** Connections the console hub of host a serves on its resume socket (the web server's bridges). */
  const hubClients = async () => (await run('ss', ['-xH', 'state', 'established'])).stdout.split('\n').filter((l) => l.split(/\s+/).includes(join(dir, 'a.resume'))).length;
  const api = async (path: string, body?: unknown) =>
    fetch(`${base}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  // The desktop's browser, as `--open` runs it: a stand-in xdg-open that notes the URL it is given.
  const opened = join(tmp.path, 'opened');
  let url = '';

  before(async () => {
    await writeFile(join(tmp.path, 'f.topo'), 'SWITCH s1\nHOST tiny a s1\n');
    await mkdir(join(tmp.path, 'bin'));
    await writeFile(join(tmp.path, 'bin', 'xdg-open'), `#!/bin/sh\necho "$@" >> '${opened}'\n`);
    await chmod(join(tmp.path, 'bin', 'xdg-open'), 0o755);
    const env = { ...process.env, PATH: `${join(tmp.path, 'bin')}:${process.env.PATH}` };
    const up = await qemunet(['up', join(tmp.path, 'f.topo'), '--wait', '-K', '--session', dir, '--web', '--open'], { env });
    assert.equal(up.code, 0, up.stderr);
    url = /^web: (http\S+)$/m.exec(up.stdout)?.[1] ?? '';
    assert.ok(url, up.stdout);
    const u = new URL(url);
    base = u.origin;
    token = u.hash.slice('#token='.length);
  });
  after(async () => {
    for (const c of clients) c.close();
    await qemunet(['down', '--session', dir]);
    await qemunet(['down', '--session', restored]);
    await tmp.remove();
  });

  test('up --web --open prints the URL, opens it in the browser, and wires every NIC for live faults', async () => {
    // xdg-open is given a private page that forwards to the URL: the token is on no command line.
    const page = (await eventually(async () => (await readFile(opened, 'utf8').catch(() => '')) || undefined, 15000, 'xdg-open to run')).trim();
    assert.equal(page.includes(token), false, page);
    assert.equal((await stat(page)).mode & 0o777, 0o600);
    assert.ok((await readFile(page, 'utf8')).includes(`<meta http-equiv="refresh" content="0; url=${url}">`));
    const view = (await (await api('/api/session')).json()) as { result: { hosts: Array<{ nics: Array<{ ref: string; faultable: boolean }> }> } };
    assert.deepEqual(view.result.hosts[0]!.nics, [view.result.hosts[0]!.nics[0]!]);
    assert.equal(view.result.hosts[0]!.nics[0]!.faultable, true, 'a NIC with no LINK line has a wirefilter, and the page knows');
    const set = await api('/api/nic/faults', { nic: 'a:eth0', faults: { delay: '5ms' } });
    assert.equal(set.status, 200, await set.text());
  });

  test('a stalled client of a console flooded by yes is dropped with a gap; the other client and the guest keep going', async (t) => {
    const [slow, fast] = [client(), client()];
    await eventually(() => slow.hellos.length > 0 && fast.hellos.length > 0 || undefined, 15000, 'both clients attached');
    assert.equal(await hubClients(), 2, 'one hub connection per client');
    fast.type('\n');
    await eventually(() => /# $/.test(fast.recent) || undefined, 30000, 'a shell prompt on the console');
    slow.stall();
    const stalledAt = slow.offset;
    fast.type('yes flood-line\n');

    // The hub drops the stalled client once it has fallen behind by every buffer between (TCP, ws,
    // the unix socket, the hub's 1 MiB cap: 1.8 to 3.1 MB in runs here): the web server then holds
    // one connection to the hub's resume socket, the reading client's, until the stalled one reads.
    const start = fast.offset;
    await eventually(async () => ((await hubClients()) === 1 ? true : undefined), 300000, 'the hub to drop the stalled client');
    t.diagnostic(`dropped after ${fast.offset - start} bytes of flood`);
    // The guest is not slowed: the other client keeps receiving, and the guest answers a command.
    const before = fast.offset;
    const alive = await exec('a', 'echo alive');
    assert.equal(alive.stdout, 'alive\n', alive.stderr);
    await eventually(() => fast.offset - before > 64 * 1024 || undefined, 30000, 'more flood on the reading client');
    assert.ok(slow.offset - stalledAt < 2 * 2 ** 20, `the stalled client got ${slow.offset - stalledAt} bytes: ws sends nothing past its buffer`);

    fast.type('\x03');
    await eventually(() => /\^C\r?\n.*# $/s.test(fast.recent) || undefined, 60000, 'Ctrl-C to stop yes');
    slow.unstall();
    fast.type('echo done-$((6*7))\n');
    await eventually(() => /done-42\r?\n.*# $/s.test(fast.recent) || undefined, 30000, 'the reading client to see the echo');
    await eventually(() => /done-42\r?\n.*# $/s.test(slow.recent) || undefined, 60000, 'the stalled client to catch up after it reads again');

    // It was dropped and came back with the gap announced (what the page draws as a gap marker) ...
    const gap = slow.hellos.slice(1).find((h) => h.lost > 0);
    assert.ok(gap, `a hello announcing lost bytes after the stall: ${JSON.stringify(slow.hellos)}`);
    assert.equal(gap.epoch, slow.hellos[0]!.epoch, 'the same VM start');
    assert.ok(gap.from > stalledAt, 'it resumed past where it stalled');
    // ... and neither lost nor repeated anything else: both end at the same offset of the VM's output.
    assert.equal(slow.offset, fast.offset, `slow ${slow.offset} vs fast ${fast.offset}`);
    assert.deepEqual(fast.hellos.length, 1, 'the reading client never reconnected');
    t.diagnostic(`stalled at ${stalledAt}, dropped at ${gap.from - gap.lost} (${gap.from - gap.lost - stalledAt} bytes in buffers), ${gap.lost} bytes lost, flood ended at ${fast.offset}`);

    // A reconnect by cursor from where the stall began is told what is gone, too.
    const again = client({ epoch: gap.epoch, offset: stalledAt });
    await eventually(() => again.hellos[0], 15000, 'the reconnect hello');
    assert.ok(again.hellos[0]!.lost > 0, JSON.stringify(again.hellos));
    assert.equal(again.hellos[0]!.from, again.hellos[0]!.lost + stalledAt);
    for (const c of [slow, fast, again]) c.close();
  });

  test('the graph layout is in the .tgz the page downloads, and a session restored from it keeps the positions', async () => {
    const positions = { 'host:a': { x: 123.5, y: -45 }, 'sw:s1': { x: -10, y: 7 } };
    const set = await api('/api/layout', { positions });
    assert.equal(set.status, 200, await set.text());
    const saved = await api('/api/session/save', {});
    assert.equal(saved.status, 200);
    const archive = join(tmp.path, 'with-layout.tgz');
    await writeFile(archive, Buffer.from(await saved.arrayBuffer()));
    assert.match((await run('tar', ['-tzf', archive])).stdout, /^qemunet-layout\.json$/m);
    const up = await qemunet(['up', '--from', archive, '--wait', '-K', '--session', restored]);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await readLayout(sessionPaths(restored).layout), { positions });
  });

  test('qemunet web --listen: another loopback address serves its URL; a non-loopback one needs --allow-remote', async () => {
    const refused = await qemunet(['web', '--session', dir, '--listen', '0.0.0.0', '--port', '0']);
    assert.deepEqual([refused.code, refused.stderr.split(';')[0]], [2, 'qemunet: --listen 0.0.0.0 would let other machines reach the consoles of your VMs (shells) with only the token between them and those shells, over plain HTTP']);
    const { web, url: other } = await startQemunetWeb(['--session', dir, '--listen', '127.0.0.2']);
    try {
      const u = new URL(other);
      assert.equal(u.hostname, '127.0.0.2');
      const res = await fetch(`${u.origin}/api/session`, { headers: { Authorization: `Bearer ${u.hash.slice('#token='.length)}` } });
      assert.equal(res.status, 200, await res.text());
    } finally {
      web.kill('SIGTERM');
    }
  });

  test('the web server of up --web ends with the session', async () => {
    const down = await qemunet(['down', '--session', dir]);
    assert.equal(down.code, 0, down.stderr);
    await eventually(() => fetch(`${base}/`).then(() => undefined, () => true), 30000, 'qemunet web to exit');
  });
});
