import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeWebSession, RecordingClient } from '../helpers/fake-web-session.js';
import { WebSocket } from 'ws';
import { ConsoleHub, ScrollbackRing } from '../../src/console/console-hub.js';
import { openResumable, parseHeader, parseRequest, resumePoint } from '../../src/console/cursor.js';
import { requestUrl, startWebServer, type WebServer } from '../../src/web/server/http-server.js';
import { faultSettings, parseRequest as parseWebRequest } from '../../src/web/server/action-schemas.js';
import { ROUTE_NAMES, ROUTES } from '../../src/web/actions-protocol.js';
import { allowedHosts, checkRequest, originAllowed, protocolBearerOf, secretEquals } from '../../src/web/server/security.js';
import { faultLabel } from '../../src/protocol/fault-label.js';
import { openerPage, PrivateFiles } from '../../src/web/server/private-files.js';
import { decodeConsoleClient, decodeConsoleServer, gapMarker, wsProtocolsFor } from '../../src/web/protocol.js';

describe('web security checks', () => {
  const hosts = allowedHosts(8123);
  const expected = { hosts, token: 'tok' };

  it('allows exactly the loopback names on the port', () => {
    assert.deepEqual([...hosts], ['127.0.0.1:8123', 'localhost:8123', '[::1]:8123']);
    assert.deepEqual([...allowedHosts(80, '192.168.1.5')], ['127.0.0.1:80', 'localhost:80', '[::1]:80', '192.168.1.5:80']);
    assert.deepEqual([...allowedHosts(80, '127.0.0.2')], ['127.0.0.1:80', 'localhost:80', '[::1]:80', '127.0.0.2:80'], 'the address of the URL printed');
    assert.deepEqual([...allowedHosts(80, '::1')], ['127.0.0.1:80', 'localhost:80', '[::1]:80']);
  });

  it('matches the Origin exactly: scheme, host and port', () => {
    assert.equal(originAllowed('http://127.0.0.1:8123', hosts), 'same');
    assert.equal(originAllowed('http://LOCALHOST:8123', hosts), 'same');
    assert.equal(originAllowed('http://localhost:9999', hosts), 'foreign');
    assert.equal(originAllowed('https://localhost:8123', hosts), 'foreign');
    assert.equal(originAllowed('http://localhost.evil.com:8123', hosts), 'foreign');
    assert.equal(originAllowed('null', hosts), 'foreign');
    assert.equal(originAllowed(undefined, hosts), 'absent');
  });

  it('refuses with the status and code each case deserves', () => {
    const o = 'http://127.0.0.1:8123';
    const verdict = (r: Parameters<typeof checkRequest>[0]) => {
      const v = checkRequest(r, expected);
      return v.ok ? 'ok' : `${v.status} ${v.code}`;
    };
    assert.equal(verdict({ host: 'evil.com:8123', origin: o, authorization: 'Bearer tok' }), '403 BAD_HOST');
    assert.equal(verdict({ host: '127.0.0.1:8123', origin: 'http://evil.com', authorization: 'Bearer tok' }), '403 BAD_ORIGIN');
    assert.equal(verdict({ host: '127.0.0.1:8123', origin: 'http://localhost:3000', wsProtocols: 'qemunet, qemunet.bearer.tok' }), '403 BAD_ORIGIN');
    assert.equal(verdict({ host: '127.0.0.1:8123', origin: o }), '401 NO_TOKEN');
    assert.equal(verdict({ host: '127.0.0.1:8123' }), '401 NO_TOKEN');
    assert.equal(verdict({ host: '127.0.0.1:8123', authorization: 'Bearer nope' }), '401 BAD_TOKEN');
    assert.equal(verdict({ host: '127.0.0.1:8123', authorization: 'Bearer tok' }), 'ok');
    assert.equal(verdict({ host: 'localhost:8123', origin: o, authorization: 'Bearer tok' }), 'ok');
    assert.equal(verdict({ host: 'localhost:8123', origin: o, wsProtocols: 'qemunet, qemunet.bearer.tok' }), 'ok');
    assert.equal(verdict({ host: 'localhost:8123', origin: o, wsProtocols: 'qemunet, qemunet.bearer.nope' }), '401 BAD_TOKEN');
    assert.equal(verdict({ host: 'localhost:8123', origin: o, wsProtocols: 'qemunet.bearer.tok.x' }), '401 NO_TOKEN');
  });

  it('takes no cookie as a credential (a browser sends 127.0.0.1 cookies to every local port)', () => {
    const v = checkRequest({ host: '127.0.0.1:8123', origin: 'http://127.0.0.1:8123', cookie: 'qemunet_web=tok; qemunet_web_8123=tok' } as Parameters<typeof checkRequest>[0], expected);
    assert.deepEqual(v.ok ? 'ok' : v.code, 'NO_TOKEN');
  });

  it('reads the websocket token out of the offered subprotocols', () => {
    assert.deepEqual(wsProtocolsFor('tok'), ['qemunet', 'qemunet.bearer.tok']);
    assert.deepEqual(wsProtocolsFor(undefined), ['qemunet']);
    assert.equal(protocolBearerOf(wsProtocolsFor('abc_-9').join(', ')), 'abc_-9');
    assert.equal(protocolBearerOf('binary'), undefined);
    assert.equal(protocolBearerOf(undefined), undefined);
  });

  it('reads only a path as the request target', () => {
    assert.equal(requestUrl({ url: '/ws/events?session=%2Ftmp%2Fs' }).searchParams.get('session'), '/tmp/s');
    for (const url of ['http://[/ws/events', 'http://127.0.0.1:1/api/session', '//evil/api/session', '*', '', undefined]) {
      assert.throws(() => requestUrl({ url }), { code: 'BAD_REQUEST', message: `the request target must be a path like /api/session, not ${JSON.stringify(url ?? '')}` });
    }
  });

  it('compares secrets of any length', () => {
    assert.equal(secretEquals('tok', 'tok'), true);
    assert.equal(secretEquals('to', 'tok'), false);
    assert.equal(secretEquals(undefined, 'tok'), false);
  });
});

