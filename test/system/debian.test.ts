import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDebianImage } from '../../src/images/debian-builder.js';
import { DEBIAN_PACKAGES, DEBIAN_RECIPE_VERSION } from '../../src/images/debian-recipe.js';
import { builtImagePaths, imageStoreDir } from '../../src/images/store.js';
import { eventually, qemunet } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { suiteDir } from '../helpers/tiny.js';

/** The built-in debian system (issue 11): QemuNet's labs with their daemons, started with `service`. */

const debianImage = () => buildDebianImage({ storeDir: imageStoreDir() });

async function exec(dir: string, host: string, command: string): Promise<string> {
  const r = await qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);
  assert.equal(r.code, 0, `${host}: ${command}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

describe('the debian image', () => {
  test('is built from its recipe: every package of the recipe installed, and the same boot files as tiny', async () => {
    const m = await debianImage();
    assert.equal(m.system, 'debian');
    assert.equal(m.recipeVersion, DEBIAN_RECIPE_VERSION);
    const installed = new Set(m.packages.map((p) => p.name));
    assert.deepEqual(DEBIAN_PACKAGES.filter((p) => !installed.has(p)), []);
    // No init system: busybox init boots it, as tiny.
    assert.deepEqual(m.packages.filter((p) => /^(systemd|systemd-sysv|sysvinit-core)$/.test(p.name)), []);
    const paths = builtImagePaths(imageStoreDir(), 'debian');
    for (const f of [paths.fs, paths.kernel, paths.initrd]) assert.equal((await stat(f)).size, m.files[f.slice(f.lastIndexOf('/') + 1)]!.bytes);
  });
});

// A lab in the shape of QemuNet's xchain/ychain, written for this test: a router serves DHCP on both
// sides, ISC's dhcpd pinned to QemuNet's MAC on s1 and dnsmasq by hostname on s2, both started with
// `service`; syl and nile run `dhclient -4 eth0` in their start.sh after a `sleep` line, as ychain's
// clients do. nile's start.sh then ends as the hack challenges' do: a python3 server in the foreground.
const ROUTER = `ip addr add 10.7.1.1/24 dev eth0
ip addr add 10.7.2.1/24 dev eth1
echo 1 > /proc/sys/net/ipv4/ip_forward
cat > /etc/dhcp/dhcpd.conf <<EOF
default-lease-time 600;
max-lease-time 7200;
authoritative;
subnet 10.7.1.0 netmask 255.255.255.0 { range 10.7.1.100 10.7.1.150; option routers 10.7.1.1; }
host opeth { hardware ethernet AA:AA:AA:AA:01:00; fixed-address 10.7.1.42; }
EOF
sed -i 's/^INTERFACESv4=.*/INTERFACESv4="eth0"/' /etc/default/isc-dhcp-server
service isc-dhcp-server start
cat > /etc/dnsmasq.d/lab.conf <<EOF
interface=eth1
bind-interfaces
dhcp-range=10.7.2.100,10.7.2.150,255.255.255.0,1h
dhcp-host=syl,10.7.2.43
dhcp-host=nile,10.7.2.44
dhcp-option=option:router,10.7.2.1
domain=lab.test
address=/opeth.lab.test/10.7.1.42
EOF
service dnsmasq start
service ssh start
`;

const NILE = `dhclient -4 eth0
mkdir -p /tmp/www && echo served-by-nile > /tmp/www/index.html && cd /tmp/www
echo "nile serves on 8080"
exec python3 -m http.server 8080`;

// India has no summer time: its offset from UTC is always 5 h 30.
const KOLKATA_OFFSET_S = 5.5 * 3600;

describe('a DHCP lab on debian: isc-dhcp-server and dnsmasq with service, dhclient -4, ssh with a password', { timeout: 900000 }, () => {
  const tmp = suiteDir('debian-dhcp');
  const dir = join(tmp.path, 's');

  before(async () => {
    await debianImage();
    for (const [host, body] of Object.entries({ router: ROUTER, syl: 'dhclient -4 eth0', nile: NILE })) {
      await mkdir(join(dir, host), { recursive: true });
      await writeFile(join(dir, host, 'start.sh'), `#!/bin/sh\n${body}\n`);
    }
    const topo = join(tmp.path, 'lab.topo');
    await writeFile(topo, 'SWITCH s1\nSWITCH s2\nHOST debian router s1 s2\nHOST debian opeth s1\nsleep 5\nHOST debian syl s2\nHOST debian nile s2\n');
    // -u: QemuNet's user= kernel argument; TZ: the guests' clock is the host's local time.
    const r = await qemunet(['up', topo, '-K', '-u', 'student42', '--wait', '--timeout', '600', '--session', dir], { timeoutMs: 700000, env: { ...process.env, TZ: 'Asia/Kolkata' } });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a debian host is ready and runs commands: its name, eth0 and eth1 with QemuNet MACs, Debian userland', async () => {
    assert.equal(await exec(dir, 'router', 'hostname; cat /sys/class/net/eth0/address /sys/class/net/eth1/address; . /etc/os-release; echo $ID'), 'router\naa:aa:aa:aa:00:00\naa:aa:aa:aa:00:01\ndebian\n');
    assert.equal(await exec(dir, 'router', 'test -e /run/systemd/system || echo no-systemd; readlink /sbin/init'), 'no-systemd\n/bin/busybox\n');
  });

  test("the kernel command line holds QemuNet's user= (-u) and net.ifnames=0; the clock is the host's local time", async () => {
    const words = (await exec(dir, 'opeth', 'cat /proc/cmdline')).trim().split(' ');
    assert.ok(words.includes('user=student42') && words.includes('net.ifnames=0'), words.join(' '));
    const kolkataHour = () => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Kolkata' }).format(new Date());
    const hourBefore = kolkataHour();
    const [hour, epoch] = (await exec(dir, 'opeth', 'date +%H; date -u +%s')).trim().split('\n');
    // The hour may turn while the command runs.
    assert.ok([hourBefore, kolkataHour()].includes(hour!), `guest hour ${hour}, host's local hour ${hourBefore}`);
    const offset = Number(epoch) - Date.now() / 1000;
    assert.ok(Math.abs(offset - KOLKATA_OFFSET_S) < 120, `guest clock is ${offset} s ahead of UTC; Asia/Kolkata is ${KOLKATA_OFFSET_S}`);
  });

  test('service starts, reports and stops a daemon (apache2)', async () => {
    assert.match(await exec(dir, 'router', 'service apache2 start >/dev/null 2>&1; service apache2 status; echo status=$?'), /apache2 is running\.\nstatus=0\n$/);
    assert.match(await exec(dir, 'opeth', 'dhclient -4 eth0 && curl -s http://10.7.1.1/ | grep -o "<title>.*</title>"'), /<title>Apache2 Debian Default Page: It works<\/title>/);
    assert.match(await exec(dir, 'router', 'service apache2 stop >/dev/null 2>&1; service apache2 status; echo status=$?'), /apache2 is not running.*\nstatus=3\n$/);
  });

  test("isc-dhcp-server gives opeth the lease pinned to its QemuNet MAC; dhclient -4 applies address and route", async () => {
    assert.equal(await exec(dir, 'opeth', 'dhclient -4 eth0; echo status=$?'), 'status=0\n');
    assert.equal(await exec(dir, 'opeth', "ip -4 -o addr show dev eth0 | awk '{ print $4 }'"), '10.7.1.42/24\n');
    assert.match(await exec(dir, 'opeth', 'ip route show default'), /^default via 10\.7\.1\.1 dev eth0/);
    assert.match(await exec(dir, 'router', 'service isc-dhcp-server status'), /is running/);
  });

  test('dnsmasq gives syl, whose start.sh ran dhclient -4 eth0, the address of its hostname', async () => {
    await eventually(async () => ((await exec(dir, 'syl', 'ip -4 -o addr show dev eth0')).includes('inet 10.7.2.43/24') ? true : undefined), 180000, 'syl to get 10.7.2.43');
    assert.match(await exec(dir, 'router', 'cat /var/lib/misc/dnsmasq.leases'), /^\d+ aa:aa:aa:aa:02:00 10\.7\.2\.43 syl /m);
    // Routed through the router, as in xchain.
    await exec(dir, 'opeth', 'ip -4 addr show dev eth0 | grep -q 10.7.1.42 || dhclient -4 eth0');
    assert.match(await exec(dir, 'syl', 'ping -c 1 -W 5 10.7.1.42'), /1 received/);
  });

  test('two dnsmasq clients, both configured by dhclient -4 eth0 in their start.sh, get their fixed addresses and resolve each other by name', async () => {
    for (const [host, ip] of [['syl', '10.7.2.43'], ['nile', '10.7.2.44']] as const) {
      await eventually(async () => ((await exec(dir, host, 'ip -4 -o addr show dev eth0')).includes(`inet ${ip}/24`) ? true : undefined), 180000, `${host} to get ${ip}`);
    }
    // The short name through the search domain dhclient wrote.
    assert.equal(await exec(dir, 'syl', 'getent hosts nile | tr -s " "'), '10.7.2.44 nile.lab.test\n');
    assert.equal(await exec(dir, 'nile', 'getent hosts syl | tr -s " "'), '10.7.2.43 syl.lab.test\n');
    assert.match(await exec(dir, 'nile', 'ping -c 1 -W 5 syl'), /^PING syl\.lab\.test \(10\.7\.2\.43\)[\s\S]*1 received/);
  });

  test("nile, whose start.sh ends with a python3 server that never returns, is ready, and syl reaches that server", async () => {
    await eventually(async () => ((await exec(dir, 'syl', 'ip -4 -o addr show dev eth0')).includes('inet 10.7.2.43/24') ? true : undefined), 180000, 'syl to get 10.7.2.43');
    const page = await eventually(async () => {
      const r = await qemunet(['exec', 'syl', '--session', dir, '--', 'curl', '-s', '--max-time', '5', 'http://nile.lab.test:8080/']);
      return r.code === 0 ? r.stdout : undefined;
    }, 60000, "nile's server");
    assert.equal(page, 'served-by-nile\n');
    // The script has not ended (no status written for it); its output went to the log.
    assert.equal(await exec(dir, 'nile', 'ls /run/qemunet/start.*.status 2>/dev/null; pgrep -f "^python3 -m http.server 8080" >/dev/null && echo serving'), 'serving\n');
    assert.match(await exec(dir, 'nile', 'cat /var/log/qemunet-start.log'), /^nile serves on 8080$/m);
  });

  test("dnsmasq's DNS: syl, configured by dhclient, resolves its own name and opeth's in the lab's domain", async () => {
    await eventually(async () => ((await exec(dir, 'syl', 'ip -4 -o addr show dev eth0')).includes('inet 10.7.2.43/24') ? true : undefined), 180000, 'syl to get 10.7.2.43');
    assert.match(await exec(dir, 'syl', 'cat /etc/resolv.conf'), /^nameserver 10\.7\.2\.1$/m);
    assert.equal(await exec(dir, 'syl', 'getent hosts syl.lab.test opeth.lab.test | tr -s " "'), '10.7.2.43 syl.lab.test\n10.7.1.42 opeth.lab.test\n');
    await exec(dir, 'opeth', 'ip -4 addr show dev eth0 | grep -q 10.7.1.42 || dhclient -4 eth0');
    assert.match(await exec(dir, 'syl', 'ping -c 1 -W 5 opeth.lab.test'), /1 received/);
  });

  test('an SSH tunnel (ssh -L) carries a TCP connection to a server only the router itself can reach', async () => {
    await exec(dir, 'opeth', 'ip -4 addr show dev eth0 | grep -q 10.7.1.42 || dhclient -4 eth0');
    // A server of the router's own, on its loopback only (setsid and closed outputs: exec returns at once).
    await exec(dir, 'router', 'mkdir -p /tmp/www && echo through-the-tunnel > /tmp/www/index.html && cd /tmp/www && setsid python3 -m http.server 8000 --bind 127.0.0.1 </dev/null >/dev/null 2>&1 &');
    await eventually(async () => ((await exec(dir, 'router', 'curl -s http://127.0.0.1:8000/ || true')).includes('through-the-tunnel') ? true : undefined), 30000, 'the router-local server');
    assert.notEqual((await qemunet(['exec', 'opeth', '--session', dir, '--', 'curl', '-s', '--max-time', '3', 'http://10.7.1.1:8000/'])).code, 0, 'not reachable without the tunnel');
    // In a session of its own, as the server: what an exec leaves in its own session ends with it.
    await exec(dir, 'opeth', 'setsid sshpass -p toto ssh -o StrictHostKeyChecking=no -o ExitOnForwardFailure=yes -N -L 9000:127.0.0.1:8000 toto@10.7.1.1 </dev/null >/tmp/tunnel.log 2>&1 &');
    const through = await eventually(async () => {
      const r = await qemunet(['exec', 'opeth', '--session', dir, '--', 'curl', '-s', '--max-time', '5', 'http://127.0.0.1:9000/']);
      return r.code === 0 ? r.stdout : undefined;
    }, 60000, 'the tunnel to carry the request');
    assert.equal(through, 'through-the-tunnel\n');
  });

  test('ssh with a password between two guests: sshpass as the user toto, expect as root', async () => {
    await exec(dir, 'opeth', 'ip -4 addr show dev eth0 | grep -q 10.7.1.42 || dhclient -4 eth0');
    assert.equal(await exec(dir, 'opeth', "sshpass -p toto ssh -o StrictHostKeyChecking=no toto@10.7.1.1 'id -un; hostname; sudo -n true 2>/dev/null || echo sudo-needs-password'"), 'toto\nrouter\nsudo-needs-password\n');
    const script = [
      'set timeout 60',
      'spawn ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@10.7.1.1 {echo $(whoami)@$(hostname)}',
      'expect "password:"',
      'send "toto\\r"',
      'expect eof',
    ].join('\n');
    await exec(dir, 'opeth', `cat > /tmp/login.exp <<'EOF'\n${script}\nEOF`);
    const out = await exec(dir, 'opeth', 'expect /tmp/login.exp');
    assert.match(out, /\r?\nroot@router\r?\n/);
  });

  test('openbsd-inetd started with service serves telnet; expect logs in with the password', async () => {
    await exec(dir, 'router', 'service openbsd-inetd start');
    await exec(dir, 'opeth', 'ip -4 addr show dev eth0 | grep -q 10.7.1.42 || dhclient -4 eth0');
    const script = [
      'set timeout 60',
      'spawn telnet 10.7.1.1',
      'expect "login:"',
      'send "toto\\r"',
      'expect "Password:"',
      'send "toto\\r"',
      'expect "\\$ "',
      'send "echo logged-in-as-\\$(whoami)@\\$(hostname)\\r"',
      'expect "logged-in-as-toto@router"',
      'send "exit\\r"',
      'expect eof',
    ].join('\n');
    await exec(dir, 'opeth', `cat > /tmp/telnet.exp <<'EOF'\n${script}\nEOF`);
    assert.match(await exec(dir, 'opeth', 'expect /tmp/telnet.exp'), /[\r\n]logged-in-as-toto@router\r?\n/);
  });
});

