import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { attachConsole, DETACH_KEY } from '../../src/console/attach.js';
import { ConsoleHub } from '../../src/console/console-hub.js';

let dir: string;
let n = 0;
const socketPath = () => join(dir, `h${++n}.console`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qemunet-console-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rejects, naming what it waited for, if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls a condition the code under test exposes no event for (the hub's client count). */
function until(condition: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => (condition() ? resolve() : setTimeout(check, 2));
      check();
    }),
    what,
  );
}

/** Accumulates everything a stream emits, and waits for a given total. */
class Collector {
  data = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  constructor(stream?: NodeJS.ReadableStream) {
    stream?.on('data', (d: Buffer) => this.add(d));
  }
  add(d: Buffer): void {
    this.data = Buffer.concat([this.data, d]);
    for (const w of this.waiters) w();
  }
  get text(): string {
    return this.data.toString();
  }
  /** Resolves once at least `length` bytes arrived. */
  waitFor(length: number): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = () => this.data.length >= length && resolve();
        this.waiters.push(check);
        check();
      }),
      `${length} bytes (have ${this.data.length})`,
    );
  }
}

async function client(path: string): Promise<{ socket: Socket; received: Collector }> {
  const socket = connect(path);
  socket.on('error', () => {});
  const received = new Collector(socket);
  await within(once(socket, 'connect'), 'the client to connect');
  return { socket, received };
}

async function hubWithVm(path = socketPath(), scrollbackBytes?: number): Promise<{ hub: ConsoleHub; vm: Collector; path: string }> {
  const vm = new Collector();
  const hub = await ConsoleHub.listen(path, (d) => vm.add(d), { scrollbackBytes });
  return { hub, vm, path };
}

describe('console hub', () => {
  it('sends VM output to every client and every client input to the VM', async () => {
    const { hub, path, vm } = await hubWithVm();
    await using _ = hub;
    const a = await client(path);
    const b = await client(path);
    await until(() => hub.clientCount === 2, 'two clients');
    hub.push(Buffer.from('login: '));
    await Promise.all([a.received.waitFor(7), b.received.waitFor(7)]);
    assert.equal(a.received.text, 'login: ');
    assert.equal(b.received.text, 'login: ');
    a.socket.write('root\n');
    await vm.waitFor(5);
    b.socket.write('ls\n');
    await vm.waitFor(8);
    assert.equal(vm.text, 'root\nls\n');
  });

  it('gives a late client the scrollback first, then live output', async () => {
    const { hub, path } = await hubWithVm();
    await using _ = hub;
    hub.push(Buffer.from('boot\n'));
    hub.push(Buffer.from('login: '));
    const late = await client(path);
    await late.received.waitFor(12);
    hub.push(Buffer.from('root'));
    await late.received.waitFor(16);
    assert.equal(late.received.text, 'boot\nlogin: root');
  });

  it('keeps exactly the last scrollbackBytes bytes', async () => {
    const { hub, path } = await hubWithVm(undefined, 10);
    await using _ = hub;
    for (const chunk of ['0123', '456789ab', 'cdefghijklmnop', 'q', 'rs']) hub.push(Buffer.from(chunk));
    const late = await client(path);
    await late.received.waitFor(10);
    hub.push(Buffer.from('!'));
    await late.received.waitFor(11);
    // The live byte following directly shows nothing beyond the 10 bytes was sent.
    assert.equal(late.received.text, 'jklmnopqrs!');
  });

  it('keeps serving the others when a client disconnects abruptly', async () => {
    const { hub, path, vm } = await hubWithVm();
    await using _ = hub;
    const gone = await client(path);
    const stays = await client(path);
    await until(() => hub.clientCount === 2, 'two clients');
    gone.socket.destroy();
    // Written before the hub sees the close, so its write to the dead peer fails (EPIPE).
    hub.push(Buffer.from('still '));
    await until(() => hub.clientCount === 1, 'the gone client to be dropped');
    hub.push(Buffer.from('here'));
    await stays.received.waitFor(10);
    assert.equal(stays.received.text, 'still here');
    stays.socket.write('y');
    await vm.waitFor(1);
    assert.equal(vm.text, 'y');
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    const { hub, path } = await hubWithVm(undefined, 0);
    await using _ = hub;
    const stuck = await client(path);
    stuck.socket.pause();
    const reader = await client(path);
    await until(() => hub.clientCount === 2, 'two clients');
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let pushed = 0;
    while (hub.clientCount === 2) {
      assert.ok(pushed < 64 * 1024 * 1024, 'the stuck client was never dropped');
      hub.push(chunk);
      pushed += chunk.length;
      await reader.received.waitFor(pushed);
    }
    hub.push(Buffer.from('B'));
    await reader.received.waitFor(pushed + 1);
    assert.equal(reader.received.data.length, pushed + 1);
    assert.equal(reader.received.data.at(-1), 0x42);
  });

  it('removes its socket file on close, and close is idempotent', async () => {
    const path = socketPath();
    const { hub } = await hubWithVm(path);
    assert.equal((await lstat(path)).isSocket(), true);
    assert.equal((await lstat(path)).mode & 0o777, 0o700, 'owner-only from the bind on (umask), not chmod-ed after');
    await Promise.all([hub.close(), hub.close()]);
    await hub.close();
    assert.equal(existsSync(path), false);
  });

  it('replaces a stale socket file left by a dead process', async () => {
    const path = socketPath();
    // process.exit() skips closing the server, so the socket file stays with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    await within(once(child, 'exit'), 'the child to exit');
    assert.equal((await lstat(path)).isSocket(), true);
    const { hub } = await hubWithVm(path);
    await using _ = hub;
    hub.push(Buffer.from('ok'));
    const c = await client(path);
    await c.received.waitFor(2);
    assert.equal(c.received.text, 'ok');
  });

  it('refuses a path holding a regular file, and leaves the file alone', async () => {
    const path = socketPath();
    await writeFile(path, 'precious');
    await assert.rejects(ConsoleHub.listen(path, () => {}), {
      name: 'QemunetError',
      code: 'CONSOLE_PATH_TAKEN',
      message: `cannot serve the console on ${path}: it is not a socket`,
    });
    assert.equal((await lstat(path)).isFile(), true);
  });

  it('refuses a socket another hub still serves', async () => {
    const path = socketPath();
    const { hub } = await hubWithVm(path);
    await using _ = hub;
    await assert.rejects(ConsoleHub.listen(path, () => {}), {
      code: 'CONSOLE_PATH_TAKEN',
      message: `cannot serve the console on ${path}: another console is already served there`,
    });
  });
});

