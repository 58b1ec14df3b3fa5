import { InputError, QemunetError } from '../../errors.js';
import { DEFAULT_UML_KERNEL, umlUnsafePath, type UmlSpec } from '../../uml/uml-argv.js';
import { macAddress } from '../../vm/qemu-argv.js';
import { TERMINAL_DISPLAYS, TINY_MEMORY_MIB, type DisplayMode, type UmlHostPlan } from '../plan.js';
import type { HostPlanInput } from './kind.js';

/** A note of every plan with UML hosts, on a CPU with AMX. */
export const UML_LEGACY_FPU_NOTE = "warning: this CPU has AMX, whose register state Debian 12's UML kernel cannot save: UML hosts run with the legacy FPU state and with AVX turned off in their glibc (a program in them that uses AVX itself may misbehave; QEMU hosts are not affected)";

/** Display modes of a UML host: its console is a serial line, it has no screen. (A function: plan.ts, whose list it takes, imports this module.) */
const umlDisplays = (): ReadonlySet<DisplayMode> => new Set(['none', 'nographic', 'tmux', 'screen', ...TERMINAL_DISPLAYS]);

/** A User-Mode Linux host: its kernel runs as a process on a COW over the base, each NIC through its wirefilter. */
export function planUmlHost({ topology, host, hostIndex, system, display, hp, options: o }: HostPlanInput): UmlHostPlan {
  const UML_DISPLAYS = umlDisplays();
  if (!UML_DISPLAYS.has(display)) {
    throw new InputError('UML_DISPLAY', topology.file, host.line, host.systemColumn, `host ${host.name} runs system ${system.name}, a UML system, which has no screen for display mode ${display}; allowed: ${[...UML_DISPLAYS].join(', ')}`);
  }
  const kernel = system.kernel ?? DEFAULT_UML_KERNEL;
  const share = o.mountDir ? hp.share : undefined;
  const disk = o.mountDisk && o.existingDisks.has(host.name) ? hp.disk : undefined;
  const files: Array<[string, string]> = [['the session directory', hp.uml], ['FS', system.fs], ['KERNEL', kernel], ...(share ? [['the host folder', share] as [string, string]] : []), ...(disk ? [['the disk', disk] as [string, string]] : [])];
  const bad = files.find(([, path]) => umlUnsafePath(path));
  if (bad) throw new QemunetError('UML_PATH', `host ${host.name} runs UML system ${system.name} (${system.source}), whose command line cannot hold ${bad[0]} ${bad[1]}: UML splits it on blanks and commas; use paths without them`);
  const nics = host.nics.map((n) => ({ eth: `eth${n.index}`, switch: n.switch, port: n.port, mac: macAddress(hostIndex, n.index) }));
  const uml: UmlSpec = {
    name: host.name,
    kernel,
    memoryMiB: TINY_MEMORY_MIB,
    base: system.fs,
    dir: hp.uml,
    cow: `${hp.uml}/disk.cow`,
    ...(disk ? { disk } : {}),
    runDir: `${hp.uml}/run`,
    nics: nics.map((n, i) => ({ url: `ptp://${hp.wire(i)}`, mac: n.mac })),
    socketDirs: nics.length ? [hp.wire(0).slice(0, hp.wire(0).lastIndexOf('/'))] : [],
    ...(share ? { shareDir: share } : {}),
    agentSocket: hp.agent,
    append: [`hostname=${host.name}`, `user=${o.user}`, ...(o.quiet || system.builtin === 'tiny' ? ['quiet'] : []), ...o.kernelArgs],
    ...(o.umlLegacyFpu ? { legacyFpu: true } : {}),
  };
  return { kind: 'uml', name: host.name, systemName: host.system, system, display, wave: host.wave, nics, paths: hp, agent: system.builtin === 'tiny', uml };
}
