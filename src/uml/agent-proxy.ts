import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PRIVATE_UMASK, withUmask } from '../process/umask.js';

/**
 * Serves a guest agent's serial line (a UML host's fd 3) on a unix socket, one client at a time as
 * QEMU's agent socket does: the next client waits until the current one is gone. What the agent writes
 * while no client is connected is dropped, as QEMU drops it.
 */
export class AgentProxy {
  private current?: Socket;
  private readonly waiting: Socket[] = [];

  private constructor(
    private readonly server: Server,
    private readonly path: string,
    private readonly line: Duplex,
  ) {
    line.on('data', (d: Buffer) => {
      if (this.current?.writable) this.current.write(d);
    });
    line.on('error', () => {});
  }

  static async listen(path: string, line: Duplex): Promise<AgentProxy> {
    await rm(path, { force: true });
    let proxy!: AgentProxy;
    const server = createServer((socket) => proxy.accept(socket));
    proxy = new AgentProxy(server, path, line);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Owner-only, like every session socket: the agent runs anything as the guest's root.
      withUmask(PRIVATE_UMASK, () => server.listen(path, resolve));
    });
    return proxy;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    socket.once('close', () => {
      const i = this.waiting.indexOf(socket);
      if (i >= 0) this.waiting.splice(i, 1);
      if (this.current === socket) this.next();
    });
    if (this.current) this.waiting.push(socket);
    else this.serve(socket);
  }

  private serve(socket: Socket): void {
    this.current = socket;
    socket.on('data', (d: Buffer) => {
      if (this.current === socket && this.line.writable) this.line.write(d);
    });
  }

  private next(): void {
    this.current = undefined;
    const socket = this.waiting.shift();
    if (socket) this.serve(socket);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of [this.current, ...this.waiting]) s?.destroy();
    await closed;
    await rm(this.path, { force: true });
  }
}
