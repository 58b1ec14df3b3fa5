import assert from 'node:assert/strict';
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { qemunet } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** Mode of `path`: `d700` for a directory, `s600` for a socket, undefined for anything else. */
async function modeOf(path: string): Promise<string | undefined> {
  const s = await lstat(path);
  const kind = s.isDirectory() ? 'd' : s.isSocket() ? 's' : undefined;
  return kind && `${kind}${(s.mode & 0o7777).toString(8)}`;
}

/** Every socket below `dir`, by relative path, with its mode. */
async function sockets(dir: string, under = dir, out: Record<string, string> = {}): Promise<Record<string, string>> {
  for (const name of await readdir(under)) {
    const path = join(under, name);
    const mode = await modeOf(path);
    if (mode?.startsWith('s')) out[relative(dir, path)] = mode;
    if (mode?.startsWith('d')) await sockets(dir, path, out);
  }
  return out;
}

describe('a session is private to its owner, and may live in any directory', { timeout: 300000 }, () => {
  const tmp = suiteDir('private');
  before(() => tinyImage());
  after(() => tmp.remove());

  test('under umask 0, in a directory named a,b: it comes up ready, and the directory and every socket in it are owner-only', async () => {
    // QEMU splits its options on commas: every path in them must have its commas doubled.
    const dir = join(tmp.path, 'a,b');
    const topo = join(tmp.path, 'one.topo');
    // The LINK puts a wirefilter chain (a ptp:// URL to QEMU, two more sockets) in the session too.
    await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\nLINK a:eth0 delay=1ms\n');
    // umask 0: whatever is made with the inherited umask is open to everyone (0777), and shows.
    const previous = process.umask(0);
    let down = false;
    try {
      const r = await qemunet(['up', topo, '--session', dir, '--wait', '-K'], { cwd: tmp.path });
      assert.equal(r.code, 0, r.stderr);
      const named = ['.', 'qemunet.ctl', 'a.console', 'a.qmp', 'a.serial', 'a.qga', 'switch', 'switch/s1', 'switch/s1/ctl', 's1.mgmt', 'wire', 'wire/a-eth0', 'a-eth0.wf'];
      const found = Object.fromEntries(await Promise.all(named.map(async (p) => [p, await modeOf(join(dir, p))])));
      assert.deepEqual(found, {
        '.': 'd700',
        'qemunet.ctl': 's700',
        'a.console': 's700',
        'a.qmp': 's700',
        'a.serial': 's700',
        'a.qga': 's700',
        switch: 'd700',
        'switch/s1': 'd700',
        'switch/s1/ctl': 's600',
        's1.mgmt': 's600',
        wire: 'd700',
        'wire/a-eth0': 's700',
        'a-eth0.wf': 's700',
      });
      // The rest too: the data sockets vde_switch and vde_plug made for the port and the ptp link, and any other.
      const all = await sockets(dir);
      assert.deepEqual(Object.entries(all).filter(([, mode]) => parseInt(mode.slice(1), 8) & 0o077), [], JSON.stringify(all));
      const r2 = await qemunet(['down', '--session', dir]);
      down = true;
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(r2.stdout, `session ${dir}: stopped\n`);
    } finally {
      if (!down) await qemunet(['down', '--session', dir]);
      process.umask(previous);
    }
  });
});
