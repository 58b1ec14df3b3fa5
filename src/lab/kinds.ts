import { KIND_CAPABILITIES, requireCapability, type Capability, type RunningNode } from '../node/kind.js';
import { launchUml } from '../uml/launch.js';
import { umlJailArgv } from '../uml/uml-argv.js';
import { launchVm } from '../vm/launch.js';
import { qemuArgv } from '../vm/qemu-argv.js';
import type { HostPlan } from './plan.js';

/**
 * Where the host kinds meet the Lab: how each one is launched and what its command line is. The Lab
 * itself only sees RunningNode and the capability table.
 */
export async function launchNode(h: HostPlan, options: { paused: boolean; signal?: AbortSignal }): Promise<RunningNode> {
  if (h.kind === 'uml') return launchUml(h.uml, { logFile: h.paths.log });
  return launchVm(h.vm, { logFile: h.paths.log, dieWithParent: true, paused: options.paused, ...(options.signal ? { signal: options.signal } : {}) });
}

/** The host's command line, as `<host>.sh` and `--dry-run` show it. */
export function hostCommand(h: HostPlan): string[] {
  return h.kind === 'uml' ? ['bwrap', ...umlJailArgv(h.uml)] : ['qemu-system-x86_64', ...qemuArgv(h.vm)];
}

/** The accelerator a host runs under, for stall messages; undefined for kinds that have none. */
export function hostAccel(h: HostPlan): 'kvm' | 'tcg' | 'hvf' | undefined {
  return h.kind === 'qemu' ? h.vm.accel : undefined;
}

/** Programs a host kind runs, checked before anything starts. */
export function kindPrograms(h: HostPlan): string[] {
  return h.kind === 'uml' ? ['bwrap', 'dpipe', 'wirefilter', 'vde_plug', 'uml_mconsole'] : ['qemu-system-x86_64', 'qemu-img'];
}

/** Whether host `h`'s kind can do `capability`. */
export function can(h: HostPlan, capability: Capability): boolean {
  return KIND_CAPABILITIES[h.kind].has(capability);
}

/** Throws the typed error naming the host and its kind when it cannot. */
export function requireOf(h: HostPlan, capability: Capability): void {
  requireCapability(h.name, h.kind, capability);
}
