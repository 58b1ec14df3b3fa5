import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import type { SessionState } from '../../src/lab/state.js';
import { alivePids, eventually, leftovers, qemunet, qemunetForeground, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';
import { imageStoreDir } from '../../src/images/store.js';
import { run } from '../../src/process/run.js';
import { clickGraphElement, launchChromium, startQemunetWeb } from '../helpers/web.js';

/** The page's hooks the web test reads (sent to the page as text, so spelt out here). */
interface GraphHooks {
  qemunet: { graph: { $id(id: string): { data(key: string): string } }; consoleText(host: string): string | undefined };
}

const TOPOLOGY = 'SWITCH s1\nSWITCH s2\nHOST tiny q1 s1\nHOST tiny q2 s1\nHOST tiny-uml u1 s1 s2\n';
const ADDRESSES = { q1: '10.0.0.1', q2: '10.0.0.2', u1: '10.0.0.3' };
const SECRET = 'host-secret-not-for-guests';

function exec(dir: string, host: string, command: string) {
  return qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);
}

async function allReady(dir: string): Promise<SessionState> {
  return eventually(async () => {
    const s = await stateOf(dir);
    const failed = s?.hosts.find((h) => ['failed', 'crashed', 'stalled'].includes(h.state));
    if (failed) throw new Error(`${failed.name} ${failed.state}: ${failed.detail}`);
    return s && s.phase === 'running' && s.hosts.every((h) => h.state === 'ready') ? s : undefined;
  }, 240000, 'every host ready');
}

const pings = (dir: string, from: string, ip: string) => exec(dir, from, `ping -c 1 -W 3 ${ip} >/dev/null && echo answered`).then((r) => r.stdout.trim() === 'answered');

