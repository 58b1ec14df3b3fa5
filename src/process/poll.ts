import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this long: the result is then undefined. */
  timeoutMs: number;
  /** The wait between tries (default 50 ms); with `maxIntervalMs` it doubles after each try, up to that. */
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/**
 * The one way qemunet waits for something it cannot be told about (a socket appearing, a lock let
 * go, a line in a log): tries `probe` until it gives a value other than undefined, and gives that;
 * undefined once the time is up (the probe has had a last try at the deadline). A probe that throws
 * ends the wait with its error (the process it waits for exited, say); an abort, with its reason.
 */
export async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, o: PollOptions): Promise<T | undefined> {
  const deadline = Date.now() + o.timeoutMs;
  for (let interval = o.intervalMs ?? 50; ; interval = Math.min(interval * 2, o.maxIntervalMs ?? interval)) {
    o.signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(interval, left), undefined, o.signal ? { signal: o.signal } : {}).catch((e: unknown) => {
      // As everywhere in qemunet, an abort rejects with the signal's reason (not the timer's AbortError).
      throw o.signal?.aborted ? o.signal.reason : e;
    });
  }
}
