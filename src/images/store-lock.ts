import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive as alive } from '../process/alive.js';
import { waitForLock } from '../process/pid-lock.js';

/**
 * One build of an image at a time (the lock of process/pid-lock.ts): a second qemunet waits (and
 * then finds the image built); a lock left by a dead process is taken over.
 */
export async function withStoreLock<T>(storeDir: string, name: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
  const lock = await waitForLock(join(storeDir, `.${name}.lock`), signal);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

/** Build directories named `.build-<name>-<pid>-...` whose process is gone were killed mid-build. */
export async function removeStaleBuilds(storeDir: string): Promise<void> {
  for (const entry of await readdir(storeDir)) {
    const m = /^\.build-[^-]+-(\d+)-/.exec(entry);
    if (m && !alive(Number(m[1]))) await rm(join(storeDir, entry), { recursive: true, force: true });
  }
}
