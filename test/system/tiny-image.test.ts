import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/process/run.js';
import type { GuestAgent } from '../../src/vm/guest-agent.js';
import { launchVm, type RunningVm } from '../../src/vm/launch.js';
import { overlayOn, tempDir, tinyImage, tinyVmSpec } from '../helpers/tiny.js';

/** Makes a FAT disk holding a start.sh, as QemuNet's <host>.disk files are. */
async function fatDiskWithStartScript(path: string, script: string): Promise<void> {
  await run('mkfs.fat', ['-C', path, '8192']);
  const scriptFile = `${path}.start.sh`;
  await writeFile(scriptFile, script);
  await run('mcopy', ['-i', path, scriptFile, '::/start.sh']);
}

async function sh(agent: GuestAgent, command: string) {
  const r = await agent.exec('/bin/sh', ['-c', command]);
  return { code: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() };
}

describe('the tiny image boots and keeps the guest contract', { timeout: 600_000 }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let vm: RunningVm;
  let agent: GuestAgent;
  let overlay: string;

  before(async () => {
    dir = await tempDir('tiny');
    const image = await tinyImage();
    overlay = await overlayOn(image.fs, join(dir.path, 'labhost.qcow2'));
    const share = join(dir.path, 'labhost');
    await mkdir(share);
    await writeFile(join(share, 'start.sh'), '#!/bin/bash\necho "share start.sh ran as $BASH_VERSION"\ntouch /root/from-share\n');
    const disk = join(dir.path, 'labhost.disk');
    await fatDiskWithStartScript(disk, '#!/bin/sh\necho disk start.sh ran\ntouch /root/from-disk\n');
    const spec = await tinyVmSpec(dir.path, 'labhost', { shareDir: share, extraDisk: { path: disk, format: 'raw', interface: 'virtio' } });
    vm = await launchVm(spec, { logFile: join(dir.path, 'labhost.log'), dieWithParent: true });
    agent = await vm.waitReady(AbortSignal.timeout(120_000));
  });

  after(async () => {
    agent?.close();
    await vm?.kill();
    await dir?.[Symbol.asyncDispose]();
  });

  it('takes its hostname from the kernel command line', async () => {
    assert.deepEqual(await sh(agent, 'hostname'), { code: 0, out: 'labhost', err: '' });
  });

  it('ran start.sh from the 9p share (mounted on /mnt/host) and from the FAT second disk', async () => {
    assert.equal((await sh(agent, 'test -e /root/from-share && test -e /root/from-disk')).code, 0);
    assert.equal((await sh(agent, 'mountpoint -q /mnt/host 2>/dev/null || grep -q " /mnt/host 9p " /proc/mounts')).code, 0);
    const log = (await sh(agent, 'cat /var/log/qemunet-start.log')).out;
    assert.match(log, /disk start\.sh ran/);
    assert.match(log, /share start\.sh ran as 5\./);
    assert.match(await readFile(join(dir.path, 'labhost.log'), 'utf8'), /share start\.sh ran/);
  });

  it('returns the exit status and output of a guest command', async () => {
    assert.deepEqual(await sh(agent, 'echo out; echo err >&2; exit 7'), { code: 7, out: 'out', err: 'err' });
  });

  it('has the tools of networking exercises, each runnable', async () => {
    const tools = ['ip -V', 'ping -V', 'traceroute -V', 'tracepath -V', 'tcpdump --version', 'iptables -V', 'nft --version', 'dnsmasq --version', 'iperf3 --version', 'nc -h', 'dropbear -V', 'dbclient -V', 'bash --version', 'ethtool --version', 'ifconfig -a', 'vconfig --help', 'udhcpc --help', 'brctl --version', 'qemu-ga --version', 'modprobe -n 8021q'];
    const failed: string[] = [];
    for (const t of tools) {
      // Some print their version and exit 1 (nc -h, dropbear -V): what matters is that they run.
      const r = await sh(agent, `${t} >/dev/null 2>&1; echo $?`);
      if (r.out === '127' || r.out === '126') failed.push(`${t} (exit ${r.out})`);
    }
    assert.deepEqual(failed, []);
  });

  it('keeps what is written to / across a power-off and a new boot on the same overlay', async () => {
    await sh(agent, 'echo kept > /root/persist.txt');
    agent.close();
    // The ACPI power button must shut the guest down cleanly: QEMU exits by itself, status 0.
    const exit = await vm.stop(60_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    const spec = await tinyVmSpec(dir.path, 'labhost');
    vm = await launchVm({ ...spec, disk: { path: overlay, format: 'qcow2', interface: 'virtio' } }, { logFile: join(dir.path, 'labhost.log'), dieWithParent: true });
    agent = await vm.waitReady(AbortSignal.timeout(120_000));
    assert.deepEqual(await sh(agent, 'cat /root/persist.txt'), { code: 0, out: 'kept', err: '' });
  });
});
