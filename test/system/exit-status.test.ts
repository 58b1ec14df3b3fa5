import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UP_USAGE } from '../../src/cli/up-command.js';
import { qemunet } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';

/** The CLI's exit status comes from the error's code, whatever class the error has. */
describe('exit status', { timeout: 60000 }, () => {
  const tmp = suiteDir('exit-status');
  after(() => tmp.remove());

  test('qemunet up without a topology: usage, status 2', async () => {
    const r = await qemunet(['up'], { cwd: tmp.path });
    assert.deepEqual([r.code, r.stderr, r.stdout], [2, `qemunet: give a topology file\n${UP_USAGE}\n`, '']);
  });

  test("a plain QemunetError('USAGE') (a NIC named badly) exits 2 too", async () => {
    const dir = join(tmp.path, 'stopped');
    await mkdir(dir);
    await writeFile(join(dir, 'qemunet-state.json'), JSON.stringify({ version: 1, dir, topology: 'topology', pid: 0, phase: 'stopped', accel: 'tcg', startedAt: '', hosts: [], switches: [] }));
    const r = await qemunet(['link', 'nonsense', '--session', dir]);
    assert.deepEqual([r.code, r.stderr], [2, 'qemunet: "nonsense" does not name a NIC; write HOST:ethN, like syl:eth0\n']);
  });

  test('an environment variable qemunet cannot use exits 2, naming it and what is allowed, before anything is read or made', async () => {
    const dir = join(tmp.path, 'never');
    const r = await qemunet(['up', join(tmp.path, 'nosuch.topo'), '--session', dir], { env: { ...process.env, QEMUNET_TCG_CACHE: '16M' } });
    assert.deepEqual([r.code, r.stderr], [2, "qemunet: QEMUNET_TCG_CACHE=\"16M\" is not allowed; allowed: a size in MiB from 4 to 4096 (TCG's translation cache of each VM; tiny's default is 32, 16 saves memory at the cost of slower boots)\n"]);
    assert.equal(existsSync(dir), false);
  });

  test('an unknown option of a session command (node:util parseArgs) exits 2', async () => {
    const r = await qemunet(['ls', '--bogus']);
    assert.deepEqual([r.code, r.stderr], [2, "qemunet: Unknown option '--bogus'\n"]);
  });
});
