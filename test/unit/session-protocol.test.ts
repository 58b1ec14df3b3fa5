import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_NAMES, encodeRequest, parseNotification, parseReply, parseRequest, PROTOCOL_VERSION, type ControlCommand } from '../../src/protocol/session-protocol.js';

/** One valid request of every command: the declaration must accept each as it is. */
const VALID: ControlCommand[] = [
  { cmd: 'freeze' },
  { cmd: 'thaw' },
  { cmd: 'restart', host: 'syl' },
  { cmd: 'link', host: 'syl', nic: 0, up: false },
  { cmd: 'faults', host: 'syl', nic: 0, faults: { delay: { ms: 40, jitterMs: 10 }, lossPct: 10, dupPct: 0.5, bandwidth: 1250000, mtu: 1400 } },
  { cmd: 'faults', host: 'syl', nic: 0, faults: {} },
  { cmd: 'capture', host: 'syl', nic: 0, file: '/tmp/€.pcap' },
  { cmd: 'capture-stop', id: 'capture1' },
  { cmd: 'stop' },
  { cmd: 'power-off', host: 'syl' },
  { cmd: 'check' },
  { cmd: 'check', checks: 'CHECK "x" ping a 10.0.0.1\n', file: 'lab.checks', student: 'alice', view: 'teacher', format: 'junit' },
  { cmd: 'subscribe' },
];

