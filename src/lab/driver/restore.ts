import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../../errors.js';
import { run } from '../../process/run.js';
import { inspectArchive } from '../../session/archive-check.js';
import { staleRuntimeFile } from '../../session/archive-manifest.js';
import { keepValidLayout } from '../../session/layout.js';
import { sessionPaths } from '../../session/paths.js';

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
  await keepValidLayout(sessionPaths(dir).layout);
}

/** Pid files, sockets, old `<host>.sh` and locks of another machine are removed; qemunet makes its own. */
export async function removeStaleRuntime(dir: string): Promise<void> {
  for (const name of await readdir(dir)) if (staleRuntimeFile(name) && name !== 'qemunet.lock') await rm(join(dir, name), { recursive: true, force: true });
}

