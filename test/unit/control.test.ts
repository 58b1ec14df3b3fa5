import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlServer, type ControlCommand } from '../../src/lab/driver/control-server.js';
import { controlHold, controlRequest } from '../../src/lab/client/control-client.js';
import { settlesWithin } from '../../src/process/within.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qemunet-control-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `text` as bytes, cut in two inside its first "€" (E2 82 AC), so that the character spans two writes. */
function splitInsideEuro(text: string): [Buffer, Buffer] {
  const b = Buffer.from(text);
  const at = b.indexOf(Buffer.from('€')) + 1;
  return [b.subarray(0, at), b.subarray(at)];
}

describe('control socket', () => {
  it('reads a reply whose multi-byte character arrives in two writes', async () => {
    const path = join(dir, 'raw-server.ctl');
    const server = createServer((socket) => {
      void (async () => {
        await once(socket, 'data');
        const [first, second] = splitInsideEuro('{"ok":true,"result":"5 € à payer"}\n');
        socket.write(first);
        await sleep(30);
        socket.end(second);
      })().catch(() => socket.destroy());
    });
    server.listen(path);
    await once(server, 'listening');
    try {
      assert.equal(await controlRequest(path, { cmd: 'restart', host: 'syl' }), '5 € à payer');
    } finally {
      server.close();
    }
  });

  it('reads a command whose multi-byte character arrives in two writes', async () => {
    const path = join(dir, 'server.ctl');
    const seen: ControlCommand[] = [];
    const server = await ControlServer.listen(path, (c) => {
      seen.push(c);
      return Promise.resolve('capturing');
    });
    try {
      const socket = connect(path);
      await once(socket, 'connect');
      const [first, second] = splitInsideEuro('{"v":1,"cmd":"capture","host":"syl","nic":0,"file":"/tmp/€.pcap"}\n');
      socket.write(first);
      await sleep(30);
      socket.write(second);
      const [reply] = (await once(socket, 'data')) as [Buffer];
      socket.destroy();
      assert.equal(reply.toString(), '{"ok":true,"result":"capturing"}\n');
      assert.deepEqual(seen, [{ cmd: 'capture', host: 'syl', nic: 0, file: '/tmp/€.pcap' }]);
    } finally {
      await server.close();
    }
  });

  it('closes while a client holds its connection (a running capture), ending that connection', async () => {
    const path = join(dir, 'held.ctl');
    const undone: string[] = [];
    const server = await ControlServer.listen(path, (c, conn) => {
      conn.onClose(() => Promise.resolve(undone.push(c.cmd)));
      return Promise.resolve('held');
    });
    const held = await controlHold(path, { cmd: 'capture', host: 'syl', nic: 0, file: '/tmp/x.pcap' });
    assert.equal(held.result, 'held');
    const closing = server.close();
    assert.equal(await settlesWithin(closing, 2000), true, 'close() does not wait for the held connection');
    await held.closed;
    assert.deepEqual(undone, ['capture']);
  });

  it('rejects a request that the session closes without answering', async () => {
    const path = join(dir, 'mute.ctl');
    const server = createServer((socket) => socket.once('data', () => socket.destroy()));
    server.listen(path);
    await once(server, 'listening');
    try {
      await assert.rejects(controlRequest(path, { cmd: 'freeze' }, 60000), {
        code: 'SESSION_NOT_RUNNING',
        message: `the session's qemunet process closed the control connection without answering "freeze"; is the session stopping?`,
      });
    } finally {
      server.close();
    }
  });
});