/** `parseRequest`'s refusal of a line, as the session's reply carries it. */
function refusal(line: string): { code: string; message: string } {
  try {
    parseRequest(line);
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  assert.fail(`accepted ${line}`);
}

const req = (o: object) => JSON.stringify({ v: PROTOCOL_VERSION, ...o });

describe('session protocol', () => {
  it('accepts every command as a client encodes it, unchanged', () => {
    assert.deepEqual(COMMAND_NAMES.filter((n) => !VALID.some((c) => c.cmd === n)), [], 'a command without a valid example here');
    for (const c of VALID) assert.deepEqual(parseRequest(encodeRequest(c)), c);
    assert.equal(encodeRequest({ cmd: 'link', host: 'a', nic: 0, up: true }), '{"v":1,"cmd":"link","host":"a","nic":0,"up":true}\n');
  });

  it('refuses a line that is not a JSON object', () => {
    assert.deepEqual(refusal('hello there'), {
      code: 'CONTROL_NOT_JSON',
      message: `the request is not JSON (Unexpected token 'h', "hello there" is not valid JSON); send one JSON object per line, like {"v":1,"cmd":"subscribe"}`,
    });
    assert.deepEqual(refusal('[1]'), { code: 'CONTROL_NOT_JSON', message: 'the request is an array, not a JSON object; send one per line, like {"v":1,"cmd":"subscribe"}' });
  });

  it('refuses another protocol version, or none, naming both', () => {
    assert.deepEqual(refusal('{"cmd":"subscribe"}'), { code: 'PROTOCOL_VERSION', message: 'this session speaks control protocol 1 and the request carries no version "v": use the qemunet that started the session' });
    assert.deepEqual(refusal('{"v":2,"cmd":"subscribe"}'), { code: 'PROTOCOL_VERSION', message: 'this session speaks control protocol 1 and the request is for version 2: use the qemunet that started the session' });
  });

  it('refuses an unknown or missing command, listing the commands', () => {
    const commands = 'freeze, thaw, restart, link, faults, capture, capture-stop, stop, power-off, check, subscribe';
    assert.deepEqual(refusal(req({ cmd: 'reboot-all' })), { code: 'UNKNOWN_COMMAND', message: `unknown command "reboot-all"; commands: ${commands}` });
    assert.deepEqual(refusal(req({ host: 'a' })), { code: 'UNKNOWN_COMMAND', message: `the request has no "cmd"; commands: ${commands}` });
    // An inherited name is no command.
    assert.equal(refusal(req({ cmd: 'toString' })).code, 'UNKNOWN_COMMAND');
  });

  it('refuses bad arguments, naming the field and what the command takes', () => {
    const link = 'link takes host (a host name), nic (a NIC index, 0 for eth0), up (true or false)';
    assert.deepEqual(refusal(req({ cmd: 'link', host: 'a', nic: '0', up: true })), { code: 'BAD_COMMAND', message: `bad "link" request: nic must be a number, not "0" (a string); ${link}` });
    assert.deepEqual(refusal(req({ cmd: 'link', host: 'a', nic: 1.5, up: 'yes' })), {
      code: 'BAD_COMMAND',
      message: `bad "link" request: nic must be an integer, not 1.5 (a number); up must be true or false, not "yes" (a string); ${link}`,
    });
    assert.deepEqual(refusal(req({ cmd: 'link', nic: -1, up: true })), { code: 'BAD_COMMAND', message: `bad "link" request: host is missing; nic must be at least 0; ${link}` });
    assert.deepEqual(refusal(req({ cmd: 'restart', host: '' })), { code: 'BAD_COMMAND', message: 'bad "restart" request: host must not be empty; restart takes host (a host name)' });
    assert.deepEqual(refusal(req({ cmd: 'freeze', force: true })), { code: 'BAD_COMMAND', message: 'bad "freeze" request: unknown field "force"; freeze takes no arguments' });
    assert.deepEqual(refusal(req({ cmd: 'capture', host: 'a', nic: 0, file: { path: '/tmp' } })), {
      code: 'BAD_COMMAND',
      message: 'bad "capture" request: file must be a string, not an object; capture takes host (a host name), nic (a NIC index, 0 for eth0), file (a file path)',
    });
  });

  it('refuses faults outside what the wirefilter takes, with the ranges of the text syntax', () => {
    const takes = 'faults takes host (a host name), nic (a NIC index, 0 for eth0), faults (an object with any of delay, lossPct, dupPct, bandwidth, mtu)';
    const faults = (f: unknown) => refusal(req({ cmd: 'faults', host: 'a', nic: 0, faults: f }));
    assert.deepEqual(faults({ lossPct: 101 }), { code: 'BAD_COMMAND', message: `bad "faults" request: faults.lossPct must be at most 100; ${takes}` });
    assert.deepEqual(faults({ mtu: 20, jitter: 5 }), { code: 'BAD_COMMAND', message: `bad "faults" request: faults.mtu must be at least 68; faults has unknown field "jitter"; ${takes}` });
    assert.deepEqual(faults({ delay: 40 }), { code: 'BAD_COMMAND', message: `bad "faults" request: faults.delay must be an object, not 40 (an integer); ${takes}` });
    assert.deepEqual(faults({ bandwidth: 1.5 }), { code: 'BAD_COMMAND', message: `bad "faults" request: faults.bandwidth must be an integer, not 1.5 (a number); ${takes}` });
    assert.deepEqual(faults(undefined), { code: 'BAD_COMMAND', message: `bad "faults" request: faults is missing; ${takes}` });
  });

  it('checks the reply and its result against the command', () => {
    assert.deepEqual(parseReply('{"ok":true,"result":["a"]}', 'freeze'), ['a']);
    assert.throws(() => parseReply('{"ok":false,"code":"UNKNOWN_HOST","message":"no host z"}', 'restart'), { code: 'UNKNOWN_HOST', message: 'no host z' });
    assert.throws(() => parseReply('{"ok":true,"result":"a"}', 'freeze'), { code: 'CONTROL_FAILED', message: 'the answer to "freeze" does not fit control protocol 1: the result must be an array, not "a" (a string)' });
    assert.throws(() => parseReply('{"ok":"yes"}', 'freeze'), { code: 'CONTROL_FAILED', message: 'the session\'s answer to "freeze" is not a reply of control protocol 1: ok: Invalid discriminator value. Expected \'true\' | \'false\'' });
    assert.throws(() => parseReply('nope', 'freeze'), { code: 'CONTROL_FAILED' });
  });

  it('reads a pushed state, and nothing else, as a notification', () => {
    const state = { version: 1, dir: '/s', topology: '/s/t.topo', pid: 1, phase: 'running', accel: 'tcg', startedAt: 'x', hosts: [], switches: [] };
    assert.deepEqual(parseNotification(JSON.stringify({ event: 'state', state })), { event: 'state', state });
    assert.equal(parseNotification(JSON.stringify({ event: 'state', state: { ...state, phase: 'dancing' } })), undefined);
    assert.equal(parseNotification('{"event":"other"}'), undefined);
    assert.equal(parseNotification('not json'), undefined);
  });
});

describe('host states', () => {
  it('are declared once, with the groups clients test a state against', async () => {
    const { FINAL_HOST_STATES, HOST_STATES, UP_HOST_STATES } = await import('../../src/protocol/session-state.js');
    assert.deepEqual(HOST_STATES, ['pending', 'starting', 'booting', 'stalled', 'ready', 'running', 'stopping', 'stopped', 'crashed', 'failed']);
    assert.deepEqual([...FINAL_HOST_STATES], ['stopped', 'crashed', 'failed']);
    assert.deepEqual([...UP_HOST_STATES], ['booting', 'stalled', 'ready', 'running']);
  });
});

describe('session protocol: check, as an attacker would send it', () => {
  it('refuses wrong types, unknown views and formats, oversize text and names, extra fields', () => {
    const bad = [
      { cmd: 'check', checks: 5 },
      { cmd: 'check', view: 'root' },
      { cmd: 'check', format: 'html' },
      { cmd: 'check', checks: 'x'.repeat(512 * 1024 + 1) },
      { cmd: 'check', student: 'a'.repeat(65) },
      { cmd: 'check', student: '' },
      { cmd: 'check', file: '' },
      { cmd: 'check', run: 'rm -rf /' },
      { cmd: 'check', __proto__: { view: 'teacher' }, format: 'text', extra: 1 },
    ];
    for (const o of bad) assert.equal(refusal(req(o)).code, 'BAD_COMMAND', JSON.stringify(o).slice(0, 80));
    assert.match(refusal(req({ cmd: 'check', format: 'html' })).message, /^bad "check" request: format .*text, tap, junit, json/);
  });
});
