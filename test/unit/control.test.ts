import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlServer, controlRequest, type ControlCommand } from '../../src/lab/control.js';

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
      assert.equal(await controlRequest(path, { cmd: 'freeze' }), '5 € à payer');
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
      const [first, second] = splitInsideEuro('{"cmd":"capture","host":"syl","nic":0,"file":"/tmp/€.pcap"}\n');
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
});
