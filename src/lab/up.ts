import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { QemunetError, UsageError } from '../errors.js';
import { registerSession } from '../session/registry.js';
import { lockSession } from '../session/lock.js';
import { sessionPaths } from '../session/paths.js';
import { shellCommand } from '../process/shell-quote.js';
import { detectAccel } from '../vm/accel.js';
import { qemuArgv } from '../vm/qemu-argv.js';
import { loadCatalog } from './catalog.js';
import { Lab } from './lab.js';
import { planLab, SUPPORTED_DISPLAYS, type DisplayMode, type LabPlan } from './plan.js';
import type { Catalog } from '../config/catalog.js';
import type { Topology } from '../topology/types.js';
import type { VmSpec } from '../vm/qemu-argv.js';
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
  /** QemuNet's `session` link in the working directory (default on). */
  sessionLink?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Progress and notices for the user (one line each). */
  onNotice?: (message: string) => void;
  consoleCommand?: (host: string, sessionDir: string) => string[];
  stopTimeoutMs?: number;
  signal?: AbortSignal;
}

interface Inputs {
  topology: Topology;
  catalog: Catalog;
  configFiles: string[];
  accel: VmSpec['accel'];
  storeDir: string;
  display: DisplayMode;
}

/** Reads the topology and the catalog and settles the accelerator; notices are given once the plan holds. */
async function readInputs(req: UpRequest, dir: string): Promise<Inputs & { notices: string[] }> {
  const cwd = req.cwd ?? process.cwd();
  const env = req.env ?? process.env;
  const display = checkDisplay(req.display) ?? (env.DISPLAY ? 'xterm' : 'none');
  const file = req.topologyFile ? resolve(cwd, req.topologyFile) : sessionPaths(dir).topology;
  const { topology } = await readTopology(file);
  const { catalog, storeDir, configFiles, notes } = await loadCatalog({ ...(req.configFile ? { configFile: req.configFile } : {}), cwd, env });
  const verdict = req.accel === false ? { accel: 'tcg' as const } : await detectAccel({ cacheDir: join(storeDir, '..') });
  const notices = [...notes];
  if (req.accel !== false && verdict.accel === 'tcg') notices.push(`warning: KVM is not usable (${verdict.reason ?? 'no reason given'}); VMs run under TCG emulation, which is much slower`);
  return { topology, catalog, configFiles, accel: verdict.accel, storeDir, display, notices };
}

function planFor(req: UpRequest, inputs: Inputs, dir: string): LabPlan {
  const paths = sessionPaths(dir);
  return planLab(inputs.topology, inputs.catalog, paths, {
    accel: inputs.accel,
    aliases: req.aliases ?? new Map(),
    display: inputs.display,
    internet: req.internet ?? false,
    quiet: req.quiet ?? false,
    kernelArgs: req.kernelArgs ?? [],
    user: req.user ?? userInfo().username,
    mountDir: req.mountDir ?? true,
    mountDisk: req.mountDisk ?? true,
    ...(req.nicModel ? { nicModel: req.nicModel } : {}),
    existingDisks: new Set(inputs.topology.hosts.filter((h) => existsSync(paths.host(h.name).disk)).map((h) => h.name)),
    configFiles: inputs.configFiles,
  });
}

/** Where the session will be, before anything is created (a placeholder when it will be a new temporary one). */
function intendedDir(req: UpRequest): string {
  return req.sessionDir ? resolve(req.cwd ?? process.cwd(), req.sessionDir) : join(process.env.TMPDIR ?? '/tmp', 'qemunet-SESSION');
}

/** QemuNet's display modes that this version does not offer yet, refused by name. */
const LATER_DISPLAYS = ['graphic', 'vnc', 'spice', 'sdl', 'gtk', 'rxvt', 'gnome', 'xfce4', 'screen', 'socket'];

