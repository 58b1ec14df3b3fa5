import { randomInt } from 'node:crypto';
import { VmError } from '../errors.js';
import { JsonChannel } from './json-channel.js';

export interface GuestExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  signal?: number;
}

/**
 * Client of the QEMU guest agent on its virtio-serial port. The agent may not be running yet:
 * what the host writes waits in the port until the guest opens it, so a sync sent early is
 * answered as soon as the agent starts, which is how qemunet knows a guest is ready.
 */
export class GuestAgent {
  private constructor(private readonly channel: JsonChannel) {}

  /** Connects and synchronises (guest-sync-delimited flushes any stale partial input first). */
  static async connect(socketPath: string, signal?: AbortSignal): Promise<GuestAgent> {
    const channel = await JsonChannel.open(socketPath, 'guest agent', signal);
    const id = randomInt(1, 2 ** 31);
    try {
      const reply = channel.waitFor((m) => m.return === id, signal);
      channel.send({ execute: 'guest-sync-delimited', arguments: { id } }, '\xff');
      await reply;
    } catch (e) {
      channel.close();
      throw e;
    }
    return new GuestAgent(channel);
  }

  /** Commands without an id: the agent answers in order, one at a time. */
  async call<T>(command: string, args?: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const reply = this.channel.waitFor((m) => 'return' in m || 'error' in m, signal);
    this.channel.send({ execute: command, ...(args ? { arguments: args } : {}) });
    const m = await reply;
    if (m.error) {
      const err = m.error as { desc?: string; class?: string };
      throw new VmError('AGENT_COMMAND', `guest agent ${command} failed: ${err.desc ?? err.class}`);
    }
    return m.return as T;
  }

  ping(signal?: AbortSignal): Promise<unknown> {
    return this.call('guest-ping', undefined, signal);
  }

  /** Runs a program in the guest and waits for it, polling its status. */
  async exec(path: string, args: readonly string[], options: { input?: string; signal?: AbortSignal; pollMs?: number } = {}): Promise<GuestExecResult> {
    const { pid } = await this.call<{ pid: number }>(
      'guest-exec',
      { path, arg: args, 'capture-output': true, ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}) },
      options.signal,
    );
    for (let delay = 20; ; delay = Math.min(delay * 2, options.pollMs ?? 200)) {
      const s = await this.call<{ exited: boolean; exitcode?: number; signal?: number; 'out-data'?: string; 'err-data'?: string }>('guest-exec-status', { pid }, options.signal);
      if (s.exited) {
        return {
          exitCode: s.exitcode ?? (s.signal !== undefined ? 128 + s.signal : 1),
          stdout: Buffer.from(s['out-data'] ?? '', 'base64'),
          stderr: Buffer.from(s['err-data'] ?? '', 'base64'),
          ...(s.signal !== undefined ? { signal: s.signal } : {}),
        };
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  close(): void {
    this.channel.close();
  }
}
