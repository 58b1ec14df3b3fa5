import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KSM_HINT_VMS, ksmAction, settleKsm } from '../../src/vm/ksm.js';

describe('KSM', () => {
  it('does nothing when KSM runs, when told off, or for a small lab', () => {
    assert.deepEqual(ksmAction({ run: '1', wanted: 'on', vms: 50 }), { turnOn: false });
    assert.deepEqual(ksmAction({ run: '0', wanted: 'off', vms: 50 }), { turnOn: false });
    assert.deepEqual(ksmAction({ run: '0', wanted: undefined, vms: KSM_HINT_VMS - 1 }), { turnOn: false });
    assert.deepEqual(ksmAction({ run: undefined, wanted: undefined, vms: 50 }), { turnOn: false });
  });
  it('turns it on when asked, and hints how for a big lab otherwise', () => {
    assert.deepEqual(ksmAction({ run: '0', wanted: 'on', vms: 1 }), { turnOn: true });
    assert.deepEqual(ksmAction({ run: '0', wanted: undefined, vms: 8 }), {
      turnOn: false,
      notice: "hint: KSM is off; with it, 8 VMs of one image share their identical pages (about half of an idle tiny VM's memory): echo 1 | sudo tee /sys/kernel/mm/ksm/run, or QEMUNET_KSM=on when qemunet may write /sys/kernel/mm/ksm/run (QEMUNET_KSM=off silences this)",
    });
    assert.deepEqual(ksmAction({ run: undefined, wanted: 'on', vms: 1 }), { turnOn: false, notice: 'warning: QEMUNET_KSM=on, but this kernel has no KSM (/sys/kernel/mm/ksm/run is missing)' });
  });
  it('writes 1 to the run file when asked, and says why it could not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-ksm-'));
    try {
      const run = join(dir, 'run');
      await writeFile(run, '0\n');
      assert.match((await settleKsm('on', 2, run))!, /^turned KSM on/);
      assert.equal(await readFile(run, 'utf8'), '1');
      await writeFile(run, '0\n');
      assert.equal(await settleKsm(undefined, 2, run), undefined);
      assert.equal(await readFile(run, 'utf8'), '0\n');
      assert.equal(await settleKsm('on', 2, join(dir, 'missing')), 'warning: QEMUNET_KSM=on, but this kernel has no KSM (/sys/kernel/mm/ksm/run is missing)');
      // A file that even root cannot write.
      assert.match((await settleKsm('on', 2, '/proc/version'))!, /^warning: QEMUNET_KSM=on, but KSM could not be turned on \(E[A-Z]+: \/proc\/version needs root\): echo 1 \| sudo tee /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
