import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTinyImage } from '../src/images/builder.js';
import { imageStoreDir } from '../src/images/store.js';
import { launchVm } from '../src/vm/launch.js';
import { tinyKernelAppend } from '../src/vm/qemu-argv.js';
import { overlayOn, tempDir, tinyImage, tinyVmSpec } from '../test/helpers/tiny.js';

const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Start QEMU, wait for the guest agent; returns ms and the RSS of the VM 2 s after ready. */
async function bootToReady(dir: string, kernel: string, initrd: string, append: string, measureRss: boolean): Promise<{ ms: number; rssKiB?: number }> {
  const image = await tinyImage();
  const spec = await tinyVmSpec(dir, 'bench');
  await overlayOn(image.fs, spec.disk.path);
  const started = performance.now();
  const vm = await launchVm({ ...spec, kernel: { path: kernel, initrd, append } }, { logFile: join(dir, 'bench.log'), dieWithParent: true });
  try {
    const agent = await vm.waitReady(AbortSignal.timeout(120_000));
    const ms = performance.now() - started;
    agent.close();
    let rssKiB: number | undefined;
    if (measureRss) {
      await new Promise((r) => setTimeout(r, 2000));
      const status = await readFile(`/proc/${vm.pid}/status`, 'utf8');
      rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    }
    return { ms, ...(rssKiB !== undefined ? { rssKiB } : {}) };
  } finally {
    await vm.kill();
    const { rm } = await import('node:fs/promises');
    await rm(spec.disk.path, { force: true });
  }
}

export async function benchTinyImage(print: (line: string) => void) {
  const storeDir = imageStoreDir();
  await buildTinyImage({ storeDir }); // packages downloaded, so the timed build below is offline work only
  const t0 = performance.now();
  const manifest = await buildTinyImage({ storeDir, force: true });
  const buildSeconds = (performance.now() - t0) / 1000;
  print(`tiny image build (packages cached): ${buildSeconds.toFixed(1)} s (goal <= 60 s)`);

  const image = await tinyImage();
  await using dir = await tempDir('bench');
  const gzInitrd = join(dir.path, 'tiny.initrd.gz');
  await writeFile(gzInitrd, gzipSync(await readFile(image.initrd)));
  const append = tinyKernelAppend({ hostname: 'bench', user: userInfo().username });
  const fast: number[] = [];
  const qemunetWay: number[] = [];
  let rssKiB = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await bootToReady(dir.path, image.kernel, image.initrd, append, i === 0);
    fast.push(r.ms);
    rssKiB = r.rssKiB ?? rssKiB;
    qemunetWay.push((await bootToReady(dir.path, image.compressedKernel, gzInitrd, append, false)).ms);
  }
  const ratio = median(fast) / median(qemunetWay);
  print(`boot to ready, 128 MiB guest, median of ${RUNS}: tiny ${median(fast).toFixed(0)} ms, QemuNet way (bzImage + gzip initrd) ${median(qemunetWay).toFixed(0)} ms, ratio ${ratio.toFixed(2)} (goal <= 0.55)`);
  print(`RSS of one idle tiny VM: ${(rssKiB / 1024).toFixed(0)} MiB`);
  return { buildSeconds, bootMs: fast, qemunetWayBootMs: qemunetWay, ratio, guestMemoryMiB: 128, idleVmRssKiB: rssKiB, kernelVersion: manifest.kernelVersion };
}
