import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SessionClient } from '../../src/api/session-client.js';
import type { NicStatus, SessionState } from '../../src/lab/state.js';
import { eventually, qemunet } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/**
 * Raw lines to a session's control socket, as any process of the user could send them: what comes
 * back before the session closes the connection (or the test does, after `wantLines` lines).
 */
async function exchange(socketPath: string, data: string | Buffer, wantLines: number): Promise<{ lines: unknown[]; closed: boolean }> {
  const socket = connect(socketPath);
  await once(socket, 'connect');
  let text = '';
  let closed = false;
  socket.on('error', () => {});
  const done = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.split('\n').length - 1 >= wantLines) resolve();
    });
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.write(data);
  await done;
  socket.destroy();
  return { lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), closed };
}

describe('the control protocol on a running session', { timeout: 600000 }, () => {
  const tmp = suiteDir('protocol');
  const dir = join(tmp.path, 's');
  const control = join(dir, 'qemunet.ctl');

  before(async () => {
    await tinyImage();
    await writeFile(join(tmp.path, 'one.topo'), 'SWITCH s1\nHOST tiny a s1\n');
    const r = await qemunet(['up', join(tmp.path, 'one.topo'), '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('garbage, a wrong type, an unknown command and another version each get a typed refusal; the connection and the session go on', async () => {
    const lines = ['this is not json', '{"v":1,"cmd":"link","host":"a","nic":"0","up":false}', '{"v":1,"cmd":"reboot-all"}', '{"v":7,"cmd":"subscribe"}', '{"v":1,"cmd":"subscribe"}'];
    const { lines: replies, closed } = await exchange(control, `${lines.join('\n')}\n`, 5);
    assert.equal(closed, false);
    assert.deepEqual(replies.slice(0, 4), [
      { ok: false, code: 'CONTROL_NOT_JSON', message: `the request is not JSON (Unexpected token 'h', "this is not json" is not valid JSON); send one JSON object per line, like {"v":1,"cmd":"subscribe"}` },
      { ok: false, code: 'BAD_COMMAND', message: 'bad "link" request: nic must be a number, not "0" (a string); link takes host (a host name), nic (a NIC index, 0 for eth0), up (true or false)' },
      { ok: false, code: 'UNKNOWN_COMMAND', message: 'unknown command "reboot-all"; commands: freeze, thaw, restart, link, faults, capture, capture-stop, stop, power-off, check, subscribe' },
      { ok: false, code: 'PROTOCOL_VERSION', message: 'this session speaks control protocol 1 and the request is for version 7: use the qemunet that started the session' },
    ]);
    // The same connection still answers: the subscription's first reply is the state.
    const subscribed = replies[4] as { ok: boolean; result: SessionState };
    assert.equal(subscribed.ok, true);
    assert.equal(subscribed.result.phase, 'running');
    // The refused link request did nothing.
    assert.equal(subscribed.result.hosts.find((h) => h.name === 'a')!.nics[0]!.up, true);
  });

  test('a 10 MiB line is refused and its connection closed; the session answers a new one', async () => {
    const { lines, closed } = await exchange(control, Buffer.alloc(10 * 1024 * 1024, 'x'), 2);
    assert.equal(closed, true);
    assert.deepEqual(lines, [{ ok: false, code: 'LINE_TOO_LONG', message: 'a control client sent a line longer than 1 MiB' }]);
    const session = SessionClient.at(dir);
    const sub = await session.subscribe(() => {});
    try {
      assert.equal(sub.state.phase, 'running');
      assert.equal(sub.state.hosts.find((h) => h.name === 'a')!.state, 'ready');
    } finally {
      sub.close();
    }
    assert.equal((await qemunet(['status', '--session', dir])).code, 0);
  });

  test('a fault set with qemunet link shows in status --json on that NIC and is pushed to a subscriber', async () => {
    const pushed: SessionState[] = [];
    const sub = await SessionClient.at(dir).subscribe((state) => pushed.push(state));
    assert.equal(nicOf(sub.state).wired, false, 'no LINK line: no wirefilter yet');
    try {
      const set = await qemunet(['link', 'a:eth0', '--delay', '40ms', '--session', dir]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /^Delay +L->R 40\+0U +R->L 40\+0U/m, 'the wirefilter put in live has it');
      const status = JSON.parse((await qemunet(['status', '--json', '--session', dir])).stdout) as SessionState;
      assert.deepEqual(status.hosts.find((h) => h.name === 'a')!.nics[0]!.faults, { delay: { ms: 40, jitterMs: 0 } });
      const seen = await eventually(() => pushed.find((s) => s.hosts.find((h) => h.name === 'a')!.nics[0]!.faults), 10000, 'the faults pushed');
      assert.deepEqual(seen.hosts.find((h) => h.name === 'a')!.nics[0]!.faults, { delay: { ms: 40, jitterMs: 0 } });
      assert.equal(nicOf(status).wired, true, 'the wirefilter put in live is recorded');
      assert.match((await qemunet(['status', '--session', dir])).stdout, /^a:eth0 faults: 40 ms$/m);
      // A second fault adds to the first; 0 ms takes the delay away.
      await qemunet(['link', 'a:eth0', '--loss', '5%', '--session', dir]);
      await qemunet(['link', 'a:eth0', '--delay', '0ms', '--session', dir]);
      const after = JSON.parse((await qemunet(['status', '--json', '--session', dir])).stdout) as SessionState;
      assert.deepEqual(after.hosts.find((h) => h.name === 'a')!.nics[0]!.faults, { lossPct: 5 });
    } finally {
      sub.close();
    }
  });

  test('link down and up is recorded on the NIC: status --json, the status table and a subscriber see it', async () => {
    const pushed: SessionState[] = [];
    const sub = await SessionClient.at(dir).subscribe((state) => pushed.push(state));
    try {
      assert.equal((await qemunet(['link', 'a:eth0', 'down', '--session', dir])).code, 0);
      assert.equal(nicOf(await statusJson()).up, false);
      assert.match((await qemunet(['status', '--session', dir])).stdout, /eth0=s1:\d+\(down\)/);
      await eventually(() => pushed.find((s) => nicOf(s).up === false), 10000, 'link down pushed');
      assert.equal((await qemunet(['link', 'a:eth0', 'up', '--session', dir])).code, 0);
      assert.equal(nicOf(await statusJson()).up, true);
      assert.doesNotMatch((await qemunet(['status', '--session', dir])).stdout, /\(down\)/);
    } finally {
      sub.close();
    }
  });

  test('a capture is on its NIC while it runs, for a subscriber, status --json and the status table; stopped, it is gone', async () => {
    const pushed: SessionState[] = [];
    const sub = await SessionClient.at(dir).subscribe((state) => pushed.push(state));
    try {
      const capture = await SessionClient.at(dir).capture('a:eth0', join(tmp.path, 'a.pcap'));
      const seen = await eventually(() => nicOf(pushed.at(-1))?.captures, 10000, 'the capture pushed');
      assert.equal(seen.length, 1);
      assert.match(seen[0]!.id, /^capture\d+$/);
      assert.ok(Math.abs(Date.parse(seen[0]!.since) - Date.now()) < 60000, seen[0]!.since);
      assert.deepEqual(nicOf(await statusJson()).captures, seen);
      assert.match((await qemunet(['status', '--session', dir])).stdout, /eth0=s1:\d+\(capture\)/);
      await capture.stop();
      assert.equal('captures' in nicOf(await statusJson()), false);
      await eventually(() => ('captures' in nicOf(pushed.at(-1)) ? undefined : true), 10000, 'the end of the capture pushed');
    } finally {
      sub.close();
    }
  });

  test('a capture whose client connection drops leaves the state', async () => {
    const pushed: SessionState[] = [];
    const sub = await SessionClient.at(dir).subscribe((state) => pushed.push(state));
    try {
      const request = { v: 1, cmd: 'capture', host: 'a', nic: 0, file: join(tmp.path, 'dropped.pcap') };
      // The connection is destroyed once the session has answered with the capture's id.
      const { lines } = await exchange(control, `${JSON.stringify(request)}\n`, 1);
      const id = (lines[0] as { result: string }).result;
      await eventually(() => pushed.find((s) => nicOf(s).captures?.some((c) => c.id === id)), 10000, 'the capture pushed');
      await eventually(async () => ('captures' in nicOf(await statusJson()) ? undefined : true), 10000, 'the capture gone from status --json');
      assert.equal('captures' in nicOf(pushed.at(-1)), false);
    } finally {
      sub.close();
    }
  });

  /** Host a's eth0 in a state (nothing before the first state is pushed). */
  function nicOf(state: SessionState | undefined): Partial<NicStatus> {
    return state?.hosts.find((h) => h.name === 'a')!.nics[0] ?? {};
  }

  async function statusJson(): Promise<SessionState> {
    const r = await qemunet(['status', '--json', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as SessionState;
  }
});

// A UML host's link is cut in its NIC's wirefilter (it has no carrier to drop), by a loss of 100 %.
describe("a UML host's link and faults", { timeout: 600000 }, () => {
  const tmp = suiteDir('protocol-uml');
  const dir = join(tmp.path, 's');

  before(async () => {
    await tinyImage();
    await writeFile(join(tmp.path, 'uml.topo'), 'SWITCH s1\nHOST tiny-uml u s1\n');
    const r = await qemunet(['up', join(tmp.path, 'uml.topo'), '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test("a UML host's link down and up keeps the loss set live", async () => {
    const loss = async () => /^Loss +L->R ([\d.]+)/m.exec((await qemunet(['link', 'u:eth0', '--session', dir])).stdout)?.[1];
    assert.equal((await qemunet(['link', 'u:eth0', '--loss', '30%', '--session', dir])).code, 0);
    assert.equal(Number(await loss()), 30);
    assert.equal((await qemunet(['link', 'u:eth0', 'down', '--session', dir])).code, 0);
    assert.equal(Number(await loss()), 100, 'down: every frame dropped');
    const down = JSON.parse((await qemunet(['status', '--json', '--session', dir])).stdout) as SessionState;
    assert.deepEqual(down.hosts.find((h) => h.name === 'u')!.nics[0], { ...down.hosts.find((h) => h.name === 'u')!.nics[0]!, up: false, wired: true, faults: { lossPct: 30 } }, 'the loss recorded is the one set, not the cut');
    assert.equal((await qemunet(['link', 'u:eth0', 'up', '--session', dir])).code, 0);
    assert.equal(Number(await loss()), 30, 'up: the live loss, not the planned 0');
    const status = JSON.parse((await qemunet(['status', '--json', '--session', dir])).stdout) as SessionState;
    assert.deepEqual(status.hosts.find((h) => h.name === 'u')!.nics[0]!.faults, { lossPct: 30 });
    assert.equal(status.hosts.find((h) => h.name === 'u')!.nics[0]!.up, true);
  });
});
