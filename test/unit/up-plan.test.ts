import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UpSettings } from '../../src/lab/driver/settings.js';
import { checkUp } from '../../src/lab/driver/up.js';
import { expectedAccel, planned, replanned } from '../../src/lab/driver/up-plan.js';
import type { QemuHostPlan } from '../../src/lab/plan.js';
import { suiteDir } from '../helpers/tiny.js';

describe('up plans the lab once', () => {
  const tmp = suiteDir('up-plan');
  let settings: UpSettings;
  before(async () => {
    const topologyFile = join(tmp.path, 'lab.topo');
    await writeFile(topologyFile, 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    settings = {
      topologyFile,
      display: 'none',
      cwd: tmp.path,
      environment: { imageStore: '/store', accelCache: '/nonexistent/accel.json', registryDir: '/nonexistent', home: '', tmpDir: tmp.path, wayland: false, dbusSession: false, programPath: '' },
    };
  });
  after(() => tmp.remove());

  it('expects KVM unless TCG is asked for (the probe usually says KVM)', () => {
    assert.deepEqual([expectedAccel(undefined), expectedAccel('probe'), expectedAccel('kvm'), expectedAccel('tcg')], ['kvm', 'kvm', 'kvm', 'tcg']);
  });

  it('keeps the plan it made when the accelerator and the directory are the ones it was made for', async () => {
    const dir = join(tmp.path, 's');
    const first = await planned(settings, dir);
    assert.equal(first.accel, 'kvm');
    assert.equal(replanned(settings, first, dir, 'kvm'), first);
  });

  it('plans again, from the same inputs, only for another accelerator or directory', async () => {
    const dir = join(tmp.path, 's');
    const first = await planned(settings, dir);
    const tcg = replanned(settings, first, dir, 'tcg');
    assert.notEqual(tcg, first);
    assert.equal(tcg.inputs, first.inputs, 'the inputs are not read again');
    assert.deepEqual(tcg.plan.hosts.map((h) => (h as QemuHostPlan).vm.accel), ['tcg', 'tcg']);
    const elsewhere = replanned(settings, first, join(tmp.path, 'other'), 'kvm');
    assert.equal(elsewhere.plan.dir, join(tmp.path, 'other'));
  });

  it('checks settings without making the session directory', async () => {
    await checkUp({ ...settings, sessionDir: 'unmade' });
    assert.equal(existsSync(join(tmp.path, 'unmade')), false);
  });
});
