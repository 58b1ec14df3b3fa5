import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** What QemuNet's course labs rely on, on tiny: its MACs, kernel arguments, local clock, start scripts that serve forever, ISC's dhclient. */

async function writeLab(dir: string, topology: string, scripts: Record<string, string>): Promise<string> {
  for (const [host, body] of Object.entries(scripts)) {
    await mkdir(join(dir, 's', host), { recursive: true });
    await writeFile(join(dir, 's', host, 'start.sh'), `#!/bin/sh\n${body}\n`);
  }
  await writeFile(join(dir, 'lab.topo'), topology);
  return join(dir, 'lab.topo');
}

async function exec(dir: string, env: NodeJS.ProcessEnv, host: string, command: string) {
  const r = await qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command], { env });
  assert.equal(r.code, 0, `${host}: ${command}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

// India has no summer time: its offset from UTC is always 5 h 30.
const KOLKATA_OFFSET_S = 5.5 * 3600;

describe('a server that never returns, QemuNet MACs, kernel arguments and clock, sleep N', { timeout: 600000 }, () => {
  const tmp = suiteDir('compat');
  const dir = join(tmp.path, 's');
  const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state'), TZ: 'Asia/Kolkata' };

  before(async () => {
    await tinyImage();
    const topo = await writeLab(tmp.path, 'SWITCH s1\nHOST tiny srv s1\nsleep 2\nHOST tiny cli s1\n', {
      // As QemuNet's hack labs end theirs: a server in the foreground, which never returns.
      srv: 'ip addr add 10.5.0.1/24 dev eth0\nmkdir -p /tmp/www && echo served-by-srv > /tmp/www/index.html\necho "srv serves on 8080"\nexec busybox httpd -f -p 8080 -h /tmp/www',
      cli: 'ip addr add 10.5.0.2/24 dev eth0',
    });
    const r = await qemunet(['up', topo, '-K', '-u', 'student42', '--wait', '--timeout', '300', '--session', dir], { env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir], { env });
    await tmp.remove();
  });

  test('the host whose start.sh serves forever is ready, and the other host reaches its server', async () => {
    assert.equal(await exec(dir, env, 'cli', 'wget -q -O - http://10.5.0.1:8080/'), 'served-by-srv\n');
    // Its output still goes to the log; the script has not ended (no status was written for it).
    assert.match(await exec(dir, env, 'srv', 'cat /var/log/qemunet-start.log'), /^srv serves on 8080$/m);
    assert.equal(await exec(dir, env, 'srv', 'ls /run/qemunet/start.1.status 2>/dev/null; echo end'), 'end\n');
  });

  test("NICs have QemuNet's MACs (host index in HOST order, NIC index)", async () => {
    assert.equal(await exec(dir, env, 'srv', 'cat /sys/class/net/eth0/address'), 'aa:aa:aa:aa:00:00\n');
    assert.equal(await exec(dir, env, 'cli', 'cat /sys/class/net/eth0/address'), 'aa:aa:aa:aa:01:00\n');
  });

  test("the kernel command line holds QemuNet's user= (-u) and net.ifnames=0, and /dev/console is the serial line", async () => {
    const words = (await exec(dir, env, 'srv', 'cat /proc/cmdline')).trim().split(' ');
    assert.ok(words.includes('user=student42') && words.includes('net.ifnames=0'), words.join(' '));
    assert.equal(words.filter((w) => w.startsWith('console=')).pop(), 'console=ttyS0');
  });

  test("the guest's clock is the host's local time (-rtc base=localtime)", async () => {
    const kolkataHour = () => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Kolkata' }).format(new Date());
    const before = kolkataHour();
    const [hour, epoch] = (await exec(dir, env, 'cli', 'date +%H; date -u +%s')).trim().split('\n');
    // The hour may turn while the command runs.
    assert.ok([before, kolkataHour()].includes(hour!), `guest hour ${hour}, host's local hour ${before}`);
    const offset = Number(epoch) - Date.now() / 1000;
    assert.ok(Math.abs(offset - KOLKATA_OFFSET_S) < 120, `guest clock is ${offset} s ahead of UTC; Asia/Kolkata is ${KOLKATA_OFFSET_S}`);
  });

  test('sleep 2: cli starts 2 s after srv started, before srv is ready', async () => {
    const state = (await stateOf(dir))!;
    const [srv, cli] = ['srv', 'cli'].map((n) => state.hosts.find((h) => h.name === n)!);
    assert.ok(srv!.startedMs !== undefined && cli!.startedMs !== undefined && srv!.readyMs !== undefined, JSON.stringify(state.hosts));
    const gap = cli!.startedMs! - srv!.startedMs!;
    assert.ok(gap >= 2000 && gap < 8000, `cli started ${gap} ms after srv`);
    assert.ok(cli!.startedMs! < srv!.readyMs!, `cli started at ${cli!.startedMs} ms, srv was ready at ${srv!.readyMs} ms`);
  });
});