describe('web messages and values', () => {
  it('decodes only well-formed console messages', () => {
    assert.deepEqual(decodeConsoleServer('{"t":"hello","host":"a","epoch":"e1","from":10,"lost":0}'), { t: 'hello', host: 'a', epoch: 'e1', from: 10, lost: 0 });
    assert.equal(decodeConsoleServer('{"t":"hello","host":"a","epoch":"e1","from":"10","lost":0}'), undefined);
    assert.equal(decodeConsoleServer('not json'), undefined);
    assert.deepEqual(decodeConsoleClient('{"t":"pause","x":1}'), { t: 'pause' });
    assert.equal(decodeConsoleClient('{"t":"kill"}'), undefined);
  });

  it('marks gaps visibly, and nothing when nothing is lost', () => {
    assert.equal(gapMarker(0, true), undefined);
    assert.equal(gapMarker(100, false), '\r\n\x1b[7m[qemunet: 100 bytes of output were lost here]\x1b[0m\r\n');
    assert.equal(gapMarker(100, true), '\r\n\x1b[7m[qemunet: 100 earlier bytes of output are no longer kept]\x1b[0m\r\n');
    assert.match(gapMarker(-1, false)!, /the host restarted/);
  });

  it('checks link and fault requests against their schemas, naming the bad field', () => {
    assert.deepEqual(parseWebRequest('link', { nic: 'a:eth0', up: false }), { nic: 'a:eth0', up: false });
    assert.throws(() => parseWebRequest('link', { nic: 'a:eth0', up: 'no' }), { code: 'BAD_REQUEST', message: 'bad link request: up must be true or false, not "no" (a string); send a body like {"nic":"a:eth0","up":false}' });
    assert.throws(() => parseWebRequest('link', { action: 'rm -rf' }), {
      message: 'bad link request: nic is missing; up is missing; unknown field "action" (allowed: nic, up); send a body like {"nic":"a:eth0","up":false}',
    });
    assert.throws(() => parseWebRequest('faults', { nic: 'a:eth0', faults: { colour: 'red' } }), { message: /^bad faults request: faults has unknown field "colour" \(allowed: delay, jitter, loss, dup, bandwidth, mtu\);/ });
    assert.deepEqual(faultSettings({ delay: '40ms', jitter: '10ms', loss: '10%', mtu: '' }), [['delay', '40ms+10ms'], ['loss', '10%']]);
    assert.throws(() => faultSettings({ jitter: '5ms' }), { code: 'LINK_SETTING', message: 'jitter needs a delay' });
    assert.throws(() => faultSettings({ mtu: ' ' }), { code: 'LINK_SETTING', message: 'no fault given: fill in at least one of delay, jitter, loss, dup, bandwidth, mtu' });
    assert.equal(faultLabel({ delay: { ms: 40, jitterMs: 10 }, lossPct: 10, bandwidth: 1250000, mtu: 1400 }), '40 ms ±10 ms, 10 % loss, 10 Mbit/s, MTU 1400');
    assert.equal(faultLabel({ delay: { ms: 0, jitterMs: 0 } }), undefined);
  });
});

