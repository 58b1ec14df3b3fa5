import { VmError } from '../errors.js';
import { JsonChannel, type RequestOptions } from './json-channel.js';

/** QMP: greeting, then qmp_capabilities, then commands matched by id. */
export class QmpClient {
  private nextId = 1;
  private constructor(private readonly channel: JsonChannel) {}

  static async connect(socketPath: string, signal?: AbortSignal): Promise<QmpClient> {
    const channel = await JsonChannel.open(socketPath, 'QMP', signal);
    // QEMU serves one QMP client at a time: a connection left open after a failed handshake would shut out the retry.
    try {
      await channel.waitFor((m) => 'QMP' in m, { signal });
      const client = new QmpClient(channel);
      await client.execute('qmp_capabilities', undefined, { signal });
      return client;
    } catch (e) {
      channel.close();
      throw e;
    }
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<T> {
    const id = `q${this.nextId++}`;
    const m = await this.channel.request({ execute: command, ...(args ? { arguments: args } : {}), id }, (m) => m.id === id, options);
    if (m.error) {
      const err = m.error as { class?: string; desc?: string };
      throw new VmError('QMP_COMMAND', `QMP ${command} failed: ${err.desc ?? err.class}`);
    }
    return m.return as T;
  }

  onEvent(listener: (event: string, data: unknown) => void): void {
    this.channel.on('message', (m: Record<string, unknown>) => {
      if (typeof m.event === 'string') listener(m.event, m.data);
    });
  }

  onClose(listener: () => void): void {
    this.channel.on('close', listener);
  }

  close(): void {
    this.channel.close();
  }
}