/**
 * One of QemuNet's archives from the shared fixtures, run as `qemunet -s NAME.tgz` with no --alias,
 * so its hosts are the built-in debian; `check` then asserts what the lab is meant to show.
 */
function archiveOnDebian(archive: string, options: readonly string[], what: string, check: (dir: string) => Promise<void>): void {
  describe(`QemuNet's ${archive}.tgz runs on the built-in debian, with no --alias`, { timeout: 900000 }, () => {
    const tmp = suiteDir(`debian-${archive}`);
    const dir = join(tmp.path, archive);
    before(() => debianImage());
    after(async () => {
      await qemunet(['down', '--session', dir]);
      await tmp.remove();
    });

    test(what, async () => {
      const r = await qemunet(['-s', fixture('sessions', `${archive}.tgz`), ...options, '-K', '--wait', '--timeout', '600', '--session', dir], { cwd: tmp.path, timeoutMs: 700000 });
      assert.equal(r.code, 0, r.stderr);
      await check(dir);
    });
  });
}

archiveOnDebian('lan', [], 'each host is configured by the start.sh of its .disk (ifconfig, hostname); every host reaches the others', async (dir) => {
  assert.equal(await exec(dir, 'opeth', 'hostname; ip -br -4 addr show eth0 | tr -s " "'), 'opeth\neth0 UP 192.168.0.3/24 \n');
  const ips = ['192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.4'];
  for (const host of ['immortal', 'syl', 'opeth', 'grave']) {
    assert.equal(await exec(dir, host, `for ip in ${ips.join(' ')}; do ping -c 1 -W 5 $ip >/dev/null || echo "$ip"; done`), '', `${host} could not reach those`);
  }
});