describe('console offsets and resume', () => {
  it('resumes where the client is, or says how much is lost', () => {
    assert.deepEqual(resumePoint('e', 100, 300, undefined), { from: 100, lost: 100 });
    assert.deepEqual(resumePoint('e', 0, 300, undefined), { from: 0, lost: 0 });
    assert.deepEqual(resumePoint('e', 100, 300, { epoch: 'e', offset: 250 }), { from: 250, lost: 0 });
    assert.deepEqual(resumePoint('e', 100, 300, { epoch: 'e', offset: 300 }), { from: 300, lost: 0 });
    assert.deepEqual(resumePoint('e', 100, 300, { epoch: 'e', offset: 40 }), { from: 100, lost: 60 });
    assert.deepEqual(resumePoint('e', 100, 300, { epoch: 'old', offset: 250 }), { from: 100, lost: -1 });
    assert.deepEqual(resumePoint('e', 100, 300, { epoch: 'e', offset: 301 }), { from: 100, lost: -1 });
  });

  it('parses the line protocol strictly', () => {
    assert.deepEqual(parseRequest('QNC1 abc 42'), { epoch: 'abc', offset: 42 });
    assert.equal(parseRequest('QNC1 - -'), undefined);
    assert.throws(() => parseRequest('hostname'), { code: 'CONSOLE_PROTOCOL' });
    assert.deepEqual(parseHeader('QNC1 abc 10 -1'), { epoch: 'abc', from: 10, lost: -1 });
  });

  it('keeps offsets across the ring', () => {
    const ring = new ScrollbackRing(10);
    ring.append(Buffer.from('0123456789abcdef'));
    assert.deepEqual([ring.start, ring.end, ring.since(12).toString()], [6, 16, 'cdef']);
    assert.equal(ring.since(0).toString(), '6789abcdef');
  });

  it('a resume client gets exactly the bytes after its offset, and what it types reaches the VM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-web-'));
    const typed: Buffer[] = [];
    const hub = await ConsoleHub.listen(join(dir, 'h.console'), (d) => typed.push(d), { resumeSocketPath: join(dir, 'h.console.v1'), scrollbackBytes: 8 });
    try {
      hub.push(Buffer.from('hello world'));
      const fresh = await openResumable(join(dir, 'h.console.v1'), undefined);
      assert.deepEqual([fresh.epoch, fresh.from, fresh.lost], [hub.epoch, 3, 3]);
      fresh.socket.destroy();
      const resumed = await openResumable(join(dir, 'h.console.v1'), { epoch: hub.epoch, offset: 9 });
      const got: Buffer[] = [resumed.first];
      resumed.socket.on('data', (d: Buffer) => got.push(d));
      resumed.socket.resume();
      resumed.socket.write('ls\n');
      hub.push(Buffer.from('!'));
      await waitFor(() => Buffer.concat(got).toString() === 'ld!' && Buffer.concat(typed).toString() === 'ls\n');
      assert.equal(resumed.from, 9);
      resumed.socket.destroy();
    } finally {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('web server doors (plain HTTP and websocket clients)', () => {
  let server: WebServer;
  const session = new FakeWebSession();
  const client = new RecordingClient();
  before(async () => {
    server = await startWebServer({ session, port: 0, token: 'test-token', clientOf: () => client });
  });
  after(() => server.close());

  const http = (path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, method: o.method ?? 'GET', headers: { Host: `127.0.0.1:${server.port}`, ...o.headers } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('latin1')));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const upgrade = (headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/events`, { headers });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('error', () => {});
    });
  const POSTS = ROUTE_NAMES.filter((name) => ROUTES[name].method === 'POST');

  it('prints the token in the fragment only', () => {
    assert.equal(server.url, `http://127.0.0.1:${server.port}/#token=test-token`);
  });

  it('serves the page with a strict CSP', async () => {
    const r = await http('/');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self';.*connect-src 'self';.*frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  it('websocket upgrades: no token 401, wrong token 401, foreign Origin 403, another localhost port 403, foreign Host 403', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    assert.equal(await upgrade({ Origin: own }), 401);
    assert.equal(await upgrade({ Origin: own, Cookie: 'qemunet_web=guess' }), 401);
    assert.equal(await upgrade({ Origin: own, Authorization: 'Bearer test-token' }), 101);
    assert.equal(await upgrade({ Authorization: 'Bearer wrong' }), 401);
    assert.equal(await upgrade({ Origin: 'http://evil.example', Authorization: 'Bearer test-token' }), 403);
    assert.equal(await upgrade({ Origin: 'http://localhost:1', Authorization: 'Bearer test-token' }), 403);
    assert.equal(await upgrade({ Host: 'rebind.example', Authorization: 'Bearer test-token' }), 403);
    assert.equal(await upgrade({ Authorization: 'Bearer test-token' }), 101);
  });

  it("a page's websocket carries its token as a subprotocol, and is answered with qemunet alone", async () => {
    const own = `http://127.0.0.1:${server.port}`;
    const open = (protocols: string[], headers: Record<string, string>) =>
      new Promise<string | number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/events`, protocols, { headers });
        ws.on('open', () => {
          resolve(ws.protocol);
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('error', () => {});
      });
    assert.equal(await open(['qemunet', 'qemunet.bearer.test-token'], { Origin: own }), 'qemunet');
    assert.equal(await open(['qemunet', 'qemunet.bearer.wrong'], { Origin: own }), 401);
    assert.equal(await open(['qemunet', 'qemunet.bearer.test-token'], { Origin: 'http://127.0.0.1:1' }), 403);
  });

  it('no cookie: none is set, none opens a door, and /api/login is gone', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    const login = await http('/api/login', { method: 'POST', headers: { Origin: own }, body: '{"token":"test-token"}' });
    assert.deepEqual([login.status, login.headers['set-cookie']], [401, undefined]);
    const page = await http('/');
    assert.equal(page.headers['set-cookie'], undefined);
    assert.equal((await http('/api/session', { headers: { Cookie: 'qemunet_web=test-token' } })).status, 401);
  });

  it('a body that is not JSON, or over 64 KiB, is a 400 that says so on every route that reads one', async () => {
    const auth = { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' };
    assert.ok(POSTS.length >= 13, POSTS.join());
    for (const name of POSTS) {
      const { path } = ROUTES[name];
      const garbage = await http(path, { method: 'POST', headers: auth, body: '{not json' });
      assert.deepEqual([garbage.status, JSON.parse(garbage.body)], [400, { ok: false, code: 'BAD_REQUEST', message: 'the request body is not JSON' }], path);
      const big = await http(path, { method: 'POST', headers: auth, body: `"${'x'.repeat(70000)}"` }).catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
      assert.deepEqual([big.status, JSON.parse(big.body)], [400, { ok: false, code: 'BAD_REQUEST', message: 'the request body is over 65536 bytes (64 KiB), the most this server reads' }], path);
    }
    const unauthenticated = await http('/api/login', { method: 'POST', body: '{not json' });
    assert.equal(unauthenticated.status, 401);
    assert.deepEqual(client.calls, []);
  });

  it('a malformed request target is a 400, on plain requests and upgrades alike, and the server lives on', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.end(text));
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString()));
        socket.on('close', () => resolve(got));
        socket.on('error', () => resolve(got));
      });
    const host = `Host: 127.0.0.1:${server.port}\r\nAuthorization: Bearer test-token\r\n`;
    const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const target of ['http://[/ws/events', 'http://127.0.0.1/ws/events', '//x/ws/events']) {
      assert.match(await raw(`GET ${target} HTTP/1.1\r\n${host}${ws}\r\n`), /^HTTP\/1\.1 400 Bad Request/, target);
      assert.match(await raw(`GET ${target} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`), /^HTTP\/1\.1 400 Bad Request/, target);
    }
    assert.equal((await http('/api/session', { headers: { Authorization: 'Bearer test-token' } })).status, 200, 'still serving');
  });

  it('every route of the table: no token 401, wrong token 401, foreign Origin 403, foreign Host 403; nothing reaches the session', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 401, 'NO_TOKEN'],
      [{ Origin: own }, 401, 'NO_TOKEN'],
      [{ Authorization: 'Bearer wrong-token' }, 401, 'BAD_TOKEN'],
      [{ Authorization: 'Bearer test-token', Origin: 'http://127.0.0.1:1' }, 403, 'BAD_ORIGIN'],
      [{ Authorization: 'Bearer test-token', Host: 'rebind.example:80' }, 403, 'BAD_HOST'],
    ];
    assert.equal(ROUTE_NAMES.length, 18);
    for (const name of ROUTE_NAMES) {
      const { method, path, ...spec } = ROUTES[name];
      for (const [headers, status, code] of cases) {
        const r = await http(path, { method, headers, ...('example' in spec ? { body: spec.example } : {}) });
        assert.deepEqual([r.status, (JSON.parse(r.body) as { code: string }).code], [status, code], `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
    assert.deepEqual(client.calls, []);
  });

  it('the old action protocols are gone, and a route asked with the wrong method is a 404', async () => {
    const auth = { Authorization: 'Bearer test-token' };
    for (const [method, path] of [['POST', '/api/action'], ['POST', '/api/capture'], ['GET', '/api/host/exec'], ['POST', '/api/sessions']] as const) {
      const r = await http(path, { method, headers: auth, ...(method === 'POST' ? { body: '{"action":"stop"}' } : {}) });
      assert.deepEqual([r.status, JSON.parse(r.body)], [404, { ok: false, code: 'NOT_FOUND', message: `no ${method} ${path} here` }]);
    }
    assert.deepEqual(client.calls, []);
  });
});

