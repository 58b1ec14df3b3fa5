import assert from 'node:assert/strict';
import { readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { qemunet } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny.js';

interface Report { canRunLabs: boolean; checks: Array<{ id: string; status: string; required: boolean; fix?: string }> }

describe('qemunet doctor on this machine (issue 24)', { timeout: 120_000 }, () => {
  it('this machine runs labs: exit 0, every part judged, --json for scripts', async () => {
    const text = await qemunet(['doctor']);
    assert.equal(text.code, 0, text.stdout);
    assert.match(text.stdout, /^ok {8}QEMU {14}qemu-system-x86_64 \d+\.\d+/m);
    assert.match(text.stdout, /\nA lab can run here\.\n$/);
    const json = await qemunet(['doctor', '--json']);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.canRunLabs, true);
    for (const id of ['node', 'qemu', 'kvm', 'vde', 'wirefilter', 'image-tiny', 'uml', 'display-tmux', 'chromium', 'ksm', 'memory', 'cgroups', 'sshd']) assert.ok(report.checks.some((c) => c.id === id), id);
    assert.deepEqual(report.checks.filter((c) => c.required && c.status !== 'ok'), []);
  });

  it('with a PATH that lacks vde_switch: exit 1, naming its package and the command that installs it', async () => {
    await using bin = await tempDir('qemunet-doctor-path-');
    // Every program of /usr/bin but vde_switch.
    for (const name of await readdir('/usr/bin')) if (name !== 'vde_switch') await symlink(join('/usr/bin', name), join(bin.path, name));
    const r = await qemunet(['doctor'], { env: { ...process.env, PATH: bin.path } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^missing {3}VDE switches {6}vde_switch not found on PATH {2}\(a lab needs it\)\n {26}fix: (sudo )?apt-get install vde-switch$/m);
    assert.match(r.stdout, /\nA lab cannot run here: fix the parts marked "a lab needs it" \(bash \/\S+\/scripts\/install-deps\.sh installs every package qemunet uses\)\.\n$/);
    const json = JSON.parse((await qemunet(['doctor', '--json'], { env: { ...process.env, PATH: bin.path } })).stdout) as Report;
    assert.equal(json.canRunLabs, false);
    assert.deepEqual(json.checks.filter((c) => c.status === 'missing').map((c) => c.id), ['vde']);
  });
});
