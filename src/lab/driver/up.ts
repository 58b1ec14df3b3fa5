import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { QemunetError, SessionError, UsageError } from '../../errors.js';
import { readFile, rm, stat } from 'node:fs/promises';
import { hostHasAmx } from '../../uml/legacy-fpu.js';
import { run } from '../../process/run.js';
import { checkBases, recordBases } from './base-record.js';
import { extractArchive, removeStaleRuntime } from './restore.js';
import { registerSession } from '../../session/registry.js';
import { lockSession } from '../../session/lock.js';
import { sessionPaths } from '../../session/paths.js';
import { shellCommand } from '../../process/shell-quote.js';
import { detectAccel } from '../../vm/accel.js';
import { accelMode, probeKernel } from '../../vm/accel-probe.js';
import { accelCacheFile, builtImagePaths } from '../../images/store.js';
import { kindOf } from '../kinds/index.js';
import { settleKsm } from '../../vm/ksm.js';
import { loadCatalog } from '../catalog.js';
import { Lab } from './lab.js';
import { DISPLAY_MODES, planLab, SCREEN_DISPLAYS, tcgCacheSetting, type DisplayMode, type HostPlan, type LabPlan } from '../plan.js';
import { checkDisplays, freeLoopbackPorts, hostDisplays, qemuDisplayBackends } from './displays.js';
import type { BootLimits } from './watchdog.js';
import type { Catalog } from '../../config/catalog.js';
import type { Topology } from '../../topology/types.js';
import type { VmSpec } from '../../vm/qemu-argv.js';
import { checkPrerequisites, copyTopology, linkSession, prepareSessionFiles, readTopology, sessionDirectory } from './prepare.js';

export interface UpRequest {
  /** The topology file; without it, the session directory's own `topology`. */
  topologyFile?: string;
  sessionDir?: string;
  configFile?: string;
  aliases?: ReadonlyMap<string, string>;
  display?: DisplayMode | string;
  /** false: TCG without probing (-K). */
  accel?: boolean;
  internet?: boolean;
  quiet?: boolean;
  kernelArgs?: readonly string[];
  user?: string;
  mountDir?: boolean;
  mountDisk?: boolean;
  nicModel?: string;
  /** `--from` / `-s` / `-S`: a saved session, as an archive or a directory. */
  from?: string;
  /** `-a`: an archive extracted into the session before it starts. */
  extraArchive?: string;
  /** -y: each switch's management console in a window (tmux, or xterm with the xterm display). */
  switchConsoles?: boolean;
  /** -V: a viewer window per vnc/spice host (remote-viewer, TigerVNC for a VNC unix socket), for the session's life. */
  viewers?: boolean;
  /** vnc and spice hosts listen on 127.0.0.1 TCP ports with a generated password, instead of unix sockets in the session. */
  displayTcp?: boolean;
  /** QemuNet's -v: trunks, and each switch's `<switch>.cmd` loaded at start. */
  vlan?: boolean;
  /** Boot on the base image itself (-L): changes are permanent. */
  rawBase?: boolean;
  /** Start even when a restored overlay's base image differs (a warning instead of an error). */
  force?: boolean;
  /** QemuNet's `session` link in the working directory (default on). */
  sessionLink?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Progress and notices for the user (one line each). */
  onNotice?: (message: string) => void;
  /** How to run qemunet itself (the console windows and `<host>.sh` call it); default `qemunet` on PATH. */
  qemunetCommand?: readonly string[];
  stopTimeoutMs?: number;
  /** When a booting host counts as stalled (the boot watchdog). */
  bootLimits?: BootLimits;
  /** The session stops when this process is gone (a script or test run that started it). */
  ownerPid?: number;
  /** A wirefilter on every NIC, so faults can be set live on any link. */
  wireAll?: boolean;
  /** false: a lab from elsewhere (a web page's labs folder): a TAP line is an error (it changes this machine's network), and its `.cmd` lines may only do what a lab's console may. */
  hostNetwork?: boolean;
  signal?: AbortSignal;
}

interface Inputs {
  topology: Topology;
  catalog: Catalog;
  configFiles: string[];
  storeDir: string;
  display: DisplayMode;
  notes: string[];
  /** The CPU's FPU state is more than Debian 12's UML kernel can save (uml/legacy-fpu.ts). */
  umlLegacyFpu: boolean;
  /** QEMU's display backends, when a host wants QEMU's own window. */
  qemuBackends?: Set<string>;
  displayPorts?: Map<string, number>;
}

