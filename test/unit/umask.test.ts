import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConsoleHub } from '../../src/console/console-hub.js';
import { ControlServer } from '../../src/lab/driver/control-server.js';
import { PRIVATE_UMASK, withUmask } from '../../src/process/umask.js';
import { suiteDir } from '../helpers/tiny.js';

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('withUmask', () => {
  it('applies the mask for the call only, and restores it when the call throws', () => {
    const before = process.umask(0o022);
    try {
      assert.equal(withUmask(PRIVATE_UMASK, () => process.umask(PRIVATE_UMASK)), PRIVATE_UMASK);
      assert.throws(() => withUmask(PRIVATE_UMASK, () => { throw new Error('boom'); }), /boom/);
      assert.equal(process.umask(0o022), 0o022);
    } finally {
      process.umask(before);
    }
  });
});

describe('the sockets qemunet listens on are owner-only, whatever the umask', () => {
  const tmp = suiteDir('umask');
  after(() => tmp.remove());
  // Under umask 0 a socket made with the process umask would be 0777: anyone could connect.
  const open = async <T>(fn: () => Promise<T>) => {
    const previous = process.umask(0);
    try {
      return await fn();
    } finally {
      process.umask(previous);
    }
  };

  it('the control socket', async () => {
    const path = join(tmp.path, 'qemunet.ctl');
    const server = await open(() => ControlServer.listen(path, () => Promise.resolve('ok')));
    try {
      assert.equal(await mode(path), '700');
    } finally {
      await server.close();
    }
  });

  it('a console fan-out socket', async () => {
    const path = join(tmp.path, 'a.console');
    await using hub = await open(() => ConsoleHub.listen(path, () => {}));
    assert.equal(hub.clientCount, 0);
    assert.equal(await mode(path), '700');
  });
});
