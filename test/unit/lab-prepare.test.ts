import assert from 'node:assert/strict';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { intendedSessionDir, makeSessionDirectory, sessionDirectory } from '../../src/lab/driver/prepare.js';
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
    const dir = await underUmask0(() => sessionDirectory('new/s', undefined, tmp.path, '/nonexistent'));
    assert.equal(dir, join(await realpath(tmp.path), 'new', 's'));
    assert.equal(await mode(dir), '700');
  });

  it('makes the default temporary directory private too', async () => {
    const dir = await underUmask0(() => sessionDirectory(undefined, '/x/my lab.topo', '/', tmp.path));
    assert.match(dir, /\/qemunet-my_lab-[A-Za-z0-9]{6}$/);
    assert.equal(dirname(dir), await realpath(tmp.path));
    assert.equal(await mode(dir), '700');
  });

  it('names a new directory before making it, and makes it under that name (the lab is planned with its paths)', async () => {
    const intended = await intendedSessionDir(undefined, 'lab.topo', '/', tmp.path);
    assert.equal(intended.fresh, true);
    assert.equal(existsSync(intended.dir), false);
    assert.equal(await makeSessionDirectory(intended), intended.dir);
  });

  it('makes another new directory when the intended name was taken meanwhile', async () => {
    const intended = await intendedSessionDir(undefined, 'lab.topo', '/', tmp.path);
    await mkdir(intended.dir);
    const dir = await underUmask0(() => makeSessionDirectory(intended));
    assert.notEqual(dir, intended.dir);
    assert.match(dir, /\/qemunet-lab-[^/]{6}$/);
    assert.equal(await mode(dir), '700');
  });

  it('leaves the mode of an existing directory as its owner set it', async () => {
    const existing = join(tmp.path, 'shared');
    await underUmask0(() => mkdir(existing, { mode: 0o750 }));
    await sessionDirectory(existing, undefined, '/', '/nonexistent');
    assert.equal(await mode(existing), '750');
  });
});
