import { randomInt } from 'node:crypto';
import { VmError } from '../errors.js';
import { JsonChannel, type RequestOptions } from './json-channel.js';

const SYNC_SENTINEL = Uint8Array.of(0xff);

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

  /**
   * Connects and synchronises (guest-sync-delimited flushes any stale partial input first). The
   * sync has no timeout of its own: it is answered when the guest has booted, however long that
   * takes, so only `signal` (or the connection closing) ends the wait. A serial line (UML's) drops what
   * is written before the agent opens it, so there the sync is sent again after `syncTimeoutMs`.
   */
  static async connect(socketPath: string, signal?: AbortSignal, syncTimeoutMs = Infinity): Promise<GuestAgent> {
    const channel = await JsonChannel.open(socketPath, 'guest agent', signal);
    const id = randomInt(1, 2 ** 31);
    try {
      // A 0xFF byte first: never valid UTF-8, it resets the agent's JSON parser. (The string "\xff"
      // would be written as C3 BF, a valid "ÿ" that could end up inside a stale partial string.)
      await channel.request({ execute: 'guest-sync-delimited', arguments: { id } }, (m) => m.return === id, { signal, timeoutMs: syncTimeoutMs, prefix: SYNC_SENTINEL });
    } catch (e) {
      channel.close();
      throw e;
    }
    return new GuestAgent(channel);
  }

  /**
   * Commands without an id: the agent answers in order, one at a time. So after a timeout the
   * connection is closed: the late answer would otherwise be taken for the next command's.
   */
  async call<T>(command: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<T> {
    const m = await this.channel.request({ execute: command, ...(args ? { arguments: args } : {}) }, (m) => 'return' in m || 'error' in m, options).catch((e: unknown) => {
      if (e instanceof VmError && e.code === 'REQUEST_TIMEOUT') this.channel.close();
      throw e;
    });
    if (m.error) {
      const err = m.error as { desc?: string; class?: string };
      throw new VmError('AGENT_COMMAND', `guest agent ${command} failed: ${err.desc ?? err.class}`);
    }
    return m.return as T;
  }

  ping(options?: RequestOptions): Promise<unknown> {
    return this.call('guest-ping', undefined, options);
  }

  onClose(listener: () => void): void {
    this.channel.on('close', listener);
  }

  /** Runs a program in the guest and waits for it, polling its status. */
  async exec(path: string, args: readonly string[], options: { input?: string; signal?: AbortSignal; pollMs?: number } = {}): Promise<GuestExecResult> {
    const { pid } = await this.call<{ pid: number }>(
      'guest-exec',
      { path, arg: args, 'capture-output': true, ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}) },
      { signal: options.signal },
    );
    for (let delay = 20; ; delay = Math.min(delay * 2, options.pollMs ?? 200)) {
      const s = await this.call<{ exited: boolean; exitcode?: number; signal?: number; 'out-data'?: string; 'err-data'?: string }>('guest-exec-status', { pid }, { signal: options.signal });
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
