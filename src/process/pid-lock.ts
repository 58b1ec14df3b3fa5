import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { processAlive } from './alive.js';
import { processIdentity } from './identity.js';
import { pollUntil } from './poll.js';

/**
 * qemunet's one lock mechanism (a session's driver, an image build): a lock file holding its
 * holder's pid and identity ("PID IDENTITY"). It appears whole (written aside, then hard-linked to
 * its name), so a reader never sees a half-written lock and takes it for a dead one. A lock whose
 * process is gone (a crash, a SIGKILL, a reboot that gave the pid to another process) is taken over.
 */
export interface PidLock {
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
 * Takes the lock, or gives the live holder that has it (undefined: it kept changing hands while this
 * tried). Errors other than "it exists" (EACCES, EROFS) are thrown.
 */
export async function tryLock(lockFile: string, pid = process.pid): Promise<{ lock: PidLock } | { holder: LockRecord | undefined }> {
  let tookOverFrom: number | undefined;
  const aside = `${lockFile}.${pid}.new`;
  await writeFile(aside, `${[pid, processIdentity(pid)].filter((x) => x !== undefined).join(' ')}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(aside, lockFile);
        const release = async () => {
          if ((await lockRecord(lockFile))?.pid === pid) await rm(lockFile, { force: true });
        };
        return { lock: { ...(tookOverFrom ? { tookOverFrom } : {}), release } };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = await lockRecord(lockFile);
        if (holder && holderAlive(holder)) return { holder };
        tookOverFrom = holder?.pid;
        await rm(lockFile, { force: true });
      }
    }
    return { holder: undefined };
  } finally {
    await rm(aside, { force: true });
  }
}

/** Waits until the lock is free and takes it (checking every half second; an abort ends the wait). */
export async function waitForLock(lockFile: string, signal?: AbortSignal): Promise<PidLock> {
  const taken = await pollUntil(async () => {
    const r = await tryLock(lockFile);
    return 'lock' in r ? r.lock : undefined;
  }, { timeoutMs: Infinity, intervalMs: 500, ...(signal ? { signal } : {}) });
  return taken!;
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
