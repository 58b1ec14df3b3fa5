import { readFile } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { run } from '../process/run.js';

/**
 * A build directory can hold mounts: mmdebstrap mounts /proc, /sys, devpts and the host's own
 * /dev/shm inside its chroot, and a build killed mid-install leaves them. Removing such a directory
 * as a plain tree would descend into them and delete the host's shared memory files, so it is
 * unmounted first and removed without crossing into another filesystem.
 */
export async function removeBuildDir(dir: string): Promise<void> {
  for (const mount of mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir)) {
    await run('umount', ['--lazy', mount]).catch(() => {});
  }
  const left = mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  if (left.length) throw new ImageError('BUILD_MOUNTS', `the build directory ${dir} still has mounts (${left.join(', ')}), so it is kept; unmount them with: umount --recursive --lazy ${dir}, then remove it`);
  await run('rm', ['-rf', '--one-file-system', '--', dir]);
}

/** The mount points at or under `dir` in a /proc/self/mountinfo text, the deepest first (so each unmounts). */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined)
    // The kernel writes space, tab, newline and backslash in paths as octal escapes.
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}
