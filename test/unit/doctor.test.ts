import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assess, DOCTOR_PROGRAMS, type Check } from '../../src/doctor/assess.js';
import type { MachineFacts } from '../../src/doctor/facts.js';
import { renderDoctor } from '../../src/cli/doctor-view.js';

/** A machine with everything: every program, tiny and debian built, KVM working, KSM on. */
function machine(over: Partial<MachineFacts> = {}): MachineFacts {
  return {
    qemunetVersion: '0.1.0', nodeVersion: 'v20.20.2', root: false, user: 'ada',
    programs: Object.fromEntries(DOCTOR_PROGRAMS.map((p) => [p, `/usr/bin/${p}`])),
    qemuVersion: '7.2.22', vdeVersion: '2.3.2', qemuDisplays: ['gtk', 'sdl', 'none'],
    kvm: { accel: 'kvm', source: 'cache' }, cpuVendor: 'intel',
    images: [{ name: 'tiny', built: true, bytes: 1.1 * 1024 ** 3 }, { name: 'debian', built: true, bytes: 2 * 1024 ** 3 }],
    bwrap: true, userNamespaces: true, ksmRun: '1', memAvailableMiB: 4000, cgroup: 'v2', display: ':0',
    installScript: '/usr/lib/node_modules/qemunet/scripts/install-deps.sh',
    ...over,
  };
}

const without = (...missing: string[]) => Object.fromEntries(DOCTOR_PROGRAMS.filter((p) => !missing.includes(p)).map((p) => [p, `/usr/bin/${p}`]));
const check = (checks: Check[], id: string) => checks.find((c) => c.id === id)!;

describe('doctor: the assessment (facts in, report out)', () => {
  it('a machine with everything: every part ok, a lab can run', () => {
    const r = assess(machine());
    assert.equal(r.canRunLabs, true);
    assert.deepEqual(r.checks.filter((c) => c.status !== 'ok').map((c) => c.id), []);
    assert.deepEqual(check(r.checks, 'qemu'), { id: 'qemu', title: 'QEMU', status: 'ok', detail: 'qemu-system-x86_64 7.2.22, qemu-img', required: true });
    assert.equal(check(r.checks, 'memory').detail, '4000 MiB available: about 51 idle tiny hosts (77 MiB each, KSM on)');
  });

  it('no vde_switch: missing, names its package and the command, and no lab can run', () => {
    const r = assess(machine({ programs: without('vde_switch') }));
    assert.equal(r.canRunLabs, false);
    assert.deepEqual(check(r.checks, 'vde'), { id: 'vde', title: 'VDE switches', status: 'missing', required: true, detail: 'vde_switch not found on PATH', fix: 'sudo apt-get install vde-switch' });
  });

  it('as root, the fix has no sudo; several missing programs of one part are one command', () => {
    const r = assess(machine({ root: true, programs: without('wirefilter', 'dpipe') }));
    assert.equal(r.canRunLabs, true);
    assert.deepEqual(check(r.checks, 'wirefilter'), { id: 'wirefilter', title: 'link faults', status: 'degraded', required: false, detail: 'wirefilter, dpipe not found on PATH: no LINK lines, no qemunet link --delay/--loss', fix: 'apt-get install vde-wirefilter vdeplug' });
  });

  it('KVM: each reason gets its own fix, a hanging KVM none; a lab runs under TCG anyway', () => {
    const kvm = (reason: string) => check(assess(machine({ kvm: { accel: 'tcg', reason, source: 'probe' } })).checks, 'kvm');
    assert.equal(kvm('/dev/kvm does not exist').fix, 'sudo modprobe kvm_intel   (and virtualization on in the firmware)');
    assert.equal(kvm('no read-write access to /dev/kvm (add your user to the kvm group)').fix, 'sudo usermod -aG kvm ada   (then log in again)');
    const hang = kvm('a test Linux kernel under KVM did not finish booting within 8 s');
    assert.deepEqual(hang, { id: 'kvm', title: 'KVM', required: false, status: 'degraded', detail: 'not usable: a test Linux kernel under KVM did not finish booting within 8 s (a test boot, now cached for the labs); labs run under TCG emulation (slower)' });
  });

  it('tiny not built: degraded with its build command; not buildable either: missing, with the tools to install', () => {
    const notBuilt = machine({ images: [{ name: 'tiny', built: false, bytes: 0 }] });
    assert.deepEqual(check(assess(notBuilt).checks, 'image-tiny'), { id: 'image-tiny', title: 'image tiny', status: 'degraded', detail: 'not built (about 30 s, from Debian packages; a lab builds it when it needs it)', fix: 'qemunet image build tiny', required: false });
    const r = assess({ ...notBuilt, programs: without('mkfs.ext4', 'depmod') });
    assert.equal(r.canRunLabs, false);
    assert.equal(check(r.checks, 'image-tiny').fix, 'sudo apt-get install e2fsprogs kmod');
  });

  it('debian: not root and no user namespaces says so', () => {
    const r = assess(machine({ images: [{ name: 'tiny', built: true, bytes: 1 }], userNamespaces: 'unshare: unshare failed: Operation not permitted' }));
    assert.deepEqual(check(r.checks, 'image-debian'), { id: 'image-debian', title: 'image debian', status: 'degraded', required: false, detail: 'building it needs root or unprivileged user namespaces (unshare: unshare failed: Operation not permitted)', fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1' });
  });

  it('memory: counts tiny hosts at 155 MiB without KSM; less than one is missing', () => {
    assert.equal(check(assess(machine({ ksmRun: '0', memAvailableMiB: 1000 })).checks, 'memory').detail, '1000 MiB available: about 6 idle tiny hosts (155 MiB each)');
    assert.equal(check(assess(machine({ ksmRun: '0', memAvailableMiB: 400 })).checks, 'memory').status, 'degraded');
    const low = assess(machine({ ksmRun: '0', memAvailableMiB: 100 }));
    assert.equal(check(low.checks, 'memory').status, 'missing');
    assert.equal(low.canRunLabs, false);
  });

  it('cgroups say which version; KSM off says how to turn it on', () => {
    assert.equal(check(assess(machine({ cgroup: 'v1' })).checks, 'cgroups').detail, 'v1 hierarchy: a lab server limits its labs through cgroup v2');
    assert.equal(check(assess(machine({ ksmRun: '0' })).checks, 'ksm').fix, 'echo 1 | sudo tee /sys/kernel/mm/ksm/run');
  });

  it('the text: a line per part, the fix under a part that is not ok, the verdict naming the install script', () => {
    const text = renderDoctor(assess(machine({ programs: without('vde_switch') })));
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('missing   VDE switches'));
    assert.equal(lines[at], 'missing   VDE switches      vde_switch not found on PATH  (a lab needs it)');
    assert.equal(lines[at + 1], '                          fix: sudo apt-get install vde-switch');
    assert.equal(lines.at(-2), 'A lab cannot run here: fix the parts marked "a lab needs it" (bash /usr/lib/node_modules/qemunet/scripts/install-deps.sh installs every package qemunet uses).');
  });
});
