import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Catalog } from '../../config/catalog.js';
import { builtImagePaths } from '../../images/store.js';
import { sessionPaths } from '../../session/paths.js';
import type { Topology } from '../../topology/types.js';
import { hostHasAmx } from '../../uml/legacy-fpu.js';
import { detectAccel } from '../../vm/accel.js';
import { probeKernel, type AccelMode } from '../../vm/accel-probe.js';
import type { VmSpec } from '../../vm/qemu-argv.js';
import { loadCatalog } from '../catalog.js';
import { checkDisplays, freeLoopbackPorts, hostDisplays, qemuDisplayBackends } from './displays.js';
import { planLab, SCREEN_DISPLAYS, type DisplayMode, type LabPlan } from '../plan.js';
import { checkPrerequisites, readTopology } from './prepare.js';
import type { UpSettings } from './settings.js';

/** What the lab is planned from besides the settings: read from files and this machine, once per `up`. */
export interface Inputs {
  topology: Topology;
  catalog: Catalog;
  configFiles: string[];
  storeDir: string;
  display: DisplayMode;
  notes: string[];
  /** Hosts whose `<host>.disk` exists in the session. */
  existingDisks: ReadonlySet<string>;
  /** The CPU's FPU state is more than Debian 12's UML kernel can save (uml/legacy-fpu.ts). */
  umlLegacyFpu: boolean;
  /** QEMU's display backends, when a host wants QEMU's own window. */
  qemuBackends?: Set<string>;
  displayPorts?: Map<string, number>;
}

