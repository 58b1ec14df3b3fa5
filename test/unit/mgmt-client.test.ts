import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MgmtClient } from '../../src/switch/mgmt-client.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qemunet-mgmt-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('MgmtClient', () => {
  it('reads a reply whose multi-byte character arrives in two writes', async () => {
    const path = join(dir, 's1.mgmt');
    // As vde_switch answers port/print, with a program name that has an "é" (C3 A9).
    const reply = Buffer.from(
      "0000 DATA END WITH '.'\nPort 0001 untagged_vlan=0000 ACTIVE - Unnamed Allocatable\n -- endpoint ID 0003 module unix prog   : qemu-café\n.\n1000 Success\n\nvde$ ",
    );
    const at = reply.indexOf(0xc3) + 1;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.write('VDE switch V.2.3.3\n(C) Virtual Square Team (coord. R. Davoli) 2005,2006,2007 - GPLv2\n\nvde$ ');
      socket.once('data', () => {
        socket.write(reply.subarray(0, at));
        setTimeout(() => socket.write(reply.subarray(at)), 30);
      });
    });
    server.listen(path);
    await once(server, 'listening');
    const client = await MgmtClient.connect(path, 's1');
    try {
      assert.deepEqual(await client.send('port/print 1'), {
        code: 1000,
        message: 'Success',
        data: ['Port 0001 untagged_vlan=0000 ACTIVE - Unnamed Allocatable', ' -- endpoint ID 0003 module unix prog   : qemu-café'],
      });
    } finally {
      client.close();
      server.close();
    }
  });
});
