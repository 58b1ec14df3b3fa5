import { homedir } from 'node:os';
import { join } from 'node:path';

/** `${XDG_CACHE_HOME:-~/.cache}/qemunet`: what is kept per user of the machine, whatever image store is used. */
export function qemunetCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'qemunet');
}

/** `$QEMUNET_IMAGES`, else `${XDG_CACHE_HOME:-~/.cache}/qemunet/images`. */
export function imageStoreDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.QEMUNET_IMAGES) return env.QEMUNET_IMAGES;
  return join(qemunetCacheDir(env, home), 'images');
}

/** The KVM verdicts, one file for the machine (a second image store does not probe again). */
export function accelCacheFile(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return join(qemunetCacheDir(env, home), 'accel.json');
}

/** Downloaded .deb files are kept beside the store so a rebuild needs no network. */
export function debCacheDir(storeDir: string): string {
  return join(storeDir, '.debs');
}

/** Every file of a built-in image, in one place. */
export interface BuiltImagePaths {
  dir: string;
  fs: string;
  kernel: string;
  initrd: string;
  /** The same kernel compressed, as Debian ships it: what QemuNet would boot (used by benchmarks). */
  compressedKernel: string;
  /** tiny's User-Mode Linux kernel (the `linux` binary of Debian's user-mode-linux), for `tiny-uml`. */
  umlKernel: string;
  manifest: string;
}

export function builtImagePaths(storeDir: string, name: string): BuiltImagePaths {
  const dir = join(storeDir, name);
  return {
    dir,
    fs: join(dir, `${name}.img`),
    kernel: join(dir, `${name}.vmlinux`),
    initrd: join(dir, `${name}.initrd`),
    compressedKernel: join(dir, `${name}.vmlinuz`),
    umlKernel: join(dir, `${name}.linux-uml`),
    manifest: join(dir, 'manifest.json'),
  };
}
