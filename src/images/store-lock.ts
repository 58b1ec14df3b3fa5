import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive as alive } from '../process/alive.js';


/**
 * One build of an image at a time: a lock file holding the builder's pid. A second qemunet waits
 * (and then finds the image built); a lock left by a dead process is taken over.
 */
export async function withStoreLock<T>(storeDir: string, name: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
  const lock = join(storeDir, `.${name}.lock`);
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (!pid || !alive(pid)) {
        await rm(lock, { force: true });
        continue;
      }
      await sleep(500, undefined, { signal });
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

/** Build directories named `.build-<name>-<pid>-...` whose process is gone were killed mid-build. */
export async function removeStaleBuilds(storeDir: string): Promise<void> {
  for (const entry of await readdir(storeDir)) {
    const m = /^\.build-[^-]+-(\d+)-/.exec(entry);
    if (m && !alive(Number(m[1]))) await rm(join(storeDir, entry), { recursive: true, force: true });
  }
}