describe('a UML host (tiny-uml) next to QEMU hosts', { timeout: 900000 }, () => {
  const tmp = suiteDir('uml');
  const dir = join(tmp.path, 's');
  let child: ChildProcess;

  before(async () => {
    await tinyImage();
    await writeFile(join(tmp.path, 'secret.txt'), SECRET);
    for (const [host, ip] of Object.entries(ADDRESSES)) {
      await mkdir(join(dir, host), { recursive: true });
      // u1's start.sh also writes into its folder: the host sees it there.
      await writeFile(join(dir, host, 'start.sh'), `#!/bin/sh\nip addr add ${ip}/24 dev eth0\nhostname > /mnt/host/started-on\n`);
    }
    // u1's <host>.disk: a FAT disk, as QemuNet's are, with a file written on the host side and a start.sh.
    await run('mkfs.fat', ['-C', join(dir, 'u1.disk'), '8192']);
    await writeFile(join(tmp.path, 'disk-start.sh'), '#!/bin/sh\necho from-disk > /root/from-disk\n');
    await writeFile(join(tmp.path, 'host-file.txt'), 'written-on-the-host\n');
    await run('mcopy', ['-i', join(dir, 'u1.disk'), join(tmp.path, 'disk-start.sh'), '::/start.sh']);
    await run('mcopy', ['-i', join(dir, 'u1.disk'), join(tmp.path, 'host-file.txt'), '::/host-file.txt']);
    await writeFile(join(tmp.path, 'mixed.topo'), TOPOLOGY);
    await writeFile(join(dir, 'secret.txt'), SECRET);
    child = qemunetForeground(['up', join(tmp.path, 'mixed.topo'), '-K', '--display', 'none', '--session', dir], { cwd: tmp.path });
    await allReady(dir);
  });
  after(async () => {
    child.kill('SIGKILL');
    await tmp.remove();
  });

  test('it is ready through its guest agent, and exec runs commands in it', async () => {
    const u1 = (await stateOf(dir))!.hosts.find((h) => h.name === 'u1')!;
    assert.deepEqual([u1.system, u1.state, u1.agent], ['tiny-uml', 'ready', true]);
    const r = await exec(dir, 'u1', 'hostname; echo err >&2; exit 3');
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'u1\n', 'err\n']);
  });

  test("its console's kernel messages end their lines with CRLF, as a terminal needs (no stair step)", async () => {
    const log = await readFile(join(dir, 'u1.log'), 'latin1');
    const boot = log.slice(0, log.indexOf('is ready'));
    assert.ok(boot.includes('\r\n'), JSON.stringify(boot.slice(0, 300)));
    assert.deepEqual(boot.match(/(?<!\r)\n/g), null, JSON.stringify(boot.slice(0, 300)));
  });

  test('its NICs are eth0, eth1 in topology order, with QemuNet MACs, on the right switch ports', async () => {
    const r = await exec(dir, 'u1', 'cat /sys/class/net/eth0/address /sys/class/net/eth1/address');
    assert.equal(r.stdout, 'aa:aa:aa:aa:02:00\naa:aa:aa:aa:02:01\n');
    // Each UML NIC is on its port through its wirefilter's plug.
    const s1 = await qemunet(['switch', 's1', '--session', dir, '--', 'port/print 3']);
    assert.match(s1.stdout, /^Port 0003 .* ACTIVE[^]*module unix prog {3}: vdeplug:/);
    const s2 = await qemunet(['switch', 's2', '--session', dir, '--', 'port/print 1']);
    assert.match(s2.stdout, /^Port 0001 .* ACTIVE[^]*module unix prog {3}: vdeplug:/);
  });

  test('every pair of hosts pings, UML and QEMU alike', async () => {
    for (const from of Object.keys(ADDRESSES)) {
      for (const [to, ip] of Object.entries(ADDRESSES)) {
        if (to !== from) assert.ok(await pings(dir, from, ip), `${from} -> ${to}`);
      }
    }
  });

  test('its start.sh ran from its host folder (through hostfs)', async () => {
    assert.equal(await readFile(join(dir, 'u1', 'started-on'), 'utf8'), 'u1\n');
    assert.equal((await exec(dir, 'u1', 'ip -4 -br addr show eth0 | grep -o 10.0.0.3/24')).stdout, '10.0.0.3/24\n');
  });

  test('its <host>.disk is its second disk (ubdb), mounted on /mnt/disk as under QEMU, and its start.sh ran', async () => {
    const r = await exec(dir, 'u1', 'cat /mnt/disk/host-file.txt /root/from-disk; grep -c "^/dev/ubdb /mnt/disk vfat " /proc/mounts');
    assert.equal(r.stdout, 'written-on-the-host\nfrom-disk\n1\n', r.stderr);
  });

  test('the UML kernel\'s modules load: IPv6 and an 802.1Q VLAN to a QEMU host, a bridge, iptables with NAT', async () => {
    // IPv6 (a module under UML, loaded at boot): link-local address, then a ping6 both ways with q1.
    assert.match((await exec(dir, 'u1', 'ip -6 -br addr show eth0')).stdout, /fe80::a8aa:aaff:feaa:200\/64/);
    assert.equal((await exec(dir, 'u1', 'ip -6 addr add fd00::3/64 dev eth0 nodad')).code, 0);
    assert.equal((await exec(dir, 'q1', 'ip -6 addr add fd00::1/64 dev eth0 nodad')).code, 0);
    assert.equal((await exec(dir, 'q1', 'ping -c 1 -W 3 fd00::3 >/dev/null && echo answered')).stdout, 'answered\n');
    assert.equal((await exec(dir, 'u1', 'ping -c 1 -W 3 fd00::1 >/dev/null && echo answered')).stdout, 'answered\n');
    // VLAN 10 tagged on q1's port (1) and u1's (3): 8021q loads on demand in both guests.
    for (const cmd of ['vlan/create 10', 'vlan/addport 10 1', 'vlan/addport 10 3']) assert.equal((await qemunet(['switch', 's1', '--session', dir, '--', cmd])).code, 0, cmd);
    const vlan = (ip: string) => `ip link add link eth0 name eth0.10 type vlan id 10 && ip addr add ${ip}/24 dev eth0.10 && ip link set eth0.10 up && echo ok`;
    assert.equal((await exec(dir, 'u1', vlan('10.10.0.3'))).stdout, 'ok\n');
    assert.equal((await exec(dir, 'q1', vlan('10.10.0.1'))).stdout, 'ok\n');
    assert.ok(await pings(dir, 'u1', '10.10.0.1'), 'u1 -> q1 on VLAN 10');
    const bridge = await exec(dir, 'u1', 'modprobe bridge && ip link add br9 type bridge && ip link del br9 && echo ok');
    assert.equal(bridge.stdout, 'ok\n', bridge.stderr);
    const nat = await exec(dir, 'u1', 'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE && iptables -t nat -S POSTROUTING && iptables -t nat -F');
    assert.equal(nat.stdout, '-P POSTROUTING ACCEPT\n-A POSTROUTING -o eth1 -j MASQUERADE\n', nat.stderr);
    const loaded = (await exec(dir, 'u1', 'cut -d" " -f1 /proc/modules')).stdout.split('\n');
    for (const m of ['ipv6', '8021q', 'bridge', 'vfat', 'iptable_nat']) assert.ok(loaded.includes(m), `${m} loaded (${loaded.join(' ')})`);
  });

  test('the web page shows the UML host, its console works, and capture on its NIC is a clear error in the page', async () => {
    const { web, url } = await startQemunetWeb(['--session', dir]);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction(() => ((globalThis as unknown as GraphHooks).qemunet?.graph.$id('host:u1').data('state') ?? '') === 'ready');
      await clickGraphElement(page, 'host:u1');
      assert.equal(await page.textContent('#selection h3'), 'u1 (tiny-uml): ready');
      await page.click('#act-console');
      await page.click('.terminal-box[data-host="u1"]');
      await page.keyboard.type('hostname\n');
      await page.waitForFunction(() => /# hostname\s*\nu1\n/.test((globalThis as unknown as GraphHooks).qemunet.consoleText('u1') ?? ''), undefined, { timeout: 20000 });
      await clickGraphElement(page, 'nic:u1:eth0');
      await page.click('#act-capture');
      await page.waitForSelector('#message.error');
      assert.equal(await page.textContent('#message'), 'host u1 is a uml host, which cannot capture its NIC traffic; a uml host can: launch, stop, console, readiness, exec, freeze, link, save');
      // The page still works after the refusal: the graph still draws every host.
      assert.equal(await page.evaluate(() => (globalThis as unknown as GraphHooks).qemunet.graph.$id('host:q1').data('state')), 'ready');
    } finally {
      await browser.close();
      web.kill('SIGTERM');
    }
  });

  test('its root cannot read host files outside its folder, even with hostfs and ..', async () => {
    const r = await exec(dir, 'u1', 'mkdir -p /x /y; mount -t hostfs none /x -o ../.. 2>&1; cat /x/secret.txt /x/s/secret.txt 2>&1; mount -t hostfs none /y -o / 2>&1; cat /y/../secret.txt /y/../../secret.txt 2>&1; ls /x/s 2>&1; true');
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    assert.doesNotMatch(r.stdout, /\btopology\b/);
  });

  test('link down cuts its NIC off (its wirefilter drops every frame), link up brings it back; capture is a clear error', async () => {
    const down = await qemunet(['link', 'u1:eth0', 'down', '--session', dir]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await pings(dir, 'q1', ADDRESSES.u1), false);
    assert.equal((await stateOf(dir))!.hosts.find((h) => h.name === 'u1')!.nics[0]!.up, false);
    const up = await qemunet(['link', 'u1:eth0', 'up', '--session', dir]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(await pings(dir, 'q1', ADDRESSES.u1));
    const capture = await qemunet(['capture', 'u1:eth0', '-w', join(tmp.path, 'c.pcap'), '--session', dir]);
    assert.equal(capture.code, 1);
    assert.equal(capture.stderr, 'qemunet: host u1 is a uml host, which cannot capture its NIC traffic; a uml host can: launch, stop, console, readiness, exec, freeze, link, save\n');
  });

  test('a killed UML host shows as crashed, and restart brings it back on the same ports', async () => {
    const u1 = (await stateOf(dir))!.hosts.find((h) => h.name === 'u1')!;
    process.kill(u1.pid!, 'SIGKILL');
    const crashed = await eventually(async () => (await stateOf(dir))?.hosts.find((h) => h.name === 'u1' && h.state === 'crashed'), 30000, 'u1 crashed');
    assert.match(crashed.detail ?? '', /^UML exited \(SIGKILL\)/);
    const r = await qemunet(['restart', 'u1', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
    await allReady(dir);
    assert.ok(await pings(dir, 'u1', ADDRESSES.q2));
  });

  test('a running session with a UML host saves, and restores onto another image store (its COW fitted to that base)', async () => {
    assert.equal((await exec(dir, 'u1', 'echo kept > /root/marker && sync && echo ok')).stdout, 'ok\n');
    const archive = join(tmp.path, 'mixed.tgz');
    const saved = await qemunet(['save', '--session', dir, archive]);
    assert.equal(saved.code, 0, saved.stderr);
    // Another store: the same image, copied (so its mtime differs from the one the COW recorded).
    const store = join(tmp.path, 'store2');
    await mkdir(join(store, 'tiny'), { recursive: true });
    const from = imageStoreDir();
    for (const f of ['tiny.img', 'tiny.vmlinux', 'tiny.initrd', 'tiny.vmlinuz', 'tiny.linux-uml', 'manifest.json']) await run('cp', ['--sparse=always', join(from, 'tiny', f), join(store, 'tiny', f)]);
    const env = { ...process.env, QEMUNET_IMAGES: store, QEMUNET_STATE_DIR: join(tmp.path, 'state2') };
    const restored = join(tmp.path, 'r');
    try {
      const up = await qemunet(['up', '--from', archive, '--session', restored, '-K', '--display', 'none', '--wait', '--detach'], { cwd: tmp.path, env });
      assert.equal(up.code, 0, up.stderr);
      assert.equal((await exec(restored, 'u1', 'cat /root/marker')).stdout, 'kept\n');
      assert.ok(await pings(restored, 'u1', ADDRESSES.q1));
    } finally {
      await qemunet(['down', '--session', restored], { env });
    }
  });

  test('SIGKILL of the foreground qemunet leaves no UML process (nor VM, switch or wirefilter)', async () => {
    const state = (await stateOf(dir))!;
    const uml = async () => (await leftovers(dir)).filter((p) => /linux\.uml|bwrap/.test(p));
    assert.ok((await uml()).length > 0, 'UML runs before the kill');
    child.kill('SIGKILL');
    await once(child, 'exit');
    await eventually(async () => ((await leftovers(dir)).length === 0 ? true : undefined), 20000, `no process of the session (left: ${(await leftovers(dir)).join('; ')})`);
    assert.deepEqual(alivePids(sessionPids(state)), []);
  });
});