/** Reads the topology, the catalog and what this machine offers; notes are given once the plan holds. */
export async function readInputs(s: UpSettings, dir: string): Promise<Inputs> {
  const cwd = s.cwd ?? process.cwd();
  const display = s.display ?? 'none';
  const file = s.topologyFile ? resolve(cwd, s.topologyFile) : sessionPaths(dir).topology;
  const { topology } = await readTopology(file, { hostNetwork: s.hostNetwork ?? true });
  const umlLegacyFpu = hostHasAmx(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
  const { catalog, storeDir, configFiles, notes } = await loadCatalog({ ...(s.configFile ? { configFile: s.configFile } : {}), cwd, storeDir: s.environment.imageStore, home: s.environment.home });
  const displays = [...hostDisplays(topology, display)];
  const windowed = displays.some(([, d]) => SCREEN_DISPLAYS.has(d) && d !== 'vnc' && d !== 'spice');
  const qemuBackends = windowed ? await qemuDisplayBackends(s.signal).catch(() => undefined) : undefined;
  const remote = displays.filter(([, d]) => d === 'vnc' || d === 'spice').map(([name]) => name);
  const displayPorts = s.displayTcp && remote.length ? await freeLoopbackPorts(remote.length) : [];
  const paths = sessionPaths(dir);
  return {
    topology, catalog, configFiles, storeDir, display, notes, umlLegacyFpu,
    existingDisks: new Set(topology.hosts.filter((h) => existsSync(paths.host(h.name).disk)).map((h) => h.name)),
    ...(qemuBackends ? { qemuBackends } : {}),
    ...(displayPorts.length ? { displayPorts: new Map(remote.map((name, i) => [name, displayPorts[i]!])) } : {}),
  };
}

/** The one planning of a lab from its settings and inputs, for `up`, `checkUp` and `dryRun` alike. Pure. */
export function planOf(s: UpSettings, inputs: Inputs, dir: string, accel: VmSpec['accel']): LabPlan {
  return planLab(inputs.topology, inputs.catalog, sessionPaths(dir), {
    accel,
    aliases: s.aliases ?? new Map(),
    display: inputs.display,
    internet: s.internet ?? false,
    quiet: s.quiet ?? false,
    kernelArgs: s.kernelArgs ?? [],
    user: s.user ?? userInfo().username,
    mountDir: s.mountDir ?? true,
    mountDisk: s.mountDisk ?? true,
    ...(s.nicModel ? { nicModel: s.nicModel } : {}),
    ...(s.rawBase ? { rawBase: true } : {}),
    ...(s.vlan ? { vlan: true } : {}),
    ...(s.wireAll ? { wireAll: true } : {}),
    ...(inputs.umlLegacyFpu ? { umlLegacyFpu: true } : {}),
    ...(s.hostNetwork === false ? { labConsoleOnly: true } : {}),
    ...(s.tcgCacheMiB !== undefined ? { tcgCacheMiB: s.tcgCacheMiB } : {}),
    existingDisks: inputs.existingDisks,
    configFiles: inputs.configFiles,
    // QemuNet's graphic mode is QEMU's GTK window; SDL when this QEMU has no GTK.
    ...(inputs.qemuBackends && !inputs.qemuBackends.has('gtk') && inputs.qemuBackends.has('sdl') ? { graphicToolkit: 'sdl' as const } : {}),
    ...(inputs.displayPorts ? { displayPorts: inputs.displayPorts } : {}),
  });
}

/**
 * The accelerator a lab is planned under before the probe has run: the one asked for, or KVM, the
 * probe's usual verdict. The plan is made again only when the verdict differs.
 */
export function expectedAccel(mode: AccelMode | undefined): VmSpec['accel'] {
  return mode === 'tcg' ? 'tcg' : 'kvm';
}

/** A lab planned from inputs read once: what `up` checks, starts and, when the accelerator differs, plans again. */
export interface Planned {
  inputs: Inputs;
  plan: LabPlan;
  accel: VmSpec['accel'];
}

export async function planned(s: UpSettings, dir: string): Promise<Planned> {
  const inputs = await readInputs(s, dir);
  const accel = expectedAccel(s.accel);
  return { inputs, plan: planOf(s, inputs, dir, accel), accel };
}

/** The plan under `accel` in `dir`: the one already made when it was made so. */
export function replanned(s: UpSettings, p: Planned, dir: string, accel: VmSpec['accel']): Planned {
  return p.accel === accel && p.plan.dir === dir ? p : { inputs: p.inputs, plan: planOf(s, p.inputs, dir, accel), accel };
}

/** The display modes' windows and programs, the programs, images and socket paths: checked before anything starts. */
export async function checkPlanned(s: UpSettings, p: Planned): Promise<void> {
  const e = s.environment;
  await checkDisplays(p.plan, {
    desktop: { ...(e.xDisplay ? { xDisplay: e.xDisplay } : {}), wayland: e.wayland, dbusSession: e.dbusSession, programPath: e.programPath },
    viewers: s.viewers ?? false,
    switchXterms: (s.switchConsoles ?? false) && p.inputs.display === 'xterm',
    ...(p.inputs.qemuBackends ? { qemuBackends: p.inputs.qemuBackends } : {}),
  });
  await checkPrerequisites(p.plan, sessionPaths(p.plan.dir), p.inputs.storeDir, s.onNotice, s.signal);
}

/**
 * KVM or TCG, settled once the images are there: the probe boots the kernel the lab boots.
 * Returns the accelerator and the warning to give when KVM was wanted and does not work.
 */
export async function settleAccel(s: UpSettings, plan: LabPlan, storeDir: string): Promise<{ accel: VmSpec['accel']; notices: string[] }> {
  const mode = s.accel ?? 'probe';
  const tiny = builtImagePaths(storeDir, 'tiny').kernel;
  const kernel = probeKernel(plan.hosts.map((h) => h.system), existsSync(tiny) ? tiny : undefined);
  const verdict = await detectAccel({ mode, cacheFile: s.environment.accelCache, env: { PATH: s.environment.programPath }, ...(kernel ? { kernel } : {}) });
  const notices = verdict.accel === 'tcg' && mode === 'probe'
    ? [`warning: KVM is not usable (${verdict.reason ?? 'no reason given'}); VMs run under TCG emulation, which is much slower${s.accelHint ? ` (${s.accelHint})` : ''}`]
    : [];
  return { accel: verdict.accel, notices };
}
