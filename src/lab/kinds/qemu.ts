import { mkdir } from 'node:fs/promises';
import { ensureOverlay } from '../../images/overlay.js';
import { shellCommand } from '../../process/shell-quote.js';
import { launchVm, type RunningVm } from '../../vm/launch.js';
import { qemuArgv } from '../../vm/qemu-argv.js';
import type { QemuHostPlan } from '../plan.js';
import type { HostKindDriver } from './kind.js';
import { planQemuHost } from './qemu-plan.js';
import { registerKind } from './registry.js';
import { checkSystemFiles } from './system-files.js';

/** A qemu-system-x86_64 VM: everything qemunet does to a host, through QMP. */
export const QEMU_KIND: HostKindDriver<QemuHostPlan, RunningVm> = {
  name: 'qemu',
  processName: 'QEMU',
  plan: planQemuHost,
  programs: ['qemu-system-x86_64', 'qemu-img'],
  // A built-in image's files are the store's, checked when it is built.
  checkSystem: (system) => (system.builtin ? Promise.resolve() : checkSystemFiles(system)),
  async prepare(h, signal) {
    const created = h.vm.disk.format === 'qcow2' && (await ensureOverlay(h.system.fs, h.paths.overlay, signal)) === 'created';
    if (h.vm.shareDir) await mkdir(h.vm.shareDir, { recursive: true });
    return created;
  },
  command: (h) => ['qemu-system-x86_64', ...qemuArgv(h.vm)],
  dryRunSetup: (h) => [shellCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', h.system.fs, h.paths.overlay]), ...(h.vm.shareDir ? [shellCommand(['mkdir', '-p', h.vm.shareDir])] : [])],
  launch: (h, o) => launchVm(h.vm, { logFile: h.paths.log, dieWithParent: true, paused: o.paused, ...(o.signal ? { signal: o.signal } : {}) }),
  // A QEMU NIC keeps its socket across a restart, so its wire goes on working.
  restartRenewsWires: false,
  accel: (h) => h.vm.accel,
  link: { via: 'carrier', set: (vm, nic, up) => vm.setLink(nic, up) },
  capture: { start: (vm, nic, file, id) => vm.startCapture(nic, file, id) },
  screen: { display: (h) => h.vm.display, setPassword: (vm, protocol, password) => vm.setScreenPassword(protocol, password) },
  save: { guestChanges: (h) => (h.vm.disk.format === 'qcow2' ? h.paths.overlay : undefined) },
};

registerKind(QEMU_KIND);
