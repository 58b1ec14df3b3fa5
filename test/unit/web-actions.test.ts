import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PcapReader, summarizeFrame } from '../../src/web/pcap-summary.js';
import { parseVlanPrint } from '../../src/web/vlan-table.js';
import { sessionDirOf, wiresharkCommand } from '../../src/web/server/actions-requests.js';
import { parseRequest } from '../../src/web/server/action-schemas.js';
import { ROUTES } from '../../src/web/actions-protocol.js';
import { LabsFolder } from '../../src/web/server/labs.js';
import { NoSession, SessionPool } from '../../src/web/server/session-pool.js';
import { startWebServer, type WebServer } from '../../src/web/server/http-server.js';
import type { SessionView } from '../../src/web/protocol.js';
import { WebSocket } from 'ws';
import { tempDir } from '../helpers/tiny.js';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
const MAC_A = 'aaaaaaaaaa01';
const MAC_B = 'aaaaaaaaaa02';
/** An Ethernet header from A to B (or broadcast) of `type`. */
const eth = (type: string, dst = MAC_B) => `${dst}${MAC_A}${type}`;
/** An IPv4 header 10.0.0.1 > 10.0.0.2 of protocol `proto` around `payload` bytes (checksum left 0: nobody checks it here). */
const ipv4 = (proto: number, payloadLength: number) => `4500${(20 + payloadLength).toString(16).padStart(4, '0')}00010000 40${proto.toString(16).padStart(2, '0')}0000 0a000001 0a000002`;

const FRAMES = {
  icmpRequest: hex(eth('0800') + ipv4(1, 16) + '0800 0000 0005 0001' + '00'.repeat(8)),
  icmpReply: hex(eth('0800') + ipv4(1, 16) + '0000 0000 0005 0001' + '00'.repeat(8)),
  arpRequest: hex(eth('0806', 'ffffffffffff') + '0001 0800 06 04 0001' + MAC_A + '0a000001' + '000000000000' + '0a000002'),
  arpReply: hex(eth('0806') + '0001 0800 06 04 0002' + MAC_B + '0a000002' + MAC_A + '0a000001'),
  udp: hex(eth('0800') + ipv4(17, 12) + '0035 1f90 000c 0000' + 'deadbeef'),
  tcpSyn: hex(eth('0800') + ipv4(6, 20) + '3039 0050 00000064 00000000 5002 7210 0000 0000'),
  tcpData: hex(eth('0800') + ipv4(6, 23) + '0050 3039 000000c8 00000065 5018 01f5 0000 0000 616263'),
  vlanIcmp: hex(`${MAC_B}${MAC_A}8100 0064 0800` + ipv4(1, 8) + '0800 0000 0007 0002'),
  lldp: hex(eth('88cc') + '0000'),
};

