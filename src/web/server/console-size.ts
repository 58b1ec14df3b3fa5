export interface TerminalSize {
  cols: number;
  rows: number;
}

/**
 * Passes each host's wanted terminal size on to its guest, one request at a time per host: sizes
 * asked for while one is being applied collapse into the last one, and a guest that cannot be
 * asked yet (still booting: no agent) is asked again every `retryMs`, up to `tries` times.
 */
export class ConsoleSizer {
  private readonly wanted = new Map<string, TerminalSize>();
  private readonly running = new Set<string>();
  private closed = false;

  constructor(
    private readonly apply: (host: string, size: TerminalSize) => Promise<void>,
    private readonly retryMs = 2000,
    private readonly tries = 60,
  ) {}

  request(host: string, size: TerminalSize): void {
    this.wanted.set(host, { ...size });
    if (!this.running.has(host)) void this.run(host);
  }

  close(): void {
    this.closed = true;
    this.wanted.clear();
  }

  private async run(host: string): Promise<void> {
    this.running.add(host);
    let failures = 0;
    try {
      for (;;) {
        const size = this.wanted.get(host);
        if (!size || this.closed) return;
        try {
          await this.apply(host, size);
          failures = 0;
          if (this.wanted.get(host) === size) this.wanted.delete(host);
        } catch {
          if (++failures >= this.tries) {
            if (this.wanted.get(host) === size) this.wanted.delete(host);
            failures = 0;
          } else if (this.wanted.get(host) === size) await new Promise((r) => setTimeout(r, this.retryMs).unref());
        }
      }
    } finally {
      this.running.delete(host);
    }
  }
}
