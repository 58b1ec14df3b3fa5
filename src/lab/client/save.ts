import { access, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SessionError } from '../../errors.js';
import { baseIdentity } from '../../images/base-checksum.js';
import { imageStoreDir } from '../../images/store.js';
import { run } from '../../process/run.js';
import { archivedSessionFiles, umlCowFile, type SessionManifest } from '../../session/archive-manifest.js';
import { sessionPaths } from '../../session/paths.js';
import { controlRequest } from './control-client.js';
import { isLive, sessionStatus } from './sessions.js';
import { QEMUNET_VERSION } from '../version.js';

/**
 * Saves a session as a .tgz: topology, overlays (kept sparse), shared folders, `.disk` and `.cmd`
 * files and a manifest of the base images. A running session keeps running: its VMs are frozen
 * (QEMU flushes their disks), their overlays copied, and thawed, so each disk is one moment of its
 * guest. The archive is written beside its destination and renamed, so a failure never destroys an
 * earlier archive of the same name.
 */
export async function saveSession(dir: string, out: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ file: string; live: boolean }> {
  const target = resolve(options.cwd ?? process.cwd(), out);
  const state = await sessionStatus(dir);
  const paths = sessionPaths(dir);
  const hosts = state.hosts.map((h) => h.name);
  const live = isLive(state);
  const staging = await mkdtemp(join(dir, '.save-'));
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    if (live) {
      await controlRequest(paths.control, { cmd: 'freeze' });
      try {
        await Promise.all(hosts.map((h) => copyDisk(dir, staging, h)));
      } finally {
        await controlRequest(paths.control, { cmd: 'thaw' });
      }
    }
    const cacheDir = join(imageStoreDir(options.env), '..');
    const manifest: SessionManifest = {
      format: 'qemunet-session',
      version: 1,
      qemunetVersion: QEMUNET_VERSION,
      savedAt: new Date().toISOString(),
      hosts: await Promise.all(state.hosts.map(async (h) => ({ name: h.name, system: h.system, base: await baseIdentity(h.base, cacheDir) }))),
    };
    await writeFile(join(staging, basename(paths.manifest)), `${JSON.stringify(manifest, null, 2)}\n`);
    const files = (await existing(dir, archivedSessionFiles(await readdir(dir), hosts))).filter((f) => !(live && /\.(qcow2|cow)$/.test(f)));
    const fromStaging = await readdir(staging);
    await run('tar', ['-czS', '--format=gnu', '-f', tmp, '-C', dir, ...files, '-C', staging, ...fromStaging]).catch((e: Error) => {
      const why = /No space left on device/.test(e.message) ? 'no space left on its device' : e.message;
      throw new SessionError('SAVE_FAILED', `could not write ${target}: ${why}; any earlier file of that name is untouched`);
    });
    await rename(tmp, target);
    return { file: target, live };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(tmp, { force: true });
  }
}

/** A frozen host's disk into the staging folder: its qcow2 overlay (QEMU), or its COW file (UML), whichever it has. */
async function copyDisk(dir: string, staging: string, host: string): Promise<void> {
  for (const file of [`${host}.qcow2`, umlCowFile(host)]) {
    if (!(await access(join(dir, file)).then(() => true, () => false))) continue;
    await mkdir(dirname(join(staging, file)), { recursive: true });
    await run('cp', ['--sparse=always', join(dir, file), join(staging, file)]);
  }
}

/** The files that exist (a UML host that never booted has no COW file yet). */
async function existing(dir: string, files: readonly string[]): Promise<string[]> {
  const found = await Promise.all(files.map((f) => access(join(dir, f)).then(() => true, () => false)));
  return files.filter((_, i) => found[i]);
}
