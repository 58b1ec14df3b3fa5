/** How long a booting guest may stay silent, and how long it may take to be ready, before it counts as stalled. */
export interface BootLimits {
  /** Nothing at all on the console this long after the guest's CPUs started. */
  silentMs: number;
  /** Not ready this long after the guest's CPUs started. */
  notReadyMs: number;
}

/** Generous enough for a loaded machine without KVM: tiny prints within 2 s and is ready within 5 s. */
export const DEFAULT_BOOT_LIMITS: BootLimits = { silentMs: 30_000, notReadyMs: 180_000 };

export type StallKind = 'silent' | 'not-ready';

/**
 * Watches booting guests: one watch per guest from the moment its CPUs start until it is ready or
 * gone. Calls `onStall` once per limit crossed; output on the console disarms the silence limit.
 * While `crowded()` says more guests boot than the CPUs were meant to carry (a boot slot's time ran
 * out), a limit that is reached starts over instead: a guest slowed down by 99 others is not stalled.
 */
export class BootWatchdog {
  private readonly watches = new Map<string, { printed: boolean; timers: NodeJS.Timeout[] }>();

  constructor(
    private readonly limits: BootLimits,
    private readonly onStall: (host: string, kind: StallKind) => void,
    private readonly crowded: () => boolean = () => false,
  ) {}

  start(host: string): void {
    this.done(host);
    const watch = { printed: false, timers: [] as NodeJS.Timeout[] };
    const after = (ms: number, fire: () => void) => {
      const t = setTimeout(() => (this.crowded() ? after(ms, fire) : fire()), ms);
      t.unref();
      watch.timers.push(t);
    };
    after(this.limits.silentMs, () => watch.printed || this.onStall(host, 'silent'));
    after(this.limits.notReadyMs, () => this.onStall(host, 'not-ready'));
    this.watches.set(host, watch);
  }

  /** The guest wrote to its console. */
  printed(host: string): void {
    const watch = this.watches.get(host);
    if (watch) watch.printed = true;
  }

  /** Ready, gone, or restarted: its watch ends. */
  done(host: string): void {
    this.watches.get(host)?.timers.forEach(clearTimeout);
    this.watches.delete(host);
  }

  stopAll(): void {
    [...this.watches.keys()].forEach((h) => this.done(h));
  }
}

/** What `status` says of a stalled host, with a hint when KVM may be the cause. */
export function stallDetail(kind: StallKind, limits: BootLimits, accel: string): string {
  const what = kind === 'silent' ? `printed nothing on its console for ${limits.silentMs / 1000} s` : `not ready after ${limits.notReadyMs / 1000} s`;
  const hint = accel === 'kvm' ? '; it runs under KVM, which may hang guests on this machine: try -K (TCG)' : '';
  return `${what}${hint}`;
}
