import assert from 'node:assert/strict';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sessionDirectory } from '../../src/lab/driver/prepare.js';
import { suiteDir } from '../helpers/tiny.js';

const mode = async (path: string) => ((await stat(path)).mode & 0o7777).toString(8);

/** Under umask 0 a directory gets exactly the mode it is made with: the test does not rest on the caller's umask. */
async function underUmask0<T>(fn: () => Promise<T>): Promise<T> {
  const previous = process.umask(0);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}

describe('sessionDirectory', () => {
  const tmp = suiteDir('session-dir');
  after(() => tmp.remove());

  it('makes a new --session directory (and its missing parents) private, mode 0700', async () => {
    const dir = await underUmask0(() => sessionDirectory('new/s', undefined, tmp.path));
    assert.equal(dir, join(await realpath(tmp.path), 'new', 's'));
    assert.equal(await mode(dir), '700');
  });

  it('makes the default temporary directory private too', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp.path;
    try {
      const dir = await underUmask0(() => sessionDirectory(undefined, '/x/my lab.topo', '/'));
      assert.match(dir, /\/qemunet-my_lab-[^/]+$/);
      assert.equal(await mode(dir), '700');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('leaves the mode of an existing directory as its owner set it', async () => {
    const existing = join(tmp.path, 'shared');
    await underUmask0(() => mkdir(existing, { mode: 0o750 }));
    await sessionDirectory(existing, undefined, '/');
    assert.equal(await mode(existing), '750');
  });
});