/** Reads the topology and the catalog; notes are given once the plan holds. */
async function readInputs(req: UpRequest, dir: string): Promise<Inputs> {
  const cwd = req.cwd ?? process.cwd();
  const env = req.env ?? process.env;
  const display = checkDisplay(req.display) ?? (env.DISPLAY ? 'xterm' : 'none');
  const file = req.topologyFile ? resolve(cwd, req.topologyFile) : sessionPaths(dir).topology;
  const { topology } = await readTopology(file, { hostNetwork: req.hostNetwork ?? true });
  const umlLegacyFpu = hostHasAmx(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
  const { catalog, storeDir, configFiles, notes } = await loadCatalog({ ...(req.configFile ? { configFile: req.configFile } : {}), cwd, env });
  const displays = [...hostDisplays(topology, display)];
  const windowed = displays.some(([, d]) => SCREEN_DISPLAYS.has(d) && d !== 'vnc' && d !== 'spice');
  const qemuBackends = windowed ? await qemuDisplayBackends(req.signal).catch(() => undefined) : undefined;
  const remote = displays.filter(([, d]) => d === 'vnc' || d === 'spice').map(([name]) => name);
  const displayPorts = req.displayTcp && remote.length ? await freeLoopbackPorts(remote.length) : [];
  return {
    topology, catalog, configFiles, storeDir, display, notes, umlLegacyFpu,
    ...(qemuBackends ? { qemuBackends } : {}),
    ...(displayPorts.length ? { displayPorts: new Map(remote.map((name, i) => [name, displayPorts[i]!])) } : {}),
  };
}

/** The display modes' windows, programs and QEMU modules, checked before anything starts. */
function checkDisplaysOf(req: UpRequest, inputs: Inputs, plan: LabPlan): Promise<void> {
  return checkDisplays(plan, { env: req.env ?? process.env, viewers: req.viewers ?? false, switchXterms: (req.switchConsoles ?? false) && inputs.display === 'xterm', ...(inputs.qemuBackends ? { qemuBackends: inputs.qemuBackends } : {}) });
}

/**
 * KVM or TCG, settled once the images are there: the probe boots the kernel the lab boots.
 * Returns the accelerator and the warning to give when KVM was wanted and does not work.
 */
async function settleAccel(req: UpRequest, plan: LabPlan, storeDir: string): Promise<{ accel: VmSpec['accel']; notices: string[] }> {
  const env = req.env ?? process.env;
  const mode = accelMode(req.accel, env.QEMUNET_ACCEL);
  if (typeof mode === 'object') throw new UsageError(mode.invalid);
  const tiny = builtImagePaths(storeDir, 'tiny').kernel;
  const kernel = probeKernel(plan.hosts.map((h) => h.system), existsSync(tiny) ? tiny : undefined);
  const verdict = await detectAccel({ mode, cacheFile: accelCacheFile(env), env, ...(kernel ? { kernel } : {}) });
  const notices = verdict.accel === 'tcg' && mode === 'probe'
    ? [`warning: KVM is not usable (${verdict.reason ?? 'no reason given'}); VMs run under TCG emulation, which is much slower (QEMUNET_ACCEL=kvm forces KVM; -K skips this check)`]
    : [];
  return { accel: verdict.accel, notices };
}

function tcgCacheOption(value: string | undefined): { tcgCacheMiB?: number } {
  const mib = tcgCacheSetting(value);
  return mib === undefined ? {} : { tcgCacheMiB: mib };
}

function planFor(req: UpRequest, inputs: Inputs, dir: string, accel: VmSpec['accel']): LabPlan {
  const paths = sessionPaths(dir);
  return planLab(inputs.topology, inputs.catalog, paths, {
    accel,
    aliases: req.aliases ?? new Map(),
    display: inputs.display,
    internet: req.internet ?? false,
    quiet: req.quiet ?? false,
    kernelArgs: req.kernelArgs ?? [],
    user: req.user ?? userInfo().username,
    mountDir: req.mountDir ?? true,
    mountDisk: req.mountDisk ?? true,
    ...(req.nicModel ? { nicModel: req.nicModel } : {}),
    ...(req.rawBase ? { rawBase: true } : {}),
    ...(req.vlan ? { vlan: true } : {}),
    ...(req.wireAll ? { wireAll: true } : {}),
    ...(inputs.umlLegacyFpu ? { umlLegacyFpu: true } : {}),
    ...(req.hostNetwork === false ? { labConsoleOnly: true } : {}),
    ...tcgCacheOption((req.env ?? process.env).QEMUNET_TCG_CACHE),
    existingDisks: new Set(inputs.topology.hosts.filter((h) => existsSync(paths.host(h.name).disk)).map((h) => h.name)),
    configFiles: inputs.configFiles,
    // QemuNet's graphic mode is QEMU's GTK window; SDL when this QEMU has no GTK.
    ...(inputs.qemuBackends && !inputs.qemuBackends.has('gtk') && inputs.qemuBackends.has('sdl') ? { graphicToolkit: 'sdl' as const } : {}),
    ...(inputs.displayPorts ? { displayPorts: inputs.displayPorts } : {}),
  });
}

/** The plan with its accelerator settled (after the images exist, since the probe boots the lab's kernel). */
async function settledPlan(req: UpRequest, inputs: Inputs, dir: string): Promise<{ plan: LabPlan; accel: VmSpec['accel']; notices: string[] }> {
  const { accel, notices } = await settleAccel(req, planFor(req, inputs, dir, 'tcg'), inputs.storeDir);
  return { plan: planFor(req, inputs, dir, accel), accel, notices };
}

/** A host's plan under TCG, for a guest that hangs under KVM (the whole lab is planned once, when first asked). */
function tcgPlanOf(req: UpRequest, inputs: Inputs, dir: string): (host: string) => HostPlan {
  let tcg: LabPlan | undefined;
  return (host) => (tcg ??= planFor(req, inputs, dir, 'tcg')).hosts.find((h) => h.name === host)!;
}

/** Where the session will be, before anything is created (a placeholder when it will be a new temporary one). */
function intendedDir(req: UpRequest): string {
  return req.sessionDir ? resolve(req.cwd ?? process.cwd(), req.sessionDir) : join(process.env.TMPDIR ?? '/tmp', 'qemunet-SESSION');
}

function checkDisplay(display: string | undefined): DisplayMode | undefined {
  if (display === undefined || (DISPLAY_MODES as readonly string[]).includes(display)) return display as DisplayMode | undefined;
  throw new UsageError(`unknown display mode "${display}"; allowed: ${DISPLAY_MODES.join(', ')}`);
}

/**
 * Prepares a session (directory, lock, images, overlays) and starts it. The returned Lab is running;
 * its `ended` promise resolves after `stop()` or when every host has gone.
 */
export async function up(req: UpRequest): Promise<Lab> {
  const cwd = req.cwd ?? process.cwd();
  if (!req.topologyFile && !req.sessionDir && !req.from) throw new QemunetError('USAGE', 'give a topology file (qemunet up FILE.topo), a session directory (--session DIR) or a saved session (--from ARCHIVE|DIR)');
  const restoring = Boolean(req.from || req.extraArchive);
  if (!restoring) {
    // Bad input fails here, before a directory is made or anything runs.
    const inputs = await readInputs(req, intendedDir(req));
    const plan = planFor(req, inputs, intendedDir(req), 'tcg');
    await checkDisplaysOf(req, inputs, plan);
    await checkPrerequisites(plan, sessionPaths(intendedDir(req)), inputs.storeDir, req.onNotice, req.signal);
  }
  const fromDir = req.from && (await isDirectory(resolve(cwd, req.from))) ? resolve(cwd, req.from) : undefined;
  // A saved session directory without --session is run where it is, as QemuNet's -S does.
  const requestedDir = req.sessionDir ?? fromDir;
  const dir = await sessionDirectory(requestedDir, req.topologyFile ?? req.from, cwd);
  const made = requestedDir ? undefined : dir;
  const paths = sessionPaths(dir);
  const lock = await lockSession(paths.lock, dir);
  if (lock.tookOverFrom) req.onNotice?.(`took over the lock of session ${dir} from qemunet process ${lock.tookOverFrom}, which is gone`);
  try {
    if (restoring) await restoreInto(req, dir, fromDir);
    const effective: UpRequest = restoring && !req.topologyFile ? { ...req, sessionDir: dir } : req;
    const inputs = await readInputs(effective, dir);
    if (restoring) {
      const plan = planFor(effective, inputs, dir, 'tcg');
      await checkDisplaysOf(effective, inputs, plan);
      await checkPrerequisites(plan, paths, inputs.storeDir, req.onNotice, req.signal);
    }
    const { plan, accel, notices } = await settledPlan(effective, inputs, dir);
    const forced = await checkBases(plan, join(inputs.storeDir, '..'), req.force ?? false, (m) => req.onNotice?.(m));
    [...inputs.notes, ...notices, ...plan.notes].forEach((n) => req.onNotice?.(n));
    const ksm = await settleKsm(req.env ?? process.env, plan.hosts.length);
    if (ksm) req.onNotice?.(ksm);
    if (req.topologyFile) await copyTopology(plan.topologyFile, paths);
    const created = await prepareSessionFiles(plan, paths, req.qemunetCommand ?? ['qemunet'], req.signal);
    await recordBases(plan, new Set([...created, ...forced]));
    await registerSession(dir, req.env);
    if (req.sessionLink ?? true) {
      const problem = await linkSession(cwd, dir);
      if (problem) req.onNotice?.(`warning: ${problem}`);
    }
    const lab = new Lab(plan, paths, {
      accel,
      lock,
      consoleCommand: (host) => [...(req.qemunetCommand ?? ['qemunet']), 'console', host, '--session', dir],
      ...(req.switchConsoles
        ? { switchWindows: { kind: inputs.display === 'xterm' ? ('xterm' as const) : ('tmux' as const), command: (sw: string) => [...(req.qemunetCommand ?? ['qemunet']), 'switch', sw, '--session', dir] } }
        : {}),
      ...(req.stopTimeoutMs ? { stopTimeoutMs: req.stopTimeoutMs } : {}),
      ...(req.bootLimits ? { bootLimits: req.bootLimits } : {}),
      ...(accel === 'kvm' ? { tcgPlanOf: tcgPlanOf(effective, inputs, dir) } : {}),
      ...(req.onNotice ? { onNotice: req.onNotice } : {}),
      ...(req.ownerPid ? { ownerPid: req.ownerPid } : {}),
      ...(req.viewers ? { viewers: true } : {}),
      ...((req.env ?? process.env).DISPLAY ? { xDisplay: (req.env ?? process.env).DISPLAY! } : {}),
      ...bootSlotsFrom(req.env ?? process.env),
    });
    await lab.start(req.signal);
    return lab;
  } catch (e) {
    await lock.release();
    // A directory made for a restore that failed holds nothing of the user's.
    if (made && restoring && !(e instanceof QemunetError && e.code === 'VM_EXITED')) await rm(made, { recursive: true, force: true });
    throw e;
  }
}

/** `--from ARCHIVE|DIR` and `-a EXTRA.tgz`: the saved session's files, put into the session directory. */
async function restoreInto(req: UpRequest, dir: string, fromDir: string | undefined): Promise<void> {
  const cwd = req.cwd ?? process.cwd();
  if (req.from && !fromDir) {
    const archive = resolve(cwd, req.from);
    if (!(await isFile(archive))) throw new SessionError('FROM_MISSING', `saved session ${archive} does not exist`);
    await extractArchive(archive, dir, { needTopology: !req.topologyFile, ...(req.signal ? { signal: req.signal } : {}) });
  } else if (fromDir && fromDir !== dir) {
    await run('cp', ['-a', '--sparse=always', `${fromDir}/.`, dir]);
    await removeStaleRuntime(dir);
  } else if (fromDir) {
    await removeStaleRuntime(dir);
  }
  if (req.extraArchive) await extractArchive(resolve(cwd, req.extraArchive), dir, { needTopology: false, ...(req.signal ? { signal: req.signal } : {}) });
}

/** QEMUNET_BOOT_SLOTS: how many guests boot at once (tuning; the default follows the CPU count). */
function bootSlotsFrom(env: NodeJS.ProcessEnv): { bootSlots?: number } {
  const n = Number(env.QEMUNET_BOOT_SLOTS);
  return Number.isInteger(n) && n > 0 ? { bootSlots: n } : {};
}

const isDirectory = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** Checks a request as `up` would (topology, systems, options) without creating or starting anything. */
export async function checkUp(req: UpRequest): Promise<void> {
  planFor(req, await readInputs(req, intendedDir(req)), intendedDir(req), 'tcg');
}

/** The exact commands `up` would run, as a shell script, without running or creating anything. */
export async function dryRun(req: UpRequest): Promise<string> {
  const dir = intendedDir(req);
  const { plan } = await settledPlan(req, await readInputs(req, dir), dir);
  const lines = ['#!/bin/sh', `# qemunet up --dry-run: the commands of session ${dir}`, 'set -e', `mkdir -p ${shellCommand([join(dir, 'switch')])}`];
  for (const h of plan.hosts) lines.push(...kindOf(h).dryRunSetup(h));
  // qemunet holds each switch's stdin open instead; a script has to use daemon mode.
  for (const s of plan.switches) lines.push(shellCommand(['vde_switch', ...s.argv, '--daemon', '--pidfile', s.paths.pid]));
  plan.hosts.forEach((h, i) => {
    const prev = plan.hosts[i - 1];
    if (prev && h.wave !== prev.wave) lines.push(`sleep ${plan.waveDelays[h.wave]}`);
    lines.push(`${shellCommand(kindOf(h).command(h))} &`);
  });
  lines.push('wait');
  return `${lines.join('\n')}\n`;
}
