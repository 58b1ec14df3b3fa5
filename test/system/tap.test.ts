import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/process/run.js';
import { QEMUNET, qemunet } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';

/** The host side lives in a network namespace made for the test, never on the machine's interfaces. */
describe('TAP: the host and the VMs on one switch', { timeout: 300000 }, () => {
  const tmp = suiteDir('tap');
  const dir = join(tmp.path, 's');
  const ns = `qnt${process.pid}`;
  const topo = join(tmp.path, 'tap.topo');
  const inNs = (args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);

  before(async () => {
    await run('ip', ['netns', 'add', ns]);
    await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\nTAP qtap0 s1 10.9.0.254/24\n');
    await mkdir(join(dir, 'a'), { recursive: true });
    await writeFile(join(dir, 'a', 'start.sh'), '#!/bin/sh\nip addr add 10.9.0.1/24 dev eth0\n');
    await inNs([process.execPath, QEMUNET, 'up', topo, '--wait', '--session', dir]);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await run('ip', ['netns', 'del', ns]).catch(() => {});
    await tmp.remove();
  });

  test('the tap has its address, on a port after the hosts; host and VM ping each other', async () => {
    assert.match((await inNs(['ip', '-br', 'addr', 'show', 'qtap0'])).stdout, /^qtap0 +UNKNOWN +10\.9\.0\.254\/24/);
    assert.equal((await run('ip', ['link', 'show', 'qtap0']).then(() => 'here', () => 'absent')), 'absent', 'the tap is in the namespace only');
    const ping = await inNs(['ping', '-c', '2', '-W', '5', '10.9.0.1']);
    assert.match(ping.stdout, /2 received/);
    const back = await qemunet(['exec', 'a', '--session', dir, '--', 'ping', '-c', '1', '-W', '5', '10.9.0.254']);
    assert.equal(back.code, 0, back.stdout);
    const ports = await qemunet(['switch', 's1', '--session', dir, '--', 'port/allprint']);
    assert.match(ports.stdout, /Port 0002 untagged_vlan=0000 ACTIVE/);
  });

  test('without CAP_NET_ADMIN, a clear error that says what to run, and nothing left', async () => {
    const other = join(tmp.path, 'other');
    const topo2 = join(tmp.path, 'tap2.topo');
    await writeFile(topo2, 'SWITCH s1\nHOST tiny a s1\nTAP qtap1 s1\n');
    const r = await run('ip', ['netns', 'exec', ns, 'setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin', process.execPath, QEMUNET, 'up', topo2, '--session', other, '-K']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { exitCode: number; output: string }) => ({ code: e.exitCode, stderr: e.output }),
    );
    assert.equal(r.code, 1);
    assert.equal((await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'show', 'qtap1']).then(() => 'here', () => 'absent')), 'absent');
    assert.match(r.stderr, /qemunet: tap:\/\/qtap1 needs CAP_NET_ADMIN to make a tap interface: run qemunet as root, or give vde_plug the capability: sudo setcap cap_net_admin\+ep \$\(command -v vde_plug\)/);
  });
});