async function waitFor(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('private files of qemunet web (the token off command lines)', () => {
  it('makes a 0700 folder of 0600 files it never writes twice, and removes it', async () => {
    const runtime = await mkdtemp(join(tmpdir(), 'qemunet-runtime-'));
    try {
      const files = await PrivateFiles.make({ XDG_RUNTIME_DIR: runtime });
      assert.equal(dirname(files.dir), runtime);
      assert.equal((await stat(files.dir)).mode & 0o777, 0o700);
      const page = await files.write('open.html', openerPage('http://127.0.0.1:1/#token=tok'));
      assert.deepEqual([(await stat(page)).mode & 0o777, (await readFile(page, 'utf8')).includes('#token=tok')], [0o600, true]);
      await assert.rejects(files.write('open.html', 'again'), { code: 'EEXIST' });
      files.removeSync();
      await assert.rejects(stat(files.dir), { code: 'ENOENT' });
    } finally {
      await rm(runtime, { recursive: true, force: true });
    }
  });

  it('writes the opener page with the URL escaped for HTML', () => {
    assert.equal(
      openerPage('http://127.0.0.1:1/?a=1&b="<x>#token=t'),
      '<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0; url=http://127.0.0.1:1/?a=1&amp;b=&quot;&lt;x>#token=t">\n<title>qemunet web</title>\n<p>Opening <a href="http://127.0.0.1:1/?a=1&amp;b=&quot;&lt;x>#token=t">qemunet web</a>…</p>\n',
    );
  });
});
