import { lstat, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';
import { PRIVATE_UMASK, withUmask } from '../process/umask.js';

export interface ConsoleHubOptions {
  /** Bytes of recent VM output a newly attached client receives first. Default 64 KiB. */
  scrollbackBytes?: number;
}

/** A client that has not read this much of what we sent is dropped rather than buffered forever. */
const MAX_CLIENT_BACKLOG = 1024 * 1024;

/**
 * Re-serves one VM serial console (whose QEMU socket accepts a single client) to any number of
 * clients on its own unix socket: VM output goes to all of them, anything typed goes to the VM.
 */
export class ConsoleHub {
  private readonly clients = new Set<Socket>();
  private readonly scrollback: ScrollbackRing;
  private closing?: Promise<void>;

  private constructor(
    private readonly server: Server,
    private readonly socketPath: string,
    private readonly toVm: (data: Buffer) => void,
    scrollbackBytes: number,
  ) {
    this.scrollback = new ScrollbackRing(scrollbackBytes);
    server.on('connection', (client) => this.onClient(client));
    server.on('error', () => {}); // after listen, only accept() errors (EMFILE...) land here
  }

  static async listen(socketPath: string, toVm: (data: Buffer) => void, options: ConsoleHubOptions = {}): Promise<ConsoleHub> {
    await removeStaleSocket(socketPath);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? pathTaken(socketPath, 'another console is already served there')
            : new QemunetError('CONSOLE_LISTEN', `cannot serve the console on ${socketPath}: ${e.message}`, { cause: e }),
        ),
      );
      // The console is a shell on the VM: only its owner may attach, from the moment it exists.
      withUmask(PRIVATE_UMASK, () => server.listen(socketPath, () => resolve()));
    });
    server.removeAllListeners('error');
    return new ConsoleHub(server, socketPath, toVm, options.scrollbackBytes ?? 64 * 1024);
  }

  push(data: Buffer): void {
    if (this.closing || data.length === 0) return;
    this.scrollback.append(data);
    for (const client of this.clients) this.send(client, data);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const client of this.clients) client.destroy();
      this.clients.clear();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      // libuv unlinks the socket on close; this covers the case where it could not.
      await rm(this.socketPath, { force: true });
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private onClient(client: Socket): void {
    if (this.closing) return void client.destroy();
    client.on('error', () => {}); // a client vanishing is normal; 'close' does the cleanup
    client.on('close', () => this.clients.delete(client));
    client.on('data', (data: Buffer) => this.toVm(data));
    this.clients.add(client);
    const recent = this.scrollback.contents();
    if (recent.length > 0) this.send(client, recent);
  }

  private send(client: Socket, data: Buffer): void {
    if (client.writableLength > MAX_CLIENT_BACKLOG) {
      this.clients.delete(client);
      client.destroy();
      return;
    }
    client.write(data);
  }
}

/** Keeps exactly the last `capacity` bytes appended, as a list of chunks. */
class ScrollbackRing {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacity: number) {}

  append(data: Buffer): void {
    if (this.capacity <= 0) return;
    // Copy: the caller may reuse its buffer.
    const chunk = Buffer.from(data.length > this.capacity ? data.subarray(data.length - this.capacity) : data);
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.capacity) this.size -= this.chunks.shift()!.length;
    if (this.size > this.capacity) {
      this.chunks[0] = this.chunks[0]!.subarray(this.size - this.capacity);
      this.size = this.capacity;
    }
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/**
 * A socket file left by a supervisor that died is removed. One that something still listens on is
 * not: unlinking it would silently cut that process's clients off from the console.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socketPath)).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!isSocket) throw pathTaken(socketPath, 'it is not a socket');
  if (await isListening(socketPath)) throw pathTaken(socketPath, 'another console is already served there');
  await rm(socketPath, { force: true });
}

function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function pathTaken(socketPath: string, why: string): QemunetError {
  return new QemunetError('CONSOLE_PATH_TAKEN', `cannot serve the console on ${socketPath}: ${why}`);
}
