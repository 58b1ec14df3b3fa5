import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { FakeWebSession, PCAP_HEADER, RecordingClient } from '../helpers/fake-web-session.js';
import { startWebServer, type WebServer } from '../../src/web/server/http-server.js';

/**
 * The web routes' input, attacked over HTTP: each body is checked once against its route's schema
 * (a bad one reaches nothing), names are the session's to refuse, and the server keeps answering.
 * The doors (token, Origin, Host, body size) of every route are web.test.ts's.
 */

describe('web routes: each body checked once against its schema, names by the session', () => {
  let server: WebServer;
  const client = new RecordingClient();
  before(async () => {
    server = await startWebServer({ session: new FakeWebSession(), port: 0, token: 'tok', clientOf: () => client });
  });
  after(() => server.close());
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers: { Authorization: 'Bearer tok', 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get('content-type'), bytes, json: () => JSON.parse(bytes.toString()) as { ok: boolean; code?: string; message?: string; result?: unknown } };
  };
  const refused = async (path: string, body: unknown) => {
    const r = await post(path, body);
    const reply = r.json();
    return `${r.status} ${reply.code}: ${reply.message}`;
  };

  it('valid requests reach the session API as they were sent', async () => {
    client.calls.length = 0;
    assert.deepEqual((await post('/api/nic/link', { nic: 'a:eth0', up: false })).json(), { ok: true });
    assert.deepEqual((await post('/api/nic/faults', { nic: 'a:eth0', faults: { delay: '40ms', jitter: '5ms', loss: '' } })).json(), { ok: true });
    assert.deepEqual((await post('/api/host/power', { host: 'a', power: 'restart' })).json(), { ok: true });
    assert.deepEqual((await post('/api/host/exec', { host: 'a', command: 'ip addr' })).json().result, { status: 0, stdout: 'out\n', stderr: '', truncated: false });
    assert.deepEqual((await post('/api/switch/command', { switch: 's1', command: 'vlan/print' })).json().result, { code: 1000, message: 'Success', data: [] });
    assert.deepEqual((await post('/api/switch/vlans', { switch: 's1' })).json().result, [{ vlan: 1, ports: [] }]);
    const wireshark = (await post('/api/capture/command', { nic: 'a:eth0' })).json().result as { command: string };
    assert.match(wireshark.command, /'http:\/\/127\.0\.0\.1:\d+\/api\/capture\/live' <<'EOF' \| wireshark -k -i -\nAuthorization: Bearer tok\nEOF$/);
    const timed = await post('/api/capture/file', { nic: 'a:eth0', seconds: 0.2 });
    assert.deepEqual([timed.status, timed.type, timed.bytes.equals(PCAP_HEADER)], [200, 'application/vnd.tcpdump.pcap', true]);
    assert.deepEqual((await post('/api/session/stop', {})).json(), { ok: true });
    assert.deepEqual(client.calls, [
      ['setLink', 'a:eth0', false],
      ['setFaults', 'a:eth0', [['delay', '40ms+5ms']]],
      ['powerOnHost', 'a'],
      ['exec', 'a', ['/bin/sh', '-c', 'ip addr']],
      ['labSwitchCommand', 's1', 'vlan/print'],
      ['switchCommand', 's1', 'vlan/print'],
      ['captureStream', 'a:eth0'],
      ['captureStop', 'a:eth0'],
      ['stop'],
    ]);
  });

  it('wrong types, missing and unknown fields: a 400 naming the field, what it may be, and a body that works', async () => {
    client.calls.length = 0;
    assert.equal(await refused('/api/nic/link', { nic: 'a:eth0', up: 'false' }), '400 BAD_REQUEST: bad link request: up must be true or false, not "false" (a string); send a body like {"nic":"a:eth0","up":false}');
    assert.equal(await refused('/api/nic/link', { nic: ['a:eth0'], up: true }), '400 BAD_REQUEST: bad link request: nic must be a string, not an array; send a body like {"nic":"a:eth0","up":false}');
    assert.equal(await refused('/api/nic/link', { nic: 'a:eth0', up: true, action: 'stop' }), '400 BAD_REQUEST: bad link request: unknown field "action" (allowed: nic, up); send a body like {"nic":"a:eth0","up":false}');
    assert.equal(await refused('/api/nic/link', null), '400 BAD_REQUEST: bad link request: the body must be an object, not null; send a body like {"nic":"a:eth0","up":false}');
    assert.equal(await refused('/api/nic/link', [1]), '400 BAD_REQUEST: bad link request: the body must be an object, not an array; send a body like {"nic":"a:eth0","up":false}');
    assert.equal(await refused('/api/nic/faults', { nic: 'a:eth0', faults: { loss: 5 } }), '400 BAD_REQUEST: bad faults request: faults.loss must be a string, not 5 (an integer); send a body like {"nic":"a:eth0","faults":{"delay":"40ms","jitter":"10ms","loss":"5%"}}');
    assert.match(await refused('/api/nic/faults', { nic: 'a:eth0', faults: { __proto__: { x: 1 }, constructor: 'x' } }), /^400 BAD_REQUEST: bad faults request: faults has unknown field "constructor" \(allowed: delay, jitter, loss, dup, bandwidth, mtu\)/);
    assert.equal(await refused('/api/host/power', { host: 'a', power: 'reboot' }), '400 BAD_REQUEST: bad power request: power must be "off" or "on" or "restart"; send a body like {"host":"a","power":"restart"}');
    assert.equal(await refused('/api/host/exec', { host: 'a', command: '   ' }), '400 BAD_REQUEST: bad exec request: command: must not be blank; send a body like {"host":"a","command":"ip addr"}');
    assert.equal(await refused('/api/host/exec', { host: 'a', command: 'ls\0/' }), '400 BAD_REQUEST: bad exec request: command: must hold no NUL byte; send a body like {"host":"a","command":"ip addr"}');
    assert.equal(await refused('/api/capture/file', { nic: 'a:eth0', seconds: 301 }), '400 BAD_REQUEST: bad capture request: seconds must be at most 300; send a body like {"nic":"a:eth0","seconds":10}');
    assert.equal(await refused('/api/capture/file', { nic: 'a:eth0', seconds: '10' }), '400 BAD_REQUEST: bad capture request: seconds must be a number, not "10" (a string); send a body like {"nic":"a:eth0","seconds":10}');
    assert.equal(await refused('/api/session/stop', { now: true }), '400 BAD_REQUEST: bad stop request: unknown field "now" (allowed: none); send a body like {}');
    assert.equal(await refused('/api/labs/start', { file: '../x.topo' }), '400 BAD_REQUEST: bad labStart request: file: "../x.topo" is not a file of the labs folder: give its plain name, without a folder; send a body like {"file":"lan.topo"}');
    assert.deepEqual(client.calls, [], 'nothing reached the session');
  });

  it('NIC references: only HOST:ethN passes, as parseNicRef reads it; unknown ones are the session\'s to refuse', async () => {
    client.calls.length = 0;
    const bad = ['a:eth0/../x', '../a:eth0', 'a:eth0\n', ' a:eth0', 'a:eth0 ', 'a:eth-1', 'a:eth', 'a:eth0x', 'a:%65th0', 'a%3Aeth0', 'a:ETH0', 'a:eth0;reboot', "a:eth0'", ':eth0', 'a::eth0', 'a:eth١', 'a:eth0\u0000', `a:eth${'9'.repeat(30)}`, ''];
    for (const nic of bad) {
      for (const path of ['/api/nic/link', '/api/capture/live', '/api/capture/command']) {
        const r = await post(path, { nic, ...(path === '/api/nic/link' ? { up: true } : {}) });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(nic)}`);
        assert.match(r.json().message!, new RegExp(`^bad \\w+ request: nic: ${JSON.stringify(nic).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} is not a NIC: write HOST:ethN, like a:eth0;`), JSON.stringify(nic));
      }
    }
    assert.equal(await refused('/api/nic/link', { nic: `a:eth${'0'.repeat(200)}`, up: true }), '400 BAD_REQUEST: bad link request: nic must be at most 128 characters; send a body like {"nic":"a:eth0","up":false}');
    assert.deepEqual(client.calls, [], 'no bad reference reached the session');
    assert.equal(await refused('/api/nic/link', { nic: 'a:eth999', up: true }), '400 UNKNOWN_NIC: a has no eth999; it has eth0');
    assert.equal(await refused('/api/nic/link', { nic: 'zz:eth0', up: true }), '400 UNKNOWN_HOST: session /nowhere has no host zz; hosts: a');
    assert.equal(await refused('/api/host/exec', { host: 'b', command: 'id' }), '400 UNKNOWN_HOST: session /nowhere has no host b; hosts: a');
    assert.equal(await refused('/api/switch/vlans', { switch: 's9' }), '400 UNKNOWN_SWITCH: session /nowhere has no switch s9; switches: s1');
    assert.deepEqual(client.calls, [['setLink', 'a:eth999', true], ['setLink', 'zz:eth0', true], ['exec', 'b', ['/bin/sh', '-c', 'id']], ['switchCommand', 's9', 'vlan/print']]);
  });

  it('oversize strings are refused before anything reads them, and the server keeps answering', async () => {
    client.calls.length = 0;
    const long = 'x'.repeat(60000);
    assert.equal(await refused('/api/host/exec', { host: long, command: 'id' }), '400 BAD_REQUEST: bad exec request: host must be at most 64 characters; send a body like {"host":"a","command":"ip addr"}');
    assert.equal(await refused('/api/host/exec', { host: 'a', command: long }), '400 BAD_REQUEST: bad exec request: command must be at most 4096 characters; send a body like {"host":"a","command":"ip addr"}');
    assert.equal(await refused('/api/switch/command', { switch: 's1', command: long }), '400 BAD_REQUEST: bad switchCommand request: command must be at most 4096 characters; send a body like {"switch":"s1","command":"vlan/print"}');
    assert.equal(await refused('/api/nic/faults', { nic: 'a:eth0', faults: { delay: long } }), '400 BAD_REQUEST: bad faults request: faults.delay must be at most 64 characters; send a body like {"nic":"a:eth0","faults":{"delay":"40ms","jitter":"10ms","loss":"5%"}}');
    const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    assert.match(await refused('/api/nic/link', deep), /^400 BAD_REQUEST: bad link request: the body must be an object, not an array;/);
    assert.deepEqual(client.calls, []);
    const alive = await fetch(`http://127.0.0.1:${server.port}/api/session`, { headers: { Authorization: 'Bearer tok' } });
    assert.equal(alive.status, 200);
  });
});

describe('the page bundle', () => {
  it('carries no schema library: the page imports types only from the server\'s schemas', async () => {
    const bundle = await readFile(new URL('../../web/app.js', import.meta.url), 'utf8');
    assert.ok(bundle.includes('/api/nic/link'), 'the route table is in the bundle');
    for (const marker of ['_zod', 'ZodError', 'zod.dev']) assert.equal(bundle.includes(marker), false, `the bundle holds ${marker}`);
  });
});
