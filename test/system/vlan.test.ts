import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, qemunet, addressScripts } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { suiteDir } from '../helpers/tiny.js';

describe("vlan.tgz with -v (QemuNet's s1.cmd loaded into the switch)", { timeout: 600000 }, () => {
  const tmp = suiteDir('vlan');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    const r = await qemunet(['-s', fixture('sessions', 'vlan.tgz'), '-v', '--alias', 'debian=tiny', '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('the switch holds the VLANs of s1.cmd', async () => {
    const r = await qemunet(['switch', 's1', '--session', dir, '--', 'vlan/print']);
    assert.equal(r.code, 0, r.stderr);
    const ports = (vlan: string) => (r.stdout.split(/^VLAN /m).find((b) => b.startsWith(vlan)) ?? '').match(/Port \d+ tagged=\d/g);
    assert.deepEqual(ports('0100'), ['Port 0001 tagged=0', 'Port 0002 tagged=0', 'Port 0005 tagged=1']);
    assert.deepEqual(ports('0200'), ['Port 0003 tagged=0', 'Port 0004 tagged=0', 'Port 0005 tagged=1']);
  });

  test('hosts of one VLAN reach each other; between VLANs only through immortal', async () => {
    assert.equal((await exec('syl', 'ping -c 1 -W 5 192.168.100.2')).code, 0, 'syl -> nile, same VLAN');
    assert.equal((await exec('opeth', 'ping -c 1 -W 5 192.168.200.3')).code, 0, 'opeth -> grave, same VLAN');
    const route = await exec('syl', 'traceroute -n -q 1 -w 3 192.168.200.2');
    assert.match(route.stdout, /^ 1 {2}192\.168\.100\.1 /m);
    assert.match(route.stdout, /^ 2 {2}192\.168\.200\.2 /m);
  });

  test('a broadcast on VLAN 100 reaches nile (VLAN 100) but not opeth (VLAN 200)', async () => {
    for (const host of ['nile', 'opeth']) {
      await exec(host, 'tcpdump -i eth0 -n -l arp > /tmp/arp 2>/dev/null & echo started');
      await eventually(async () => ((await exec(host, 'pidof tcpdump')).code === 0 ? true : undefined), 20000, `tcpdump on ${host}`);
    }
    // Nobody has .77: syl's ARP request for it is a broadcast on its VLAN.
    await exec('syl', 'ping -c 3 -W 1 192.168.100.77');
    const nile = await eventually(async () => {
      const r = await exec('nile', 'cat /tmp/arp');
      return r.stdout.includes('who-has 192.168.100.77') ? r.stdout : undefined;
    }, 20000, 'the broadcast on nile');
    assert.match(nile, /Request who-has 192\.168\.100\.77 tell 192\.168\.100\.3/);
    const opeth = await exec('opeth', 'kill %1 2>/dev/null; sleep 1; cat /tmp/arp');
    assert.doesNotMatch(opeth.stdout, /192\.168\.100\./, 'opeth, on VLAN 200, saw a VLAN 100 frame');
  });
});

describe('a trunk carries two VLANs between two switches (trunk.topo)', { timeout: 600000 }, () => {
  const tmp = suiteDir('trunk');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    // trunk.topo: s1 has syl (1), opeth (2), immortal (3); s2 has nile (1), grave (2); the trunk is port 21 on both.
    const cmd = (a: number, b: number) => `vlan/create 100\nvlan/create 200\nport/setvlan ${a} 100\nport/setvlan ${b} 200\nvlan/addport 100 21\nvlan/addport 200 21\n`;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 's1.cmd'), cmd(1, 2));
    await writeFile(join(dir, 's2.cmd'), cmd(1, 2));
    const addresses: Record<string, string> = { syl: '10.100.0.1', nile: '10.100.0.2', opeth: '10.200.0.1', grave: '10.200.0.2' };
    for (const [host, ip] of Object.entries(addresses)) {
      await mkdir(join(dir, host), { recursive: true });
      // grave also takes an address of syl's subnet: only the VLANs keep them apart.
      const extra = host === 'grave' ? '\nip addr add 10.100.0.9/24 dev eth0' : '';
      await writeFile(join(dir, host, 'start.sh'), `#!/bin/sh\nip addr add ${ip}/24 dev eth0${extra}\n`);
    }
    const r = await qemunet(['-t', fixture('topologies', 'trunk.topo'), '-v', '--alias', 'debian=tiny', '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('VLAN 100 and VLAN 200 each cross the trunk, and stay apart', async () => {
    assert.equal((await exec('syl', 'ping -c 1 -W 5 10.100.0.2')).code, 0, 'syl (s1) -> nile (s2) on VLAN 100');
    assert.equal((await exec('opeth', 'ping -c 1 -W 5 10.200.0.2')).code, 0, 'opeth (s1) -> grave (s2) on VLAN 200');
    assert.notEqual((await exec('syl', 'ping -c 1 -W 3 10.100.0.9')).code, 0, 'syl reached grave across VLANs');
  });
});

describe('VLANs declared in the topology, no .cmd file and no -v', { timeout: 600000 }, () => {
  const tmp = suiteDir('vlan-decl');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    await writeFile(join(tmp.path, 'v.topo'), 'SWITCH s1\nSWITCH s2\nTRUNK s1 s2 100,200\nHOST tiny a s1:100\nHOST tiny b s2:100\nHOST tiny c s2:200\n');
    await addressScripts(dir, { a: '10.5.0.1/24', b: '10.5.0.2/24', c: '10.5.0.3/24' });
    const r = await qemunet(['up', join(tmp.path, 'v.topo'), '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a reaches b on VLAN 100 across the trunk, not c on VLAN 200 in the same subnet', async () => {
    assert.equal((await exec('a', 'ping -c 1 -W 5 10.5.0.2')).code, 0);
    assert.notEqual((await exec('a', 'ping -c 1 -W 3 10.5.0.3')).code, 0);
    const vlans = await qemunet(['switch', 's2', '--session', dir, '--', 'vlan/print']);
    assert.match(vlans.stdout, /VLAN 0100\n -- Port 0001 tagged=0 active=1 status=Forwarding\n -- Port 0021 tagged=1 active=1/);
  });
});

describe('VLAN errors', { timeout: 120000 }, () => {
  test('a .cmd line the switch refuses stops the start, naming the line and the answer', async () => {
    const tmp = suiteDir('vlan-bad');
    try {
      const dir = join(tmp.path, 's');
      await writeFile(join(tmp.path, 't.topo'), 'SWITCH s1\nHOST tiny a s1\n');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 's1.cmd'), 'vlan/create 100\n# a comment\nvlan/create 5000\n');
      const r = await qemunet(['up', join(tmp.path, 't.topo'), '-v', '--session', dir, '-K']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `qemunet: ${join(dir, 's1.cmd')}:3: switch s1 refused "vlan/create 5000": 1022 Invalid argument\n`);
    } finally {
      await tmp.remove();
    }
  });

  test('TRUNK without -v', async () => {
    const r = await qemunet(['-t', fixture('topologies', 'trunk.topo'), '--alias', 'debian=tiny', '--dry-run']);
    assert.deepEqual([r.code, r.stderr], [1, `qemunet: ${fixture('topologies', 'trunk.topo')}: TRUNK joins switches for VLANs; run with -v (VLAN support), as QemuNet requires\n`]);
  });
});
