/** Files and sockets made under this mask are for their owner alone (a socket's `w` is what lets one connect). */
export const PRIVATE_UMASK = 0o077;

/**
 * Runs `fn` with the process umask set to `mask`, and restores it before returning. `fn` must create
 * its files synchronously, as these do: `server.listen(path)` binds the unix socket before it
 * returns, and `spawn()` forks before it returns, the child keeping the umask, so the sockets it makes
 * later (QEMU's QMP, serial and agent sockets, vde_switch's ports) are private from the start, with
 * no window before a chmod. A file that libuv's thread pool happens to create meanwhile gets the
 * stricter mask too: an error on the safe side.
 */
export function withUmask<T>(mask: number, fn: () => T): T {
  const previous = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}
