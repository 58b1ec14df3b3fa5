/**
 * The pure half of the accelerator decision: which guest to boot as a probe, its command line, how
 * to read its outcome, and what a cached verdict is keyed on.
 *
 * A 16-bit boot sector is not enough: a nested, paravirtualised KVM runs one fine and then hangs a
 * 64-bit Linux in early boot. So the probe boots a real 64-bit Linux kernel with no root device:
 * it panics, `panic=-1` reboots at once, and `-no-reboot` turns that reboot into QEMU exiting.
 */

import { qemuOpts } from './qemu-argv.js';

/** What the user asked for: KVM when the probe says it works, KVM without probing, or TCG. */
export type AccelMode = 'probe' | 'kvm' | 'tcg';

export interface AccelVerdict {
  accel: 'kvm' | 'tcg';
  /** Why KVM is not used, for the one warning the user sees. */
  reason?: string;
  /** How the verdict was reached: a fresh probe, the cache, or a setting. */
  source: 'probe' | 'cache' | 'setting';
}

/** Guest memory of the probe: a 64-bit Debian kernel entered through PVH hangs with 64 MiB, boots with 80. */
const PROBE_MEMORY_MIB = 128;

export function kernelProbeArgv(kernel: string): string[] {
  return [
    '-machine', 'pc,accel=kvm', '-cpu', 'host', '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none',
    '-m', String(PROBE_MEMORY_MIB), '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 cryptomgr.notests no_timer_check',
    '-no-reboot', '-serial', 'stdio',
  ];
}

/**
 * The kernel ran under KVM iff QEMU exited by itself and the kernel got as far as its panic. An exit
 * without the panic line is a reset (a triple fault, say), which a broken KVM can cause too.
 */
export function probeOutcome(exit: { code: number | null; timedOut: boolean }, serial: string, stderr: string, timeoutMs: number): string | undefined {
  if (exit.timedOut) return `a test Linux kernel under KVM did not finish booting within ${timeoutMs / 1000} s`;
  if (exit.code === 0 && /Kernel panic/.test(serial)) return undefined;
  const said = stderr.trim().split('\n').pop();
  if (said) return said.replace(/^qemu-system-x86_64: /, '');
  return exit.code === 0 ? 'a test Linux kernel under KVM reset before it had booted' : `the KVM test guest exited with status ${exit.code}`;
}

/** The kernel that stands for the lab's guests: tiny's when the lab boots tiny, else a system's own kernel, else tiny's. */
export function probeKernel(systems: ReadonlyArray<{ kernel?: string; builtin?: string; sys: string }>, tinyKernel: string | undefined): string | undefined {
  // The built-in images boot the same kernel.
  const tiny = systems.find((s) => s.builtin && s.kernel);
  if (tiny) return tiny.kernel;
  const linux = systems.find((s) => s.kernel && s.sys === 'linux');
  return linux?.kernel ?? tinyKernel;
}

export interface FileIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

/** A verdict holds for one boot of the machine, one QEMU binary and one kernel. */
export function verdictKey(bootId: string, qemu: FileIdentity, kernel: FileIdentity | undefined): string {
  const id = (f: FileIdentity) => `${f.path}:${f.size}:${Math.round(f.mtimeMs)}`;
  return `${bootId}|${id(qemu)}|${kernel ? id(kernel) : 'boot-sector'}`;
}

/**
 * A 512-byte boot sector that writes 1 to QEMU's isa-debug-exit port (QEMU then exits with status
 * 3): the fallback probe when no Linux kernel is at hand (a lab of disk images only, tiny not built).
 */
export function probeBootSector(): Uint8Array {
  const sector = new Uint8Array(512);
  sector.set([0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]); // mov al,1; out 0xf4,al; hlt; jmp hlt
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export const BOOT_SECTOR_EXIT = 3;

export function bootSectorProbeArgv(sectorPath: string): string[] {
  return [
    '-machine', 'pc,accel=kvm', '-nodefaults', '-no-user-config', '-display', 'none', '-m', '16',
    '-drive', qemuOpts(undefined, { file: sectorPath, format: 'raw', if: 'ide' }), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];
}