describe('console attach', () => {
  function fakeTerminal(tty = false) {
    const rawModes: boolean[] = [];
    const input = Object.assign(new PassThrough(), tty ? { isTTY: true, setRawMode: (raw: boolean) => rawModes.push(raw) } : {});
    const output = new PassThrough();
    return { io: { input, output }, screen: new Collector(output), rawModes };
  }

  it('pipes both ways, and Ctrl-] detaches after sending the bytes typed before it', async () => {
    const { hub, path, vm } = await hubWithVm();
    await using _ = hub;
    hub.push(Buffer.from('login: '));
    const { io, screen, rawModes } = fakeTerminal(true);
    const attached = attachConsole(path, io);
    await screen.waitFor(7);
    io.input.write('root\n');
    await vm.waitFor(5);
    hub.push(Buffer.from('# '));
    await screen.waitFor(9);
    io.input.write(Buffer.from([0x6c, 0x73, DETACH_KEY, 0x78]));
    assert.equal(await within(attached, 'detach'), 'detached');
    await until(() => hub.clientCount === 0, 'the client to leave');
    assert.equal(vm.text, 'root\nls');
    assert.equal(screen.text, 'login: # ');
    assert.deepEqual(rawModes, [true, false]);
    assert.equal(io.input.isPaused(), true);
  });

  it("returns 'closed' when the hub closes", async () => {
    const { hub, path } = await hubWithVm();
    const { io } = fakeTerminal();
    const attached = attachConsole(path, io);
    await until(() => hub.clientCount === 1, 'the client to attach');
    await hub.close();
    assert.equal(await within(attached, 'close'), 'closed');
    assert.equal(io.input.isPaused(), true);
  });

  it("returns 'detached' when the signal aborts", async () => {
    const { hub, path } = await hubWithVm();
    await using _ = hub;
    const { io, rawModes } = fakeTerminal(true);
    const abort = new AbortController();
    const attached = attachConsole(path, io, abort.signal);
    await until(() => hub.clientCount === 1, 'the client to attach');
    abort.abort();
    assert.equal(await within(attached, 'detach'), 'detached');
    assert.deepEqual(rawModes, [true, false]);
  });

  it('says the host is not running when nothing serves the socket', async () => {
    const path = join(dir, 'absent.console');
    const { io, rawModes } = fakeTerminal(true);
    await assert.rejects(attachConsole(path, io), {
      name: 'QemunetError',
      code: 'CONSOLE_UNAVAILABLE',
      message: `the console socket ${path} is not served: the host is not running`,
    });
    assert.deepEqual(rawModes, []);
  });
});
