import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyImage } from '../src/images/builder.js';
import { builtImagePaths, imageStoreDir } from '../src/images/store.js';
import { run } from '../src/process/run.js';
import { kernelProbeArgv } from '../src/vm/accel-probe.js';
import { detectAccel } from '../src/vm/accel.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/**
 * What deciding KVM costs a lab: a fresh verdict (on this machine: a real KVM probe where /dev/kvm
 * exists), a cached one, and for scale the probe's kernel booted to its panic under TCG (a working
 * KVM does it faster; a broken one hangs until the 8 s deadline, once per boot).
 */
export async function benchAccel(print: (line: string) => void): Promise<Record<string, unknown>> {
  const storeDir = imageStoreDir();
  await buildTinyImage({ storeDir });
  const kernel = builtImagePaths(storeDir, 'tiny').kernel;
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-bench-accel-'));
  try {
    const cacheFile = join(dir, 'accel.json');
    let verdict: unknown;
    const freshMs = await timed(async () => (verdict = await detectAccel({ mode: 'probe', kernel, cacheFile })));
    const cachedMs = median(await Promise.all([0, 1, 2, 3, 4].map(() => timed(() => detectAccel({ mode: 'probe', kernel, cacheFile })))));
    const tcgArgv = kernelProbeArgv(kernel).map((a) => (a === 'pc,accel=kvm' ? 'pc,accel=tcg' : a)).filter((a, i, all) => !(a === '-cpu' || all[i - 1] === '-cpu'));
    const tcgMs: number[] = [];
    for (let i = 0; i < 3; i++) tcgMs.push(await timed(() => run('qemu-system-x86_64', tcgArgv)));
    const r = { verdict, freshMs: Math.round(freshMs), cachedMs: Math.round(cachedMs * 10) / 10, probeKernelUnderTcgMs: Math.round(median(tcgMs)) };
    print(`verdict ${JSON.stringify(verdict)}: fresh ${r.freshMs} ms, cached ${r.cachedMs} ms; the probe kernel to its panic under TCG: ${r.probeKernelUnderTcgMs} ms (deadline under KVM: 8000 ms)`);
    return r;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
