import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { QemunetError } from '../../errors.js';
import { shellCommand } from '../../process/shell-quote.js';
import { launchUml, type RunningUml } from '../../uml/launch.js';
import { DEFAULT_UML_KERNEL, umlJailArgv } from '../../uml/uml-argv.js';
import type { UmlHostPlan } from '../plan.js';
import type { HostKindDriver } from './kind.js';
import { registerKind } from './registry.js';
import { planUmlHost, UML_LEGACY_FPU_NOTE } from './uml-plan.js';
import { checkSystemFiles } from './system-files.js';

/**
 * A User-Mode Linux kernel run as a process of this machine, in a bubblewrap jail. Its link state goes
 * through the wirefilter qemunet puts on every UML NIC; capture has no such hook, and it has no screen.
 */
export const UML_KIND: HostKindDriver<UmlHostPlan, RunningUml> = {
  name: 'uml',
  sys: 'uml',
  processName: 'UML',
  plan: planUmlHost,
  planNotes: (o) => (o.umlLegacyFpu ? [UML_LEGACY_FPU_NOTE] : []),
  programs: ['bwrap', 'dpipe', 'wirefilter', 'vde_plug', 'uml_mconsole'],
  // tiny-uml's kernel is the store's: its files are checked like any other system's.
  async checkSystem(system) {
    if (!system.kernel && !(await access(DEFAULT_UML_KERNEL, constants.X_OK).then(() => true, () => false))) {
      throw new QemunetError('PROGRAM_MISSING', `system ${system.name} (${system.source}) is a User-Mode Linux system, and its kernel ${DEFAULT_UML_KERNEL} is not installed. Install it with: apt-get install user-mode-linux`);
    }
    await checkSystemFiles(system);
  },
  async prepare(h) {
    // Private: it holds the guest's disk and UML's control socket.
    await mkdir(h.uml.dir, { recursive: true, mode: 0o700 });
    if (h.uml.shareDir) await mkdir(h.uml.shareDir, { recursive: true });
    return false;
  },
  command: (h) => ['bwrap', ...umlJailArgv(h.uml)],
  dryRunSetup: (h) => [shellCommand(['mkdir', '-p', h.uml.runDir, ...(h.uml.shareDir ? [h.uml.shareDir] : [])])],
  launch: (h) => launchUml(h.uml, { logFile: h.paths.log }),
  restartRenewsWires: true,
  link: { via: 'wire' },
  save: { guestChanges: (h) => h.uml.cow },
};

registerKind(UML_KIND);
