import { open, readFile, rm } from 'node:fs/promises';
import { SessionError } from '../errors.js';
import { processAlive } from '../process/alive.js';

export interface SessionLock {
  /** Set when a lock of a dead process was taken over, for a notice. */
  tookOverFrom?: number;
  release(): Promise<void>;
}

/**
 * One qemunet process drives a session: the lock file holds its pid. A lock whose process is gone
 * (a crash, a SIGKILL) is taken over; a live one is an error naming the pid.
 */
export async function lockSession(lockFile: string, dir: string, pid = process.pid): Promise<SessionLock> {
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(`${pid}\n`);
      await fh.close();
      return {
        ...(tookOverFrom ? { tookOverFrom } : {}),
        release: async () => {
          if ((await lockHolder(lockFile)) === pid) await rm(lockFile, { force: true });
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS') throw new SessionError('SESSION_READONLY', `session directory ${dir} is not writable (${code})`);
      if (code !== 'EEXIST') throw e;
      const holder = await lockHolder(lockFile);
      if (holder && processAlive(holder)) {
        throw new SessionError('SESSION_LOCKED', `session ${dir} is in use by qemunet process ${holder}; stop it with "qemunet down --session ${dir}"`);
      }
      tookOverFrom = holder;
      await rm(lockFile, { force: true });
    }
  }
  throw new SessionError('SESSION_LOCKED', `could not lock session ${dir}: its lock file ${lockFile} keeps coming back`);
}

/** The pid in a lock file, or undefined when there is none. */
export async function lockHolder(lockFile: string): Promise<number | undefined> {
  const text = await readFile(lockFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
