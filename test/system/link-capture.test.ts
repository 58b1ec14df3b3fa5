import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/process/run.js';
import { eventually, QEMUNET, qemunet, addressScripts } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';

describe('link state and capture on a running session', { timeout: 600000 }, () => {
  const tmp = suiteDir('link');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    await writeFile(join(tmp.path, 't.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    await addressScripts(dir, { a: '10.2.0.1/24', b: '10.2.0.2/24' });
    const r = await qemunet(['up', join(tmp.path, 't.topo'), '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('link down: the guest loses its carrier and pings fail; link up brings both back', async () => {
    assert.equal((await qemunet(['link', 'b:eth0', '--session', dir])).stdout, 'b:eth0 on s1:2 (AA:AA:AA:AA:01:00): link up\n');
    assert.equal((await qemunet(['link', 'b:eth0', 'down', '--session', dir])).stdout, 'b:eth0 on s1:2 (AA:AA:AA:AA:01:00): link down\n');
    await eventually(async () => ((await exec('b', 'cat /sys/class/net/eth0/carrier')).stdout === '0\n' ? true : undefined), 10000, 'carrier 0 in b');
    assert.notEqual((await exec('a', 'ping -c 1 -W 2 10.2.0.2')).code, 0);
    assert.match((await qemunet(['status', '--session', dir])).stdout, /^b +ready.* eth0=s1:2\(down\) /m);
    await qemunet(['link', 'b:eth0', 'up', '--session', dir]);
    await eventually(async () => ((await exec('b', 'cat /sys/class/net/eth0/carrier')).stdout === '1\n' ? true : undefined), 10000, 'carrier 1 in b');
    await eventually(async () => ((await exec('a', 'ping -c 1 -W 2 10.2.0.2')).code === 0 ? true : undefined), 20000, 'a pings b again');
  });

  test('capture to a file holds the ICMP packets with the right MACs and addresses', async () => {
    const pcap = join(tmp.path, 'a.pcap');
    const child = spawn(process.execPath, [QEMUNET, 'capture', 'a:eth0', '-w', pcap, '--duration', '8', '--session', dir], { stdio: 'ignore' });
    await eventually(async () => ((await readFile(pcap).catch(() => Buffer.alloc(0))).length >= 24 ? true : undefined), 10000, 'the pcap header');
    assert.equal((await exec('a', 'ping -c 3 -i 0.3 10.2.0.2')).code, 0);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    const read = await run('tcpdump', ['-r', pcap, '-n', '-e', 'icmp']);
    const lines = read.stdout.split('\n').filter(Boolean);
    assert.equal(lines.filter((l) => /aa:aa:aa:aa:00:00 > aa:aa:aa:aa:01:00, .* 10\.2\.0\.1 > 10\.2\.0\.2: ICMP echo request/.test(l)).length, 3, read.stdout);
    assert.equal(lines.filter((l) => /aa:aa:aa:aa:01:00 > aa:aa:aa:aa:00:00, .* 10\.2\.0\.2 > 10\.2\.0\.1: ICMP echo reply/.test(l)).length, 3, read.stdout);
  });

  test('capture -w - streams pcap to stdout until SIGINT, and the stream is complete', async () => {
    const out = join(tmp.path, 'stream.pcap');
    const child = spawn(process.execPath, [QEMUNET, 'capture', 'b:eth0', '-w', '-', '--session', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.pipe(createWriteStream(out));
    await eventually(async () => ((await readFile(out).catch(() => Buffer.alloc(0))).length >= 24 ? true : undefined), 10000, 'the pcap header on stdout');
    await exec('a', 'ping -c 2 -i 0.3 10.2.0.2');
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    const data = await readFile(out);
    assert.equal(data.readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
    const read = await run('tcpdump', ['-r', out, '-n', 'icmp']);
    assert.equal(read.stdout.split('\n').filter((l) => /ICMP echo request/.test(l)).length, 2, read.stdout);
    assert.deepEqual((await run('ls', ['-A', dir])).stdout.split('\n').filter((f) => f.startsWith('.capture')), [], 'no temporary capture file is left');
  });

  test('the switch management console, interactive: commands in, answers out, Ctrl-D leaves', async () => {
    const child = spawn(process.execPath, [QEMUNET, 'switch', 's1', '--session', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.write('port/print 2\n');
    await eventually(() => (out.includes('1000 Success') ? true : undefined), 10000, 'the answer');
    child.stdin.end();
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.match(out, /^vde\$ 0000 DATA END WITH '\.'\nPort 0002 untagged_vlan=0000 ACTIVE/m);
  });

  test('bad NIC names and an unwritable capture path', async () => {
    const nohost = await qemunet(['link', 'zed:eth0', 'down', '--session', dir]);
    assert.deepEqual([nohost.code, nohost.stderr], [1, 'qemunet: the session has no host zed; hosts: a, b\n']);
    const nonic = await qemunet(['link', 'a:eth3', 'down', '--session', dir]);
    assert.deepEqual([nonic.code, nonic.stderr], [1, 'qemunet: a has no eth3; it has eth0\n']);
    const bad = await qemunet(['link', 'a', 'down', '--session', dir]);
    assert.deepEqual([bad.code, bad.stderr], [2, 'qemunet: "a" does not name a NIC; write HOST:ethN, like syl:eth0\n']);
    const path = await qemunet(['capture', 'a:eth0', '-w', '/nonexistent/dir/x.pcap', '--session', dir]);
    assert.deepEqual([path.code, path.stderr], [1, 'qemunet: cannot write the capture to /nonexistent/dir/x.pcap: no such directory\n']);
  });
});
