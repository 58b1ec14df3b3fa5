import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootSectorProbeArgv, kernelProbeArgv, probeBootSector, probeKernel, probeOutcome, verdictKey } from '../../src/vm/accel-probe.js';
import { detectAccel } from '../../src/vm/accel.js';

describe('accelerator choice (pure)', () => {
  it('boots a 64-bit kernel with no root device, exiting on its panic', () => {
    assert.deepEqual(kernelProbeArgv('/i/tiny.vmlinux'), [
      '-machine', 'pc,accel=kvm', '-cpu', 'host', '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none',
      '-m', '128', '-kernel', '/i/tiny.vmlinux', '-append', 'console=ttyS0 panic=-1 cryptomgr.notests no_timer_check',
      '-no-reboot', '-serial', 'stdio',
    ]);
  });

  it('counts only a kernel that reached its panic as a success', () => {
    assert.equal(probeOutcome({ code: 0, timedOut: false }, '[ 0.9] Kernel panic - not syncing: VFS: Unable to mount root fs', '', 8000), undefined);
    assert.equal(probeOutcome({ code: 0, timedOut: false }, '', '', 8000), 'a test Linux kernel under KVM reset before it had booted');
    assert.equal(probeOutcome({ code: null, timedOut: true }, '', '', 8000), 'a test Linux kernel under KVM did not finish booting within 8 s');
    assert.equal(probeOutcome({ code: 1, timedOut: false }, '', 'qemu-system-x86_64: failed to initialize kvm: Permission denied\n', 8000), 'failed to initialize kvm: Permission denied');
  });

  it("probes with tiny's kernel when the lab boots tiny, else a system's own, else tiny's if built", () => {
    const tiny = { sys: 'linux', builtin: 'tiny', kernel: '/store/tiny.vmlinux' };
    const debian = { sys: 'linux', kernel: '/img/vmlinuz' };
    const windows = { sys: 'windows' };
    assert.equal(probeKernel([debian, tiny], '/store/tiny.vmlinux'), '/store/tiny.vmlinux');
    assert.equal(probeKernel([windows, debian], '/store/tiny.vmlinux'), '/img/vmlinuz');
    assert.equal(probeKernel([windows], '/store/tiny.vmlinux'), '/store/tiny.vmlinux');
    assert.equal(probeKernel([windows], undefined), undefined);
  });

  it('keys a verdict on the boot, the QEMU binary and the kernel', () => {
    const qemu = { path: '/usr/bin/qemu-system-x86_64', size: 100, mtimeMs: 5.4 };
    assert.equal(verdictKey('b1', qemu, { path: '/k', size: 7, mtimeMs: 9 }), 'b1|/usr/bin/qemu-system-x86_64:100:5|/k:7:9');
    assert.equal(verdictKey('b1', qemu, undefined), 'b1|/usr/bin/qemu-system-x86_64:100:5|boot-sector');
  });

  it('keeps the boot-sector fallback, with a comma in its path ($TMPDIR) escaped', () => {
    assert.ok(bootSectorProbeArgv('/tmp/a,b/boot.img').includes('file=/tmp/a,,b/boot.img,format=raw,if=ide'));
    const s = probeBootSector();
    assert.equal(s.length, 512);
    assert.deepEqual([...s.subarray(0, 7)], [0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]);
    assert.deepEqual([s[510], s[511]], [0x55, 0xaa]);
  });
});

/**
 * The probe through stand-in QEMUs: a KVM that hangs its guest (what a nested, paravirtualised KVM
 * does to a 64-bit Linux) cannot be had on demand, nor a working one on a machine without KVM.
 */
describe('accelerator probe with stand-in QEMUs', () => {
  let dir: string;
  const kvmDevice = '/dev/null'; // exists and is read-write, as a usable /dev/kvm is
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemunet-accel-'));
    await writeFile(join(dir, 'vmlinux'), 'a kernel');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A QEMU that logs each call (its pid and argv) and then does what `body` says. */
  async function standIn(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\necho "$$ $*" >> ${path}.calls\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }
  const calls = (qemu: string) => readFile(`${qemu}.calls`, 'utf8').then((t) => t.trim().split('\n'), () => []);

  it('gives KVM when the test kernel boots to its panic, and asks once per boot', async () => {
    const qemu = await standIn('qemu-works', 'echo "Kernel panic - not syncing: VFS: Unable to mount root fs"; exit 0');
    const cacheFile = join(dir, 'works.json');
    const o = { mode: 'probe' as const, qemu, kernel: join(dir, 'vmlinux'), cacheFile, kvmDevice };
    assert.deepEqual(await detectAccel(o), { accel: 'kvm', source: 'probe' });
    assert.deepEqual(await detectAccel(o), { accel: 'kvm', source: 'cache' });
    const made = await calls(qemu);
    assert.equal(made.length, 1);
    assert.match(made[0]!, / -machine pc,accel=kvm .* -kernel \S+\/vmlinux /);
  });

  it('gives TCG with the reason when the test kernel hangs under KVM, and leaves no QEMU behind', async () => {
    const qemu = await standIn('qemu-hangs', 'exec sleep 60');
    const cacheFile = join(dir, 'hangs.json');
    const o = { mode: 'probe' as const, qemu, kernel: join(dir, 'vmlinux'), cacheFile, kvmDevice, timeoutMs: 1500 };
    assert.deepEqual(await detectAccel(o), { accel: 'tcg', reason: 'a test Linux kernel under KVM did not finish booting within 1.5 s', source: 'probe' });
    const pid = Number((await calls(qemu))[0]!.split(' ')[0]);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    // Cached: a second image store, or a second lab, does not wait again.
    assert.deepEqual(await detectAccel(o), { accel: 'tcg', reason: 'a test Linux kernel under KVM did not finish booting within 1.5 s', source: 'cache' });
    assert.equal((await calls(qemu)).length, 1);
  });

  it('probes again for another kernel or another QEMU', async () => {
    const qemu = await standIn('qemu-counts', 'echo "Kernel panic"; exit 0');
    const cacheFile = join(dir, 'counts.json');
    await writeFile(join(dir, 'other-vmlinux'), 'another kernel');
    await detectAccel({ mode: 'probe', qemu, kernel: join(dir, 'vmlinux'), cacheFile, kvmDevice });
    await detectAccel({ mode: 'probe', qemu, kernel: join(dir, 'other-vmlinux'), cacheFile, kvmDevice });
    assert.equal((await calls(qemu)).length, 2);
  });

  it('does not probe without /dev/kvm, or when a setting decides', async () => {
    const qemu = await standIn('qemu-unused', 'exit 0');
    const base = { qemu, kernel: join(dir, 'vmlinux'), cacheFile: join(dir, 'unused.json') };
    assert.deepEqual(await detectAccel({ ...base, mode: 'probe', kvmDevice: join(dir, 'no-kvm') }), { accel: 'tcg', reason: `${join(dir, 'no-kvm')} does not exist`, source: 'probe' });
    assert.deepEqual(await detectAccel({ ...base, mode: 'kvm', kvmDevice }), { accel: 'kvm', source: 'setting' });
    assert.deepEqual(await detectAccel({ ...base, mode: 'tcg', kvmDevice }), { accel: 'tcg', reason: 'TCG was asked for (-K or QEMUNET_ACCEL=tcg)', source: 'setting' });
    assert.deepEqual(await calls(qemu), []);
  });
});
