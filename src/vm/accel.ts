import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { qemuOpts } from './qemu-argv.js';

/**
 * A 512-byte boot sector that writes 1 to QEMU's isa-debug-exit port: QEMU then exits with
 * status (1 << 1) | 1 = 3. If a guest reaches it within the timeout, the accelerator really works
 * (a /dev/kvm that exists but hangs its guests fails this test).
 */
export function probeBootSector(): Uint8Array {
  const sector = new Uint8Array(512);
  sector.set([0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]); // mov al,1; out 0xf4,al; hlt; jmp hlt
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export function probeArgv(accel: string, sectorPath: string): string[] {
  return [
    '-machine', qemuOpts('pc', { accel }), '-nodefaults', '-no-user-config', '-display', 'none', '-m', '16',
    // The sector lies under $TMPDIR, which may hold a comma.
    '-drive', qemuOpts(undefined, { file: sectorPath, format: 'raw', if: 'ide' }), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];
}

export interface AccelVerdict {
  accel: 'kvm' | 'tcg';
  /** Why KVM is not used, for the one warning the user sees. */
  reason?: string;
}

const PROBE_EXIT = 3;

async function runProbe(accel: string, timeoutMs: number): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-probe-'));
  try {
    const sector = join(dir, 'boot.img');
    await writeFile(sector, probeBootSector());
    return await new Promise<string | undefined>((resolve) => {
      const child = spawn('qemu-system-x86_64', probeArgv(accel, sector), { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(`a test guest under ${accel.toUpperCase()} did not finish within ${timeoutMs / 1000} s`);
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve(e.message);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code === PROBE_EXIT ? undefined : err.trim().split('\n').pop() || `QEMU exited with status ${code}`);
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Decides between KVM and TCG by booting the probe guest under KVM. The verdict is cached per host
 * boot (keyed by the kernel's boot id), since KVM does not come and go without a reboot.
 */
export async function detectAccel(options: { cacheDir: string; forceTcg?: boolean; timeoutMs?: number }): Promise<AccelVerdict> {
  if (options.forceTcg) return { accel: 'tcg', reason: 'TCG was asked for (-K)' };
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  const cache = join(options.cacheDir, 'accel.json');
  const cached = await readFile(cache, 'utf8').then((t) => JSON.parse(t) as AccelVerdict & { bootId: string }).catch(() => undefined);
  if (cached && cached.bootId === bootId) return { accel: cached.accel, ...(cached.reason ? { reason: cached.reason } : {}) };
  const failure = await runProbe('kvm', options.timeoutMs ?? 3000);
  const verdict: AccelVerdict = failure ? { accel: 'tcg', reason: failure } : { accel: 'kvm' };
  await mkdir(dirname(cache), { recursive: true }).catch(() => {});
  await writeFile(cache, JSON.stringify({ ...verdict, bootId })).catch(() => {});
  return verdict;
}
