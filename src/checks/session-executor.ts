import type { CheckExecutor } from './run.js';

/** What the executor needs of a session client: `SessionClient.exec`'s shape (api/session-client.ts), not the class, so checks/ stays below api/. */
export interface ExecClient {
  exec(host: string, argv: readonly string[], io: { onStdout(d: Buffer): void; onStderr(d: Buffer): void; timeoutMs?: number }): Promise<number>;
}

/** Output kept of each stream: the end of it (where the answer usually is), so a `cat` of a big file cannot fill memory. */
export const MAX_STREAM_BYTES = 64 * 1024;

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  add(d: Buffer): void {
    this.chunks.push(d);
    this.size += d.length;
    while (this.size - this.chunks[0]!.length >= MAX_STREAM_BYTES) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - MAX_STREAM_BYTES)).toString('utf8');
  }
}

/** The runner's executor over a running session's guest agents. */
export function sessionExecutor(client: ExecClient): CheckExecutor {
  return {
    async exec(host, argv, timeoutMs, signal) {
      signal?.throwIfAborted();
      const stdout = new Tail();
      const stderr = new Tail();
      const status = await client.exec(host, argv, { onStdout: (d) => stdout.add(d), onStderr: (d) => stderr.add(d), timeoutMs });
      return { status, stdout: stdout.text(), stderr: stderr.text() };
    },
  };
}
