import type { WebSocket } from 'ws';

/**
 * Stops reading a source while a websocket has more than `high` bytes unsent (a slow browser or
 * link), and starts again once it is below `low`. ws has no drain event, so the buffer is looked
 * at every 20 ms while paused, and not at all otherwise.
 */
export class WsBackpressure {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly high = 512 * 1024,
    private readonly low = 64 * 1024,
  ) {}

  get paused(): boolean {
    return this.timer !== undefined;
  }

  /** Call after each send. */
  check(): void {
    if (this.timer || this.ws.bufferedAmount <= this.high) return;
    this.pause();
    this.timer = setInterval(() => {
      if (this.ws.bufferedAmount > this.low) return;
      this.dispose();
      this.resume();
    }, 20);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
