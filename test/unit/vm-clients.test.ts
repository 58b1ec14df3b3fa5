import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GuestAgent } from '../../src/vm/guest-agent.js';
import { QmpClient } from '../../src/vm/qmp.js';

type Message = Record<string, unknown>;

let dir: string;
let n = 0;
const servers: Server[] = [];
const connections: Socket[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qemunet-vm-clients-'));
});
after(async () => {
  for (const c of connections) c.destroy();
  for (const s of servers) s.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A unix-socket server standing in for QEMU's QMP or guest agent socket. `answer` gets each JSON
 * request; the message it returns (if any) is written back as one line, a Buffer as it is. Bytes before the first "{"
 * of a line are dropped: the agent client sends a sentinel before its sync request.
 */
async function fakeQemu(answer: (request: Message, socket: Socket) => Message | Buffer | undefined, greeting?: Message): Promise<{ path: string; connection: Promise<Socket> }> {
  const path = join(dir, `vm${++n}.sock`);
  let connected!: (s: Socket) => void;
  const connection = new Promise<Socket>((r) => (connected = r));
  const server = createServer((socket) => {
    connected(socket);
    connections.push(socket);
    socket.on('error', () => {});
    if (greeting) socket.write(`${JSON.stringify(greeting)}\n`);
    let buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      for (let nl; (nl = buffer.indexOf(0x0a)) >= 0; buffer = buffer.subarray(nl + 1)) {
        const line = buffer.subarray(0, nl);
        const reply = answer(JSON.parse(line.subarray(line.indexOf(0x7b)).toString()) as Message, socket);
        if (reply) socket.write(Buffer.isBuffer(reply) ? reply : `${JSON.stringify(reply)}\n`);
      }
    });
  });
  servers.push(server);
  server.listen(path);
  await once(server, 'listening');
  return { path, connection };
}

const QMP_GREETING = { QMP: { version: { qemu: { major: 8, minor: 2, micro: 2 } }, capabilities: [] } };

/** A QMP server that answers qmp_capabilities, and the other commands only if `answers` has them. */
function fakeQmp(answers: Record<string, unknown> = {}) {
  return fakeQemu((r) => (r.execute === 'qmp_capabilities' ? { return: {}, id: r.id } : r.execute as string in answers ? { return: answers[r.execute as string], id: r.id } : undefined), QMP_GREETING);
}

/** A guest agent that answers the sync (after a 0xFF byte, as qemu-ga does), and the other commands only if `answers` has them. */
function fakeAgent(answers: Record<string, unknown> = {}) {
  return fakeQemu((r) =>
    r.execute === 'guest-sync-delimited'
      ? Buffer.concat([Buffer.from([0xff]), Buffer.from(`${JSON.stringify({ return: (r.arguments as { id: number }).id })}\n`)])
      : r.execute as string in answers
        ? { return: answers[r.execute as string] }
        : undefined,
  );
}

/** Runs `body` and returns the reasons of the unhandled rejections seen meanwhile (they are reported once the microtasks have run). */
async function unhandledRejectionsDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await sleep(20);
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe('QmpClient', () => {
  it('rejects a command on a connection QEMU has closed, leaving no unhandled rejection', async () => {
    const { path, connection } = await fakeQmp();
    const qmp = await QmpClient.connect(path);
    const closed = new Promise<void>((r) => qmp.onClose(r));
    (await connection).destroy();
    await closed;
    const unhandled = await unhandledRejectionsDuring(async () => {
      await assert.rejects(qmp.execute('system_powerdown'), { name: 'VmError', code: 'SOCKET_CLOSED', message: 'the QMP connection closed before it answered "system_powerdown"' });
    });
    assert.deepEqual(unhandled, []);
  });

  it('rejects a command that QEMU leaves unanswered when the connection closes', async () => {
    const { path, connection } = await fakeQmp();
    const qmp = await QmpClient.connect(path);
    const reply = qmp.execute('query-status');
    (await connection).destroy();
    await assert.rejects(reply, { name: 'VmError', code: 'SOCKET_CLOSED', message: 'the QMP connection closed before it answered "query-status"' });
  });

  it('gives up on a command at its timeout, and the connection still serves the next one', async () => {
    const { path } = await fakeQmp({ 'query-name': { name: 'syl' } });
    const qmp = await QmpClient.connect(path);
    await assert.rejects(qmp.execute('query-status', undefined, { timeoutMs: 50 }), { name: 'VmError', code: 'REQUEST_TIMEOUT', message: 'the QMP connection did not answer "query-status" within 0.05 s' });
    assert.deepEqual(await qmp.execute('query-name'), { name: 'syl' });
    qmp.close();
  });
});

describe('JSON channel lines', () => {
  it('reads text with "ÿ" and U+FFFD unchanged, and drops the 0xFF byte before the sync answer', async () => {
    const { path } = await fakeAgent({ 'guest-get-host-name': { 'host-name': 'ÿ\uFFFDé' } });
    const agent = await GuestAgent.connect(path);
    assert.deepEqual(await agent.call('guest-get-host-name'), { 'host-name': 'ÿ\uFFFDé' });
    agent.close();
  });

  it('closes the connection on a line longer than 16 MiB, rejecting the pending command with LINE_TOO_LONG', async () => {
    const { path } = await fakeQemu((r) => (r.execute === 'qmp_capabilities' ? { return: {}, id: r.id } : Buffer.alloc(16 * 1024 * 1024 + 1, 0x20)), QMP_GREETING);
    const qmp = await QmpClient.connect(path);
    const closed = new Promise<void>((r) => qmp.onClose(r));
    await assert.rejects(qmp.execute('query-status'), { name: 'QemunetError', code: 'LINE_TOO_LONG', message: 'the QMP connection sent a line longer than 16 MiB' });
    await closed;
  });
});

describe('GuestAgent', () => {
  it('sends a 0xFF byte before its sync, which resets the agent\'s parser', async () => {
    const received: Buffer[] = [];
    const { path, connection } = await fakeAgent();
    void connection.then((socket) => socket.prependListener('data', (d: Buffer) => received.push(d)));
    const agent = await GuestAgent.connect(path);
    agent.close();
    const sent = Buffer.concat(received);
    assert.deepEqual([...sent.subarray(0, 2)], [0xff, 0x7b]);
    assert.equal(JSON.parse(sent.subarray(1).toString()).execute, 'guest-sync-delimited');
  });

  it('rejects a command on a connection the agent has closed, leaving no unhandled rejection', async () => {
    const { path, connection } = await fakeAgent();
    const agent = await GuestAgent.connect(path);
    const closed = new Promise<void>((r) => agent.onClose(r));
    (await connection).destroy();
    await closed;
    const unhandled = await unhandledRejectionsDuring(async () => {
      await assert.rejects(agent.ping(), { name: 'VmError', code: 'SOCKET_CLOSED', message: 'the guest agent connection closed before it answered "guest-ping"' });
    });
    assert.deepEqual(unhandled, []);
  });

  it('closes the connection after a timeout, since the late answer would be taken for the next command', async () => {
    const { path } = await fakeAgent({ 'guest-info': { version: '8.2.2' } });
    const agent = await GuestAgent.connect(path);
    const closed = new Promise<void>((r) => agent.onClose(r));
    await assert.rejects(agent.ping({ timeoutMs: 50 }), { name: 'VmError', code: 'REQUEST_TIMEOUT', message: 'the guest agent connection did not answer "guest-ping" within 0.05 s' });
    await closed;
    await assert.rejects(agent.call('guest-info'), { name: 'VmError', code: 'SOCKET_CLOSED' });
  });
});
