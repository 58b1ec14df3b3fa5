import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../errors.js';
import { baseIdentity } from '../images/base-checksum.js';
import { run } from '../process/run.js';
import { inspectArchive } from '../session/archive-check.js';
import { parseSessionManifest, staleRuntimeFile } from '../session/archive-manifest.js';
import { sessionPaths } from '../session/paths.js';
import type { LabPlan } from './plan.js';

/** Limits for untrusted archives: a lab is a few overlays and 100 MiB disks, not terabytes. */
export const ARCHIVE_LIMITS = { maxTotalBytes: 64 * 2 ** 30, maxEntries: 100000 };

/**
 * Extracts a session archive (QemuNet's or qemunet's) into `dir` after checking every entry: no
 * absolute paths, no `..`, no links out of the session, no devices, bounded size. With `needTopology`
 * it must hold a `topology`.
 */
export async function extractArchive(archive: string, dir: string, options: { needTopology: boolean; signal?: AbortSignal }): Promise<void> {
  const entries = await inspectArchive(archive, ARCHIVE_LIMITS, options.signal);
  if (options.needTopology && !entries.some((e) => e.path === 'topology' && e.type === 'file')) {
    throw new SessionError('ARCHIVE_NO_TOPOLOGY', `${archive} holds no "topology" file, so it is not a QemuNet session archive (it has: ${entries.slice(0, 8).map((e) => e.path).join(', ')}${entries.length > 8 ? ', ...' : ''})`);
  }
  // The session's own lock and state are never taken from an archive (the lock is held right now).
  await run('tar', ['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions', '--exclude=qemunet.lock', '--exclude=qemunet-state.json'], options.signal ? { signal: options.signal } : {}).catch((e: Error) => {
    throw new SessionError('ARCHIVE_CORRUPT', `could not extract ${archive}: ${e.message}`);
  });
  await removeStaleRuntime(dir);
}

/** Pid files, sockets, old `<host>.sh` and locks of another machine are removed; qemunet makes its own. */
export async function removeStaleRuntime(dir: string): Promise<void> {
  for (const name of await readdir(dir)) if (staleRuntimeFile(name) && name !== 'qemunet.lock') await rm(join(dir, name), { recursive: true, force: true });
}

/**
 * An overlay saved on another machine only fits a base image with the same content. Each host's
 * recorded base checksum is compared with this machine's copy; a difference stops the restore
 * (or, with force, is a warning).
 */
export async function checkBases(plan: LabPlan, cacheDir: string, force: boolean, notice: (m: string) => void): Promise<void> {
  const manifest = parseSessionManifest(await readFile(sessionPaths(plan.dir).manifest, 'utf8').catch(() => ''));
  if (!manifest) return;
  for (const saved of manifest.hosts) {
    const host = plan.hosts.find((h) => h.name === saved.name);
    if (!host) continue;
    const here = await baseIdentity(host.system.fs, cacheDir);
    if (here.sha256 === saved.base.sha256) continue;
    const what = `the overlay of ${saved.name} was made on a base image of system ${saved.system} with sha256 ${saved.base.sha256} (${saved.base.bytes} bytes), but system ${host.system.name} here is ${host.system.fs} with sha256 ${here.sha256} (${here.bytes} bytes)`;
    if (!force) throw new SessionError('BASE_MISMATCH', `${what}; the guest would see a corrupt disk. Use the same base image, or --force to start anyway`);
    notice(`warning: ${what}; starting anyway (--force)`);
  }
}
