import type { Clock } from '../../src/checks/index.js';

/**
 * Time that passes only when every task is waiting on it: a sleep registers a timer, and once the
 * event loop has run everything else (setImmediate comes after the pending promise callbacks), the
 * earliest timer fires at its exact time. Concurrent tasks thus see the times a real run would,
 * with no real waiting, and the same every run.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;
  private scheduled = false;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const timer = { at: this.t + ms, seq: this.seq++, fire: resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal.reason as Error);
      }, { once: true });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = next.at;
      next.fire();
      if (this.timers.length) this.schedule();
    });
  }
}
