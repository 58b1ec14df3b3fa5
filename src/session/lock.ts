import { open, readFile, rm } from 'node:fs/promises';
import { SessionError } from '../errors.js';
import { processAlive } from '../process/alive.js';
import { processIdentity } from '../process/identity.js';

export interface SessionLock {
  /** Set when a lock of a dead process was taken over, for a notice. */
  tookOverFrom?: number;
  release(): Promise<void>;
}

/** What a lock file says: the pid of its holder and, from this version on, that process's identity. */
export interface LockRecord {
  pid: number;
  identity?: string;
}

/**
 * One qemunet process drives a session: the lock file holds its pid and identity ("PID IDENTITY").
 * A lock whose process is gone (a crash, a SIGKILL, a reboot that gave the pid to another
 * process) is taken over; a live one is an error naming the pid.
 */
export async function lockSession(lockFile: string, dir: string, pid = process.pid): Promise<SessionLock> {
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(`${[pid, processIdentity(pid)].filter((x) => x !== undefined).join(' ')}\n`);
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
      const holder = await lockRecord(lockFile);
      if (holder && holderAlive(holder)) {
        throw new SessionError('SESSION_LOCKED', `session ${dir} is in use by qemunet process ${holder.pid}; stop it with "qemunet down --session ${dir}"`);
      }
      tookOverFrom = holder?.pid;
      await rm(lockFile, { force: true });
    }
  }
  throw new SessionError('SESSION_LOCKED', `could not lock session ${dir}: its lock file ${lockFile} keeps coming back`);
}

/** The pid in a lock file, or undefined when there is none. */
export async function lockHolder(lockFile: string): Promise<number | undefined> {
  return (await lockRecord(lockFile))?.pid;
}

export async function lockRecord(lockFile: string): Promise<LockRecord | undefined> {
  const [pidText, identity] = (await readFile(lockFile, 'utf8').catch(() => '')).trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return identity ? { pid, identity } : { pid };
}

/**
 * Whether the process that took the lock still runs. A lock without an identity (hand-made, or
 * from an earlier version) is taken at its word when its pid is alive.
 */
export function holderAlive(lock: LockRecord): boolean {
  return processAlive(lock.pid) && (lock.identity === undefined || processIdentity(lock.pid) === lock.identity);
}

/** Whether `pid` is the process holding the lock, as it was when it took it (never a stranger reusing its pid). */
export async function heldBy(lockFile: string, pid: number): Promise<boolean> {
  const lock = await lockRecord(lockFile);
  return lock?.pid === pid && lock.identity !== undefined && holderAlive(lock);
}
