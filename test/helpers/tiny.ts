import './owned.js';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { buildTinyImage } from '../../src/images/builder.js';
import { accelCacheFile, builtImagePaths, imageStoreDir } from '../../src/images/store.js';
import { run } from '../../src/process/run.js';
import { detectAccel } from '../../src/vm/accel.js';
import { accelFromEnvironment } from '../../src/cli/lab-settings.js';
import { tinyKernelAppend, type VmSpec } from '../../src/vm/qemu-argv.js';

/** The tiny image, built once per machine and reused by every test (the store lock serialises builds). */
export async function tinyImage() {
  const storeDir = imageStoreDir();
  await buildTinyImage({ storeDir });
  return builtImagePaths(storeDir, 'tiny');
}

export async function tempDir(prefix: string): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `qemunet-test-${prefix}-`));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** A qcow2 overlay on the read-only raw base, as sessions make them. */
export async function overlayOn(base: string, path: string): Promise<string> {
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, path]);
  return path;
}

/** A VM of the tiny system with no NICs, all sockets in `dir`. */
export async function tinyVmSpec(dir: string, name: string, overrides: Partial<VmSpec> = {}): Promise<VmSpec> {
  const image = await tinyImage();
  const { accel } = await detectAccel({ mode: accelFromEnvironment(process.env.QEMUNET_ACCEL), kernel: image.kernel, cacheFile: accelCacheFile() });
  return {
    name,
    accel,
    memoryMiB: 128,
    disk: { path: join(dir, `${name}.qcow2`), format: 'qcow2', interface: 'virtio' },
    kernel: { path: image.kernel, initrd: image.initrd, append: tinyKernelAppend({ hostname: name, user: userInfo().username }) },
    nics: [],
    serialSocket: join(dir, `${name}.serial`),
    qmpSocket: join(dir, `${name}.qmp`),
    agentSocket: join(dir, `${name}.qga`),
    display: { kind: 'none' },
    ...overrides,
  };
}

/** A temporary directory for a whole describe() block; its after() hook calls remove() last. */
export function suiteDir(prefix: string): { path: string; remove(): Promise<void> } {
  const path = mkdtempSync(join(tmpdir(), `qemunet-test-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