describe('DHCP as in QemuNet ychain: dnsmasq with dhcp-host by name, dhclient -4 on the clients', { timeout: 600000 }, () => {
  const tmp = suiteDir('dhcp');
  const dir = join(tmp.path, 's');
  const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };

  before(async () => {
    await tinyImage();
    const dnsmasq = [
      'dnsmasq --interface=eth0 --bind-interfaces --dhcp-range=10.6.0.100,10.6.0.150,255.255.255.0,1h',
      '--dhcp-host=opeth,10.6.0.42 --dhcp-host=nile,10.6.0.43 --dhcp-option=option:router,10.6.0.1',
      '--domain=lab.test --local=/lab.test/ --dhcp-leasefile=/tmp/leases',
    ].join(' ');
    const topo = await writeLab(tmp.path, 'SWITCH s1\nHOST tiny router s1\nHOST tiny opeth s1\nHOST tiny nile s1\n', {
      router: `ip addr add 10.6.0.1/24 dev eth0\n${dnsmasq}`,
      // As the labs' clients do; it waits for the server, which may boot later.
      nile: 'dhclient -4 eth0',
    });
    const r = await qemunet(['up', topo, '-K', '--wait', '--timeout', '300', '--session', dir], { env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir], { env });
    await tmp.remove();
  });

  test('dhclient -4 eth0 gets the fixed address of its hostname, the default route and DNS', async () => {
    assert.equal(await exec(dir, env, 'opeth', 'dhclient -4 eth0; echo status=$?'), 'status=0\n');
    assert.equal(await exec(dir, env, 'opeth', "ip -4 -o addr show dev eth0 | awk '{ print $4 }'"), '10.6.0.42/24\n');
    assert.equal(await exec(dir, env, 'opeth', 'ip route show default'), 'default via 10.6.0.1 dev eth0 \n');
    assert.equal(await exec(dir, env, 'opeth', 'cat /etc/resolv.conf'), 'domain lab.test\nsearch lab.test\nnameserver 10.6.0.1\n');
    // The lease carries the hostname dhclient sent, and QemuNet's MAC.
    assert.match(await exec(dir, env, 'router', 'cat /tmp/leases'), /^\d+ aa:aa:aa:aa:01:00 10\.6\.0\.42 opeth /m);
  });

  test("a client whose start.sh runs dhclient gets its address, and the names resolve through the server's DNS", async () => {
    await eventually(async () => ((await exec(dir, env, 'nile', 'ip -4 -o addr show dev eth0')).includes('inet 10.6.0.43/24') ? true : undefined), 90000, 'nile to get 10.6.0.43');
    await exec(dir, env, 'opeth', 'dhclient -4 eth0');
    assert.match(await exec(dir, env, 'nile', 'ping -c 1 -W 5 opeth.lab.test'), /^PING opeth\.lab\.test \(10\.6\.0\.42\)/);
    assert.match(await exec(dir, env, 'opeth', 'ping -c 1 -W 5 nile'), /^PING nile\.lab\.test \(10\.6\.0\.43\)/);
  });

  test('dhclient -r releases the lease: no address, no client left', async () => {
    await exec(dir, env, 'opeth', 'dhclient -4 eth0');
    assert.equal(await exec(dir, env, 'opeth', 'dhclient -r eth0; echo status=$?; ip -4 -o addr show dev eth0; ls /run/dhclient.eth0.pid 2>/dev/null; echo end'), 'status=0\nend\n');
  });
});