archiveOnDebian('gw', [], 'immortal routes between the LAN and the outside (route and ip_forward from its start.sh): opeth and syl reach grave through it', async (dir) => {
  for (const host of ['opeth', 'syl']) assert.match(await exec(dir, host, 'ping -c 1 -W 5 147.210.0.2'), /1 received/, `${host} -> grave`);
  assert.match(await exec(dir, 'grave', 'traceroute -n -q 1 -w 3 192.168.0.2'), /^ 1 {2}147\.210\.0\.1 /m);
});

// -v loads s1.cmd into the switch: syl and nile in VLAN 100, opeth and grave in VLAN 200, immortal's
// port in both, tagged; immortal's start.sh makes eth0.100 and eth0.200 with vconfig and routes between them.
archiveOnDebian('vlan', ['-v'], 'hosts of one VLAN reach each other; between VLANs only through immortal, and not directly', async (dir) => {
  assert.equal(await exec(dir, 'immortal', 'ip -br -4 addr show | grep "^eth0\\." | tr -s " " | sort'), 'eth0.100@eth0 UP 192.168.100.1/24 \neth0.200@eth0 UP 192.168.200.1/24 \n');
  assert.match(await exec(dir, 'syl', 'ping -c 1 -W 5 192.168.100.2'), /1 received/, 'syl -> nile, VLAN 100');
  assert.match(await exec(dir, 'opeth', 'ping -c 1 -W 5 192.168.200.3'), /1 received/, 'opeth -> grave, VLAN 200');
  const route = await exec(dir, 'syl', 'traceroute -n -q 1 -w 3 192.168.200.2');
  assert.match(route, /^ 1 {2}192\.168\.100\.1 /m);
  assert.match(route, /^ 2 {2}192\.168\.200\.2 /m);
  // opeth, given an address of VLAN 100's subnet, still cannot reach syl: its ARP request stays in VLAN 200.
  const direct = await exec(dir, 'opeth', 'ip addr add 192.168.100.9/24 dev eth0; ping -c 2 -W 2 192.168.100.3 >/dev/null; echo status=$?; ip addr del 192.168.100.9/24 dev eth0');
  assert.equal(direct, 'status=1\n');
});
