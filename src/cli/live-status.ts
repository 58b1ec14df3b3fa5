import type { SessionState } from '../api/index.js';
import { hostChangeLine, renderStatus } from './status-view.js';
import { fitToWidth } from './terminal-width.js';

/**
 * Shows a session as it changes: on a terminal, a table redrawn in place; elsewhere, one line per
 * host state change.
 */
export class LiveStatus {
  private drawnLines = 0;
  private last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private latest?: SessionState;
  private paused = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(state: SessionState): void {
    this.latest = state;
    if (!this.out.isTTY) {
      for (const h of state.hosts) {
        const line = hostChangeLine(h);
        if (this.last.get(h.name) !== line) this.out.write(`${line}\n`);
        this.last.set(h.name, line);
      }
      return;
    }
    // Redraw at most every 100 ms: a burst of changes becomes one frame.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  /** Leaves the screen to something else (an attached console); `resume` draws afresh below. */
  pause(): void {
    this.paused = true;
    this.drawnLines = 0;
  }

  resume(): void {
    this.paused = false;
    this.draw();
  }

  /** Prints a message above the table. */
  note(message: string): void {
    if (this.out.isTTY && this.drawnLines) this.out.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
    this.out.write(`${message}\n`);
    if (this.out.isTTY && this.latest && !this.paused) this.draw();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.out.isTTY && !this.paused) this.draw();
  }

  private draw(): void {
    if (this.paused || !this.latest) return;
    // Cut to the width: the cursor goes back up one row per line, so no line may wrap.
    const lines = fitToWidth(`${renderStatus(this.latest)}\nCtrl-C stops the session.`, this.out.columns);
    const clear = this.drawnLines ? `\x1b[${this.drawnLines}A\x1b[J` : '';
    this.out.write(`${clear}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}
