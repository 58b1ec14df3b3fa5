import { randomBytes } from 'node:crypto';
import { lstat, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';
import { isListening } from '../process/listening.js';
import { PRIVATE_UMASK, withUmask } from '../process/umask.js';
import { formatHeader, parseRequest, resumePoint, takeLine } from './cursor.js';

export interface ConsoleHubOptions {
  /** Bytes of recent VM output kept for clients that attach or resume later. Default 256 KiB. */
  scrollbackBytes?: number;
  /** A second socket speaking the resume protocol (see cursor.ts), for clients that reconnect by offset. */
  resumeSocketPath?: string;
}

/** A client that has not read this much of what we sent is dropped rather than buffered forever. */
const MAX_CLIENT_BACKLOG = 1024 * 1024;

/**
 * Re-serves one VM serial console (whose QEMU socket accepts a single client) to any number of
 * clients on its own unix socket: VM output goes to all of them, anything typed goes to the VM.
 * Each byte the VM prints has an offset (bytes since this VM start, named by `epoch`), so a client
 * of the resume socket can come back and get exactly what it missed while the ring still holds it.
 */
export class ConsoleHub {
  private readonly clients = new Set<Socket>();
  private readonly scrollback: ScrollbackRing;
  /** Names this VM start: a restarted VM gets a new hub, so a new epoch. */
  readonly epoch = randomBytes(6).toString('hex');
  private closing?: Promise<void>;

  private constructor(
    private readonly servers: Server[],
    private readonly socketPaths: string[],
    private readonly toVm: (data: Buffer) => void,
    scrollbackBytes: number,
  ) {
    this.scrollback = new ScrollbackRing(scrollbackBytes);
    servers[0]!.on('connection', (client) => this.onClient(client));
    servers[1]?.on('connection', (client) => this.onResumeClient(client));
    for (const s of servers) s.on('error', () => {}); // after listen, only accept() errors (EMFILE...) land here
  }

  static async listen(socketPath: string, toVm: (data: Buffer) => void, options: ConsoleHubOptions = {}): Promise<ConsoleHub> {
    const paths = [socketPath, ...(options.resumeSocketPath ? [options.resumeSocketPath] : [])];
    const servers: Server[] = [];
    try {
      for (const path of paths) servers.push(await listenOn(path));
    } catch (e) {
      for (const s of servers) s.close();
      throw e;
    }
    return new ConsoleHub(servers, paths, toVm, options.scrollbackBytes ?? 256 * 1024);
  }

  push(data: Buffer): void {
    if (this.closing || data.length === 0) return;
    this.scrollback.append(data);
    for (const client of this.clients) this.send(client, data);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Bytes the VM printed since it started: the offset of the next byte. */
  get offset(): number {
    return this.scrollback.end;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const client of this.clients) client.destroy();
      this.clients.clear();
      await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      // libuv unlinks the socket on close; this covers the case where it could not.
      await Promise.all(this.socketPaths.map((p) => rm(p, { force: true })));
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private onClient(client: Socket): void {
    if (this.closing) return void client.destroy();
    this.join(client);
    client.on('data', (data: Buffer) => this.toVm(data));
    const recent = this.scrollback.since(this.scrollback.start);
    if (recent.length > 0) this.send(client, recent);
  }

  /** A resume client says where it is before it gets anything. */
  private onResumeClient(client: Socket): void {
    if (this.closing) return void client.destroy();
    client.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onHeader = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      let got;
      try {
        got = takeLine(buffered);
        if (!got) return;
        const point = resumePoint(this.epoch, this.scrollback.start, this.scrollback.end, parseRequest(got.line));
        client.off('data', onHeader);
        if (this.closing) return void client.destroy();
        this.join(client);
        client.on('data', (data: Buffer) => this.toVm(data));
        client.write(formatHeader(this.epoch, point));
        const missed = this.scrollback.since(point.from);
        if (missed.length > 0) this.send(client, missed);
        if (got.rest.length > 0) this.toVm(got.rest);
      } catch {
        client.destroy();
      }
    };
    client.on('data', onHeader);
  }

  private join(client: Socket): void {
    client.on('error', () => {}); // a client vanishing is normal; 'close' does the cleanup
    client.on('close', () => this.clients.delete(client));
    this.clients.add(client);
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

/** Keeps exactly the last `capacity` bytes appended, as a list of chunks, and the offsets they are at. */
export class ScrollbackRing {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Offset just past the last byte appended. */
  end = 0;

  constructor(private readonly capacity: number) {}

  /** Offset of the oldest byte still held. */
  get start(): number {
    return this.end - this.size;
  }

  append(data: Buffer): void {
    this.end += data.length;
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

  /** The bytes held from `offset` (clamped to what is held) to the end. */
  since(offset: number): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    return all.subarray(Math.min(this.size, Math.max(0, offset - this.start)));
  }
}

async function listenOn(socketPath: string): Promise<Server> {
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
  return server;
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

function pathTaken(socketPath: string, why: string): QemunetError {
  return new QemunetError('CONSOLE_PATH_TAKEN', `cannot serve the console on ${socketPath}: ${why}`);
}
