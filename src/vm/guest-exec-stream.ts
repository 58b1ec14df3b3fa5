import { randomBytes } from 'node:crypto';
import type { GuestAgent } from './guest-agent.js';

export interface StreamedExec {
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
  signal?: AbortSignal;
}

interface ExecStatus {
  exited: boolean;
  exitcode?: number;
  signal?: number;
}

/**
 * Runs a program in the guest and hands its output over while it runs. The agent returns captured
 * output only once a command has ended, so the command writes to two files under /run/qemunet
 * instead, and the host reads them as they grow with guest-file-read.
 */
export async function execStreaming(agent: GuestAgent, path: string, args: readonly string[], io: StreamedExec): Promise<number> {
  const base = `/run/qemunet/exec-${randomBytes(6).toString('hex')}`;
  const script = `exec "$0" "$@" >${base}.out 2>${base}.err`;
  const { pid } = await agent.call<{ pid: number }>('guest-exec', { path: '/bin/sh', arg: ['-c', script, path, ...args] }, { signal: io.signal });
  const out = new GuestFileTail(agent, `${base}.out`, io.onStdout);
  const err = new GuestFileTail(agent, `${base}.err`, io.onStderr);
  try {
    for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
      const status = await agent.call<ExecStatus>('guest-exec-status', { pid }, { signal: io.signal });
      await out.drain(io.signal);
      await err.drain(io.signal);
      if (status.exited) return status.exitcode ?? (status.signal !== undefined ? 128 + status.signal : 1);
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    await Promise.all([out.close(), err.close()]);
    await agent.call('guest-exec', { path: '/bin/rm', arg: ['-f', `${base}.out`, `${base}.err`] }).catch(() => {});
  }
}

/** Reads a guest file from where it was last read up to its current end. */
class GuestFileTail {
  private handle?: number;

  constructor(
    private readonly agent: GuestAgent,
    private readonly path: string,
    private readonly sink: (data: Buffer) => void,
  ) {}

  async drain(signal?: AbortSignal): Promise<void> {
    // The shell creates the file a moment after the command starts.
    this.handle ??= await this.agent.call<number>('guest-file-open', { path: this.path, mode: 'r' }, { signal }).catch(() => undefined);
    if (this.handle === undefined) return;
    for (;;) {
      const r = await this.agent.call<{ count: number; 'buf-b64': string; eof: boolean }>('guest-file-read', { handle: this.handle, count: 65536 }, { signal });
      if (r.count) this.sink(Buffer.from(r['buf-b64'], 'base64'));
      if (r.eof || !r.count) break;
    }
    // glibc keeps end-of-file sticky; seeking clears it so the next read sees what was written since.
    await this.agent.call('guest-file-seek', { handle: this.handle, offset: 0, whence: 'cur' }, { signal });
  }

  async close(): Promise<void> {
    if (this.handle !== undefined) await this.agent.call('guest-file-close', { handle: this.handle }).catch(() => {});
  }
}
