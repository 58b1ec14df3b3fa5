import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from './run.js';

/** The runner's clock in a real run; an abort rejects with the signal's reason, as everywhere in qemunet. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    sleep(ms, undefined, signal ? { signal } : {}).catch((e: unknown) => {
      throw signal?.aborted ? signal.reason : e;
    }),
};
