import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sessionPaths } from '../../src/session/paths.js';
import { alivePids, eventually, qemunet, qemunetForeground, sessionPids, stateOf } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** Each host's `<session>/<host>/start.sh`, as a teacher prepares a QemuNet session. */
async function startScripts(dir: string, scripts: Record<string, string>): Promise<void> {
  for (const [host, body] of Object.entries(scripts)) {
    await mkdir(join(dir, host), { recursive: true });
    await writeFile(join(dir, host, 'start.sh'), `#!/bin/sh\nset -e\n${body}\n`);
  }
}

async function exec(dir: string, host: string, command: string) {
  return qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);
}

describe('lan.topo on tiny (--alias debian=tiny --wait)', { timeout: 600000 }, () => {
  const tmp = suiteDir('lan');
  const dir = join(tmp.path, 's');
  const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
  const addresses = { immortal: '192.168.0.1', syl: '192.168.0.2', opeth: '192.168.0.3', grave: '192.168.0.4' };

  before(async () => {
    await tinyImage();
    await startScripts(dir, Object.fromEntries(Object.entries(addresses).map(([h, ip]) => [h, `ip addr add ${ip}/24 dev eth0`])));
    const r = await qemunet(['up', fixture('topologies', 'lan.topo'), '--alias', 'debian=tiny', '--wait', '--session', dir], { cwd: tmp.path, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /immortal\s+ready/);
  });
  after(async () => {
    await qemunet(['down', '--session', dir], { env });
    await tmp.remove();
  });

  test('every pair of hosts pings', async () => {
    for (const [host] of Object.entries(addresses)) {
      const others = Object.entries(addresses).filter(([h]) => h !== host).map(([, ip]) => ip);
      const r = await exec(dir, host, `for ip in ${others.join(' ')}; do ping -c 1 -W 5 $ip >/dev/null || { echo "no answer from $ip"; exit 1; }; done; echo all-answered`);
      assert.equal(r.code, 0, `${host}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout.trim(), 'all-answered');
    }
  });

  test('status shows QemuNet port numbering and every host ready', async () => {
    const r = await qemunet(['status', '--session', dir, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const state = JSON.parse(r.stdout);
    assert.equal(state.phase, 'running');
    assert.deepEqual(
      state.hosts.map((h: { name: string; state: string; nics: Array<{ switch: string; port: number }> }) => [h.name, h.state, h.nics.map((n) => `${n.switch}:${n.port}`).join()]),
      [['immortal', 'ready', 's1:1'], ['opeth', 'ready', 's1:2'], ['syl', 'ready', 's1:3'], ['grave', 'ready', 's1:4']],
    );
  });

  test('ls lists the session; commands find it without --session', async () => {
    const ls = await qemunet(['ls'], { env });
    assert.match(ls.stdout, new RegExp(`^${dir}  running  4/4 hosts ready`, 'm'));
    const r = await qemunet(['exec', 'syl', '--', 'hostname'], { env });
    assert.equal(r.stdout, 'syl\n');
  });

  test('exec returns the guest command status, its stdout and its stderr', async () => {
    const r = await exec(dir, 'grave', 'echo out; echo err >&2; exit 3');
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  });

  test('exec hands over output while the guest command runs', async () => {
    const child = qemunetForeground(['exec', 'opeth', '--session', dir, '--', 'sh', '-c', 'echo first; sleep 3; echo second']);
    const chunks: Array<{ at: number; text: string }> = [];
    child.stdout!.on('data', (d: Buffer) => chunks.push({ at: Date.now(), text: d.toString() }));
    const [code] = await once(child, 'exit');
    const exitAt = Date.now();
    assert.equal(code, 0);
    assert.equal(chunks.map((c) => c.text).join(''), 'first\nsecond\n');
    assert.ok(exitAt - chunks[0]!.at >= 2000, `"first" arrived ${exitAt - chunks[0]!.at} ms before the end, not while the command ran`);
  });

  test('two clients share a serial console at once', async () => {
    const sock = sessionPaths(dir).host('opeth').console;
    const a = connect(sock);
    const b = connect(sock);
    let seenA = '';
    let seenB = '';
    a.on('data', (d) => (seenA += d.toString()));
    b.on('data', (d) => (seenB += d.toString()));
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('connect', r))));
    a.write('echo console-$((6*7))\n');
    await eventually(() => (seenA.includes('console-42') && seenB.includes('console-42') ? true : undefined), 20000, 'the echo on both clients');
    a.destroy();
    b.destroy();
  });

  test('the session link and QemuNet layout are in place', async () => {
    const state = await stateOf(dir);
    assert.ok(state);
    const r = await exec(dir, 'immortal', 'ls /mnt/host; cat /proc/cmdline');
    assert.match(r.stdout, /^start\.sh$/m);
    assert.match(r.stdout, /hostname=immortal/);
  });

  test('down stops everything and leaves no process', async () => {
    const before = (await stateOf(dir))!;
    const r = await qemunet(['down', '--session', dir], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(alivePids(sessionPids(before)), []);
    const after = (await stateOf(dir))!;
    assert.equal(after.phase, 'stopped');
    assert.deepEqual(after.hosts.map((h) => h.state), ['stopped', 'stopped', 'stopped', 'stopped']);
  });
});

describe('gw.topo: the two-NIC host routes between two switches', { timeout: 600000 }, () => {
  const tmp = suiteDir('gw');
  const dir = join(tmp.path, 's');
  const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };

  before(async () => {
    await startScripts(dir, {
      immortal: 'ip addr add 147.210.0.1/24 dev eth0\nip addr add 192.168.0.1/24 dev eth1\nsysctl -qw net.ipv4.ip_forward=1',
      grave: 'ip addr add 147.210.0.2/24 dev eth0\nip route add default via 147.210.0.1',
      opeth: 'ip addr add 192.168.0.2/24 dev eth0\nip route add default via 192.168.0.1',
      syl: 'ip addr add 192.168.0.3/24 dev eth0\nip route add default via 192.168.0.1',
    });
    const r = await qemunet(['-t', fixture('topologies', 'gw.topo'), '--alias', 'debian=tiny', '--wait', '-S', dir], { cwd: tmp.path, env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir], { env });
    await tmp.remove();
  });

  test('opeth and syl reach grave through immortal', async () => {
    for (const host of ['opeth', 'syl']) {
      const r = await exec(dir, host, 'ping -c 1 -W 5 147.210.0.2 >/dev/null && traceroute -n -q 1 -w 3 147.210.0.2');
      assert.equal(r.code, 0, `${host}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^ 1 {2}192\.168\.0\.1 /m);
      assert.match(r.stdout, /^ 2 {2}147\.210\.0\.2 /m);
    }
  });

  test('without forwarding on immortal, the switches are apart', async () => {
    await exec(dir, 'immortal', 'sysctl -qw net.ipv4.ip_forward=0');
    const r = await exec(dir, 'opeth', 'ping -c 1 -W 2 147.210.0.2');
    assert.notEqual(r.code, 0);
    await exec(dir, 'immortal', 'sysctl -qw net.ipv4.ip_forward=1');
  });
});

for (const kind of ['HUB', 'SWITCH'] as const) {
  describe(`a ${kind} ${kind === 'HUB' ? 'repeats frames to every port' : 'sends a frame only to its port'}`, { timeout: 600000 }, () => {
    const tmp = suiteDir(kind.toLowerCase());
    const dir = join(tmp.path, 's');
    const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
    const topo = join(tmp.path, 'three.topo');

    before(async () => {
      await writeFile(topo, `${kind} x1\nHOST tiny a x1\nHOST tiny b x1\nHOST tiny c x1\n`);
      await startScripts(dir, { a: 'ip addr add 10.0.0.1/24 dev eth0', b: 'ip addr add 10.0.0.2/24 dev eth0', c: 'ip addr add 10.0.0.3/24 dev eth0' });
      const r = await qemunet(['up', topo, '--wait', '--session', dir], { cwd: tmp.path, env });
      assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
      await qemunet(['down', '--session', dir], { env });
      await tmp.remove();
    });

    test(`c ${kind === 'HUB' ? 'sees' : 'does not see'} the ICMP between a and b`, async () => {
      const cap = await exec(dir, 'c', 'tcpdump -i eth0 -n -l icmp > /tmp/cap 2>/dev/null & echo started');
      assert.equal(cap.stdout, 'started\n');
      await eventually(async () => ((await exec(dir, 'c', 'pidof tcpdump')).code === 0 ? true : undefined), 20000, 'tcpdump on c');
      assert.equal((await exec(dir, 'a', 'ping -c 3 -W 5 10.0.0.2')).code, 0);
      // Then a pings c itself: once that is in c's capture, everything before it is too.
      assert.equal((await exec(dir, 'a', 'ping -c 1 -W 5 10.0.0.3')).code, 0);
      const seen = await eventually(async () => {
        const r = await exec(dir, 'c', 'cat /tmp/cap');
        return /IP 10\.0\.0\.1 > 10\.0\.0\.3: ICMP echo request/.test(r.stdout) ? r.stdout : undefined;
      }, 20000, 'the ping to c in its capture');
      const between = /IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request[\s\S]*IP 10\.0\.0\.2 > 10\.0\.0\.1: ICMP echo reply/;
      if (kind === 'HUB') assert.match(seen, between);
      else assert.doesNotMatch(seen, /10\.0\.0\.2/, 'the switch sent a frame between a and b to c');
    });
  });
}

