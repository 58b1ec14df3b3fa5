import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mountPointsUnder } from '../../src/images/build-dir.js';
import { removeStaleBuilds } from '../../src/images/store-lock.js';
import { run } from '../../src/process/run.js';
import { tempDir } from '../helpers/tiny.js';

const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '45 27 0:40 / /s/.build-debian-6333-x/root/dev/pts rw,nosuid - devpts none rw',
  '46 27 0:27 / /s/.build-debian-6333-x/root/dev/shm rw,relatime - tmpfs tmpfs rw',
  '47 27 0:22 / /s/.build-debian-6333-x/root/sys ro,nosuid - sysfs sys rw',
  '48 27 0:41 / /s/.build-debian-6333-x/root/proc ro,relatime - proc proc ro',
  '49 48 0:42 / /s/.build-debian-6333-x/root/proc/sys/fs/binfmt_misc rw - binfmt_misc b rw',
  '50 27 0:43 / /s/.build-debian-6333-xy/root/proc rw - proc proc rw',
  '51 27 0:44 / /s/.build-debian-6333-x/with\\040space rw - tmpfs t rw',
  '',
].join('\n');

describe('build directories with mounts left in them', () => {
  it('finds the mount points under a directory, deepest first, with escaped spaces decoded', () => {
    assert.deepEqual(mountPointsUnder(MOUNTINFO, '/s/.build-debian-6333-x'), [
      '/s/.build-debian-6333-x/root/proc/sys/fs/binfmt_misc',
      '/s/.build-debian-6333-x/root/dev/pts',
      '/s/.build-debian-6333-x/root/dev/shm',
      '/s/.build-debian-6333-x/root/proc',
      '/s/.build-debian-6333-x/root/sys',
      '/s/.build-debian-6333-x/with space',
    ]);
    assert.deepEqual(mountPointsUnder(MOUNTINFO, '/elsewhere'), []);
  });

  it("a stale build holding a bind mount of a host folder is unmounted, then removed; the host folder's files stay", { skip: process.getuid?.() !== 0 && 'mounting needs root' }, async () => {
    await using tmp = await tempDir('build-dir');
    const host = join(tmp.path, 'host-shm');
    await mkdir(host);
    await writeFile(join(host, 'precious'), 'keep me\n');
    const store = join(tmp.path, 'store');
    // pid 2^22 + 1 is above any pid_max: the builder is certainly gone.
    const shm = join(store, `.build-debian-${2 ** 22 + 1}-x`, 'root', 'dev', 'shm');
    await mkdir(shm, { recursive: true });
    await run('mount', ['--bind', host, shm]);
    try {
      await removeStaleBuilds(store);
      assert.deepEqual(await readdir(store), []);
      assert.equal(await readFile(join(host, 'precious'), 'utf8'), 'keep me\n');
    } finally {
      await run('umount', ['--lazy', shm]).catch(() => {});
    }
  });
});