/** A little-endian microsecond pcap, as QEMU's filter-dump writes it. */
function pcap(frames: Uint8Array[], startSec = 1700000000): Uint8Array {
  const parts: number[] = [...hex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000')];
  frames.forEach((f, i) => {
    const rec = new DataView(new ArrayBuffer(16));
    rec.setUint32(0, startSec + i, true);
    rec.setUint32(4, i * 250000, true);
    rec.setUint32(8, f.length, true);
    rec.setUint32(12, f.length, true);
    parts.push(...new Uint8Array(rec.buffer), ...f);
  });
  return Uint8Array.from(parts);
}

describe('pcap summaries', () => {
  it('says each frame in one line, as tcpdump would', () => {
    assert.equal(summarizeFrame(FRAMES.icmpRequest), 'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 16');
    assert.equal(summarizeFrame(FRAMES.icmpReply), 'IP 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 5, seq 1, length 16');
    assert.equal(summarizeFrame(FRAMES.arpRequest), 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1');
    assert.equal(summarizeFrame(FRAMES.arpReply), 'ARP, Reply 10.0.0.2 is-at aa:aa:aa:aa:aa:02');
    assert.equal(summarizeFrame(FRAMES.udp), 'IP 10.0.0.1.53 > 10.0.0.2.8080: UDP, length 4');
    assert.equal(summarizeFrame(FRAMES.tcpSyn), 'IP 10.0.0.1.12345 > 10.0.0.2.80: Flags [S], seq 100, win 29200, length 0');
    assert.equal(summarizeFrame(FRAMES.tcpData), 'IP 10.0.0.1.80 > 10.0.0.2.12345: Flags [P.], seq 200, ack 101, win 501, length 3');
    assert.equal(summarizeFrame(FRAMES.vlanIcmp), 'VLAN 100, IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 2, length 8');
    assert.equal(summarizeFrame(FRAMES.lldp), 'aa:aa:aa:aa:aa:01 > aa:aa:aa:aa:aa:02, ethertype 0x88cc, length 16');
    assert.equal(summarizeFrame(hex('aabb')), 'truncated Ethernet frame (2 bytes)');
    assert.equal(summarizeFrame(hex(eth('0800') + '4500')), 'IPv4 (truncated or malformed)');
  });

  it('reads a stream in any pieces: each frame once, with its time from the first', () => {
    const bytes = pcap([FRAMES.arpRequest, FRAMES.icmpRequest, FRAMES.icmpReply]);
    for (const size of [1, 7, 24, 40, bytes.length]) {
      const reader = new PcapReader();
      const got = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...reader.push(bytes.subarray(i, i + size)));
      assert.deepEqual(
        got.map((p) => [p.n, p.time, p.length, p.text]),
        [
          [1, 0, 42, 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1'],
          [2, 1.25, 50, 'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 16'],
          [3, 2.5, 50, 'IP 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 5, seq 1, length 16'],
        ],
        `pieces of ${size}`,
      );
    }
  });

  it('refuses bytes that are not pcap', () => {
    assert.throws(() => new PcapReader().push(new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n')), { message: 'not a pcap stream (magic 0x48545450)' });
    const huge = pcap([]);
    const rec = new Uint8Array(16);
    new DataView(rec.buffer).setUint32(8, 1 << 30, true);
    assert.throws(() => new PcapReader().push(Uint8Array.from([...huge, ...rec])), { message: `not a pcap stream: a record of ${1 << 30} bytes` });
  });
});

describe('switch panel values', () => {
  it('reads vlan/print into a table', () => {
    const lines = ['VLAN 0000', ' -- Port 0002 tagged=0 active=1 status=Forwarding', 'VLAN 0100', ' -- Port 0001 tagged=0 active=1 status=Forwarding', ' -- Port 0021 tagged=1 active=0 status=Learning', 'VLAN 0200', 'something new'];
    assert.deepEqual(parseVlanPrint(lines), [
      { vlan: 0, ports: [{ port: 2, tagged: false, active: true, status: 'Forwarding' }] },
      {
        vlan: 100,
        ports: [
          { port: 1, tagged: false, active: true, status: 'Forwarding' },
          { port: 21, tagged: true, active: false, status: 'Learning' },
        ],
      },
      { vlan: 200, ports: [] },
    ]);
  });
});

describe('action requests', () => {
  it('accepts well-formed requests as they are', () => {
    assert.deepEqual(parseRequest('power', { host: 'a', power: 'off' }), { host: 'a', power: 'off' });
    assert.deepEqual(parseRequest('exec', { host: 'a', command: 'hostname' }), { host: 'a', command: 'hostname' });
    assert.deepEqual(parseRequest('captureLive', { nic: 'a:eth0' }), { nic: 'a:eth0' });
    assert.deepEqual(parseRequest('switchCommand', { switch: 's1', command: 'vlan/print' }), { switch: 's1', command: 'vlan/print' });
    assert.equal(sessionDirOf('/tmp/s'), '/tmp/s');
    assert.deepEqual(parseRequest('labStart', { file: 'ychain.topo' }), { file: 'ychain.topo' });
    assert.deepEqual(parseRequest('labStart', { file: 'saved lab.tgz' }), { file: 'saved lab.tgz' });
  });

  it('refuses the wrong ones with a BAD_REQUEST that names the field and shows a body that works', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    const like = (name: keyof typeof ROUTES) => `; send a body like ${(ROUTES[name] as { example?: string }).example}`;
    assert.equal(refused(() => parseRequest('power', { host: 'a', power: 'reboot' })), `BAD_REQUEST: bad power request: power must be "off" or "on" or "restart"${like('power')}`);
    assert.equal(refused(() => parseRequest('power', { host: '', power: 'on' })), `BAD_REQUEST: bad power request: host must not be empty${like('power')}`);
    assert.equal(refused(() => parseRequest('exec', { host: 'a', command: '   ' })), `BAD_REQUEST: bad exec request: command: must not be blank${like('exec')}`);
    assert.equal(refused(() => parseRequest('exec', { host: 'a', command: ['ls'] })), `BAD_REQUEST: bad exec request: command must be a string, not an array${like('exec')}`);
    assert.equal(refused(() => parseRequest('captureLive', { nic: 'a:eth0;rm' })), `BAD_REQUEST: bad captureLive request: nic: "a:eth0;rm" is not a NIC: write HOST:ethN, like a:eth0${like('captureLive')}`);
    assert.equal(refused(() => parseRequest('switchCommand', { switch: 's1', command: 3 })), `BAD_REQUEST: bad switchCommand request: command must be a string, not 3 (an integer)${like('switchCommand')}`);
    assert.equal(refused(() => sessionDirOf('relative')), 'BAD_REQUEST: give the session as ?session=/its/directory, as the sessions list shows it');
    const lab = (file: unknown) => refused(() => parseRequest('labStart', { file }));
    assert.equal(lab('../x.topo'), `BAD_REQUEST: bad labStart request: file: "../x.topo" is not a file of the labs folder: give its plain name, without a folder${like('labStart')}`);
    assert.equal(lab('/etc/x.topo'), `BAD_REQUEST: bad labStart request: file: "/etc/x.topo" is not a file of the labs folder: give its plain name, without a folder${like('labStart')}`);
    assert.equal(lab('..'), `BAD_REQUEST: bad labStart request: file: ".." is not a file of the labs folder: hidden files and ".." are not offered${like('labStart')}`);
    assert.equal(lab('notes.txt'), `BAD_REQUEST: bad labStart request: file: "notes.txt" is neither a topology (.topo) nor a session archive (.tgz)${like('labStart')}`);
    assert.equal(refused(() => parseRequest('labStart', null)), `BAD_REQUEST: bad labStart request: the body must be an object, not null${like('labStart')}`);
  });

  it('writes the Wireshark command with the token in a here-document (off the command line), and the session when the page names one', () => {
    assert.equal(
      wiresharkCommand('http://127.0.0.1:8080', 'tok-1', 'a:eth0'),
      `curl -sSN -X POST -H @- -H 'Content-Type: application/json' --data '{"nic":"a:eth0"}' 'http://127.0.0.1:8080/api/capture/live' <<'EOF' | wireshark -k -i -\nAuthorization: Bearer tok-1\nEOF`,
    );
    assert.equal(
      wiresharkCommand('http://127.0.0.1:8080', 'tok-1', 'a:eth0', "/tmp/it's mine"),
      `curl -sSN -X POST -H @- -H 'Content-Type: application/json' --data '{"nic":"a:eth0"}' 'http://127.0.0.1:8080/api/capture/live?session=%2Ftmp%2Fit%27s%20mine' <<'EOF' | wireshark -k -i -\nAuthorization: Bearer tok-1\nEOF`,
    );
  });
});

describe('labs folder and action doors (a real folder, no session)', () => {
  let server: WebServer;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir('labs');
    const labs = join(tmp.path, 'labs');
    await mkdir(labs);
    await writeFile(join(labs, 'one.topo'), 'SWITCH s1\n');
    await writeFile(join(labs, 'saved.tgz'), '');
    await writeFile(join(labs, 'notes.txt'), '');
    await writeFile(join(labs, '.hidden.topo'), '');
    await mkdir(join(labs, 'sub.topo'));
    await writeFile(join(tmp.path, 'outside.topo'), 'SWITCH s1\n');
    await symlink(join(tmp.path, 'outside.topo'), join(labs, 'out.topo'));
    await symlink('one.topo', join(labs, 'alias.topo'));
    const folder = await LabsFolder.open(labs);
    const sessions = new SessionPool(new NoSession(), () => Promise.reject(new Error('no session here')), () => Promise.resolve(false));
    server = await startWebServer({ session: sessions.first, pick: (dir) => sessions.get(dir), port: 0, token: 'tok', labs: folder });
  });
  after(async () => {
    await server.close();
    await tmp[Symbol.asyncDispose]();
  });

  const http = (path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<{ status: number; body: { ok: boolean; code?: string; message?: string; result?: unknown } }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, method: o.method ?? 'GET', headers: { Host: `127.0.0.1:${server.port}`, Authorization: 'Bearer tok', ...o.headers } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) as { ok: boolean } }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const start = (file: string) => http('/api/labs/start', { method: 'POST', body: JSON.stringify({ file }) });

  it('lists the folder\'s own topologies and archives, links inside it included', async () => {
    const r = await http('/api/labs');
    assert.equal(r.status, 200);
    assert.deepEqual((r.body.result as { files: unknown }).files, [
      { name: 'alias.topo', kind: 'topology', size: 10 },
      { name: 'one.topo', kind: 'topology', size: 10 },
      { name: 'saved.tgz', kind: 'archive', size: 0 },
    ]);
  });

  it('refuses paths out of the folder with a clear 400, starting nothing', async () => {
    assert.deepEqual(await start('../outside.topo'), { status: 400, body: { ok: false, code: 'BAD_REQUEST', message: 'bad labStart request: file: "../outside.topo" is not a file of the labs folder: give its plain name, without a folder; send a body like {"file":"lan.topo"}' } });
    assert.deepEqual((await start(join(tmp.path, 'outside.topo'))).status, 400);
    const out = await start('out.topo');
    assert.equal(out.status, 400);
    assert.equal(out.body.code, 'BAD_LAB_PATH');
    assert.match(out.body.message!, /^"out.topo" leads out of the labs folder/);
    assert.deepEqual(await start('missing.topo'), { status: 400, body: { ok: false, code: 'BAD_LAB_PATH', message: 'the labs folder has no file "missing.topo"' } });
    assert.deepEqual(await start('sub.topo'), { status: 400, body: { ok: false, code: 'BAD_LAB_PATH', message: '"sub.topo" is not a regular file' } });
  });

  it('checks token, Origin and Host on every POST route; with no session shown, acting is a 409', async () => {
    for (const { path } of Object.values(ROUTES).filter((r) => r.method === 'POST')) {
      assert.equal((await http(path, { method: 'POST', body: '{}', headers: { Authorization: '' } })).status, 401, path);
      assert.equal((await http(path, { method: 'POST', body: '{}', headers: { Authorization: 'Bearer nope' } })).status, 401, path);
      assert.equal((await http(path, { method: 'POST', body: '{}', headers: { Origin: 'http://localhost:1' } })).status, 403, path);
      assert.equal((await http(path, { method: 'POST', body: '{}', headers: { Host: 'evil.example' } })).status, 403, path);
    }
    for (const path of ['/api/sessions', '/api/labs']) assert.equal((await http(path, { headers: { Authorization: '' } })).status, 401, path);
    assert.deepEqual(await http('/api/host/power', { method: 'POST', body: '{"host":"a","power":"off"}' }), {
      status: 409,
      body: { ok: false, code: 'NO_SESSION', message: 'no session is shown: choose one in the sessions list, or start one from the labs folder' },
    });
    assert.deepEqual((await http('/api/host/power', { method: 'POST', body: '{"host":"a","power":"up"}' })).status, 400);
  });
});