function checkDisplay(display: string | undefined): DisplayMode | undefined {
  if (display === undefined || (SUPPORTED_DISPLAYS as readonly string[]).includes(display)) return display as DisplayMode | undefined;
  if (LATER_DISPLAYS.includes(display)) throw new QemunetError('NOT_YET_SUPPORTED', `display mode ${display} is not supported yet; available: ${SUPPORTED_DISPLAYS.join(', ')}`);
  throw new UsageError(`unknown display mode "${display}"; available: ${SUPPORTED_DISPLAYS.join(', ')}`);
}

/**
 * Prepares a session (directory, lock, images, overlays) and starts it. The returned Lab is running;
 * its `ended` promise resolves after `stop()` or when every host has gone.
 */
export async function up(req: UpRequest): Promise<Lab> {
  const cwd = req.cwd ?? process.cwd();
  if (!req.topologyFile && !req.sessionDir) throw new QemunetError('USAGE', 'give a topology file (qemunet up FILE.topo) or a session directory (--session DIR)');
  // Bad input fails here, before a directory is made or anything runs.
  const inputs = await readInputs(req, intendedDir(req));
  const draft = planFor(req, inputs, intendedDir(req));
  await checkPrerequisites(draft, sessionPaths(draft.dir), inputs.storeDir, req.onNotice, req.signal);
  const dir = await sessionDirectory(req.sessionDir, req.topologyFile, cwd);
  const paths = sessionPaths(dir);
  const lock = await lockSession(paths.lock, dir);
  if (lock.tookOverFrom) req.onNotice?.(`took over the lock of session ${dir} from qemunet process ${lock.tookOverFrom}, which is gone`);
  try {
    const plan = planFor(req, inputs, dir);
    [...inputs.notices, ...plan.notes].forEach((n) => req.onNotice?.(n));
    const { accel } = inputs;
    if (req.topologyFile) await copyTopology(plan.topologyFile, paths);
    await prepareSessionFiles(plan, paths, req.signal);
    await registerSession(dir, req.env);
    if (req.sessionLink ?? true) {
      const problem = await linkSession(cwd, dir);
      if (problem) req.onNotice?.(`warning: ${problem}`);
    }
    const lab = new Lab(plan, paths, {
      accel,
      lock,
      consoleCommand: (host) => req.consoleCommand?.(host, dir) ?? ['qemunet', 'console', host, '--session', dir],
      ...(req.stopTimeoutMs ? { stopTimeoutMs: req.stopTimeoutMs } : {}),
    });
    await lab.start(req.signal);
    return lab;
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/** Checks a request as `up` would (topology, systems, options) without creating or starting anything. */
export async function checkUp(req: UpRequest): Promise<void> {
  planFor(req, await readInputs(req, intendedDir(req)), intendedDir(req));
}

/** The exact commands `up` would run, as a shell script, without running or creating anything. */
export async function dryRun(req: UpRequest): Promise<string> {
  const dir = intendedDir(req);
  const plan = planFor(req, await readInputs(req, dir), dir);
  const lines = ['#!/bin/sh', `# qemunet up --dry-run: the commands of session ${dir}`, 'set -e', `mkdir -p ${shellCommand([join(dir, 'switch')])}`];
  for (const h of plan.hosts) {
    lines.push(shellCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', h.system.fs, h.paths.overlay]));
    if (h.vm.shareDir) lines.push(shellCommand(['mkdir', '-p', h.vm.shareDir]));
  }
  // qemunet holds each switch's stdin open instead; a script has to use daemon mode.
  for (const s of plan.switches) lines.push(shellCommand(['vde_switch', ...s.argv, '--daemon', '--pidfile', s.paths.pid]));
  plan.hosts.forEach((h, i) => {
    const prev = plan.hosts[i - 1];
    if (prev && h.wave !== prev.wave) lines.push(`sleep ${plan.waveDelays[h.wave]}`);
    lines.push(`${shellCommand(['qemu-system-x86_64', ...qemuArgv(h.vm)])} &`);
  });
  lines.push('wait');
  return `${lines.join('\n')}\n`;
}
