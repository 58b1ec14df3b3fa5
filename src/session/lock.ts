import { SessionError } from '../errors.js';
import { tryLock, type PidLock } from '../process/pid-lock.js';

export { heldBy } from '../process/pid-lock.js';
export type SessionLock = PidLock;

/** One qemunet process drives a session: its lock (process/pid-lock.ts); a live holder is an error naming its pid. */
export async function lockSession(lockFile: string, dir: string, pid = process.pid): Promise<SessionLock> {
  const r = await tryLock(lockFile, pid).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EACCES' || e.code === 'EROFS') throw new SessionError('SESSION_READONLY', `session directory ${dir} is not writable (${e.code})`);
    throw e;
  });
  if ('lock' in r) return r.lock;
  if (!r.holder) throw new SessionError('SESSION_LOCKED', `could not lock session ${dir}: its lock file ${lockFile} keeps coming back`);
  throw new SessionError('SESSION_LOCKED', `session ${dir} is in use by qemunet process ${r.holder.pid}; stop it with "qemunet down --session ${dir}"`);
}