describe('the session the server shows', () => {
  /** A session whose views the test pushes. */
  class Pushed extends NoSession {
    override readonly dir: string;
    readonly listeners = new Set<(v: SessionView) => void>();
    closed = false;
    constructor(dir: string) {
      super();
      this.dir = dir;
    }
    viewOf(up: boolean): SessionView {
      return { dir: this.dir, topology: 't', phase: 'running', hosts: [{ name: 'a', system: 'tiny', state: 'ready', nics: [{ ref: 'a:eth0', eth: 'eth0', switch: 's1', port: 1, mac: 'm', up, faultable: true }] }], switches: [], trunks: [], taps: [] };
    }
    /** What view() gives and a new subscriber gets at once (none: only what the test pushes). */
    current?: SessionView;
    override view(): Promise<SessionView> {
      return this.current ? Promise.resolve(this.current) : super.view();
    }
    override subscribe(onView: (v: SessionView) => void): () => void {
      if (this.current) onView(this.current);
      this.listeners.add(onView);
      return () => this.listeners.delete(onView);
    }
    override close(): void {
      this.closed = true;
    }
  }

  /** Two sessions of the user (one, two) and one that is not (/s/nope); `opened` counts opens. */
  const poolOf = () => {
    const one = new Pushed('/s/one');
    const two = new Pushed('/s/two');
    const opened: string[] = [];
    const pool = new SessionPool(one, (dir) => (opened.push(dir), Promise.resolve(two)), (dir) => Promise.resolve(dir === two.dir));
    return { one, two, opened, pool };
  };
  const summary = (v: SessionView) => `${v.dir} ${v.hosts.map((h) => h.nics.map((n) => `${n.ref}${n.up ? '' : ' down'}${n.capturing ? ' capturing' : ''}`)).join()}`;

  it('gives each request the session it names, opened once; no name is the first one; others are refused', async () => {
    const { one, two, opened, pool } = poolOf();
    assert.equal(await pool.get(undefined), pool.first);
    assert.equal(await pool.get(one.dir), pool.first);
    const [a, b] = await Promise.all([pool.get('/s/two'), pool.get('/s/two')]);
    assert.equal(a, b);
    assert.equal(a.dir, two.dir);
    assert.deepEqual(opened, ['/s/two']);
    await assert.rejects(pool.get('/s/nope'), { code: 'BAD_SESSION', message: '/s/nope is not one of your sessions; the sessions list shows them' });
    await assert.rejects(pool.get('s/two'), { code: 'BAD_REQUEST' });
    await pool.close();
    assert.deepEqual([one.closed, two.closed], [true, true]);
  });

  it('keeps subscribers per session: showing one session moves no other', async () => {
    const { one, two, pool } = poolOf();
    const seenOne: string[] = [];
    const seenTwo: string[] = [];
    pool.first.subscribe((v) => seenOne.push(summary(v)));
    const second = await pool.get('/s/two');
    second.subscribe((v) => seenTwo.push(summary(v)));
    for (const l of one.listeners) l(one.viewOf(true));
    for (const l of two.listeners) l(two.viewOf(true));
    for (const l of one.listeners) l(one.viewOf(false));
    for (const l of two.listeners) l(two.viewOf(false));
    assert.deepEqual(seenOne, ['/s/one a:eth0', '/s/one a:eth0 down']);
    assert.deepEqual(seenTwo, ['/s/two a:eth0', '/s/two a:eth0 down']);
  });

  it('serves the session a request names (?session=DIR) over HTTP and the events websocket, side by side', async () => {
    const { one, two, pool } = poolOf();
    one.current = one.viewOf(true);
    two.current = two.viewOf(false);
    const web = await startWebServer({ session: pool.first, pick: (dir) => pool.get(dir), port: 0, token: 'tok' });
    try {
      const get = async (query: string) => {
        const res = await fetch(`http://127.0.0.1:${web.port}/api/session${query}`, { headers: { Authorization: 'Bearer tok' } });
        return { status: res.status, body: (await res.json()) as { result?: SessionView; code?: string; message?: string } };
      };
      assert.equal((await get('')).body.result?.dir, '/s/one');
      assert.equal((await get('?session=%2Fs%2Ftwo')).body.result?.dir, '/s/two');
      assert.equal((await get('?session=%2Fs%2Fone')).body.result?.dir, '/s/one');
      assert.deepEqual(await get('?session=%2Fs%2Fnope'), { status: 400, body: { ok: false, code: 'BAD_SESSION', message: '/s/nope is not one of your sessions; the sessions list shows them' } } as never);
      const firstView = (query: string) =>
        new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws/events${query}`, { headers: { Authorization: 'Bearer tok' } });
          ws.once('message', (d: Buffer) => {
            ws.close();
            resolve(summary((JSON.parse(d.toString()) as { view: SessionView }).view));
          });
          ws.once('error', reject);
        });
      assert.deepEqual(await Promise.all([firstView(''), firstView('?session=%2Fs%2Ftwo')]), ['/s/one a:eth0', '/s/two a:eth0 down']);
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws/events?session=%2Fs%2Fnope`, { headers: { Authorization: 'Bearer tok' } });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => {});
      });
      assert.equal(refused, 400);
    } finally {
      await web.close();
    }
  });
});
