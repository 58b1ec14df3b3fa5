import { join, resolve } from 'node:path';
import { rm, stat, writeFile } from 'node:fs/promises';
import { readChecksFor, writeParamsFiles } from './lab-checks.js';
import { QemunetError, SessionError } from '../../errors.js';
import { run } from '../../process/run.js';
import { checkBases, recordBases } from './base-record.js';
import { extractArchive, removeStaleRuntime } from './restore.js';
import { registerSession } from '../../session/registry.js';
import { lockSession } from '../../session/lock.js';
import { sessionPaths } from '../../session/paths.js';
import { shellCommand } from '../../process/shell-quote.js';
import { kindOf } from '../kinds/index.js';
import { settleKsm } from '../../vm/ksm.js';
import { Lab } from './lab.js';
import type { HostPlan } from '../plan.js';
import type { RunningSession } from './running-session.js';
import type { UpSettings } from './settings.js';
import { checkPlanned, planned, replanned, settleAccel, type Planned } from './up-plan.js';
import { copyTopology, intendedSessionDir, linkSession, makeSessionDirectory, prepareSessionFiles } from './prepare.js';

export type { UpSettings, LabEnvironment } from './settings.js';

/** A host's plan under TCG, for a guest that hangs under KVM (the whole lab is planned so once, when first asked). */
function tcgPlanOf(s: UpSettings, p: Planned): (host: string) => HostPlan {
  let tcg: Planned | undefined;
  return (host) => (tcg ??= replanned(s, p, p.plan.dir, 'tcg')).plan.hosts.find((h) => h.name === host)!;
}

/** Where a dry run says the session would be (a placeholder when it would be a new temporary one). */
function dryRunDir(s: UpSettings): string {
  return s.sessionDir ? resolve(s.cwd ?? process.cwd(), s.sessionDir) : join(s.environment.tmpDir, 'qemunet-SESSION');
}

/**
 * Prepares a session (directory, lock, images, overlays) and starts it. The inputs are read and the
 * lab planned once, with the paths of the directory it will have; it is planned again only when the
 * accelerator settles on another one than expected. The returned session is running; its `ended`
 * promise resolves after `stop()` or when every host has gone.
 */
export async function up(s: UpSettings): Promise<RunningSession> {
  const cwd = s.cwd ?? process.cwd();
  if (!s.topologyFile && !s.sessionDir && !s.from) throw new QemunetError('BAD_REQUEST', 'give a topology file, a session directory or a saved session to start');
  const restoring = Boolean(s.from || s.extraArchive);
  const fromDir = s.from && (await isDirectory(resolve(cwd, s.from))) ? resolve(cwd, s.from) : undefined;
  // A saved session directory without a session directory of its own is run where it is, as QemuNet's -S does.
  const requestedDir = s.sessionDir ?? fromDir;
  const intended = await intendedSessionDir(requestedDir, s.topologyFile ?? s.from, cwd, s.environment.tmpDir);
  // Bad input fails here, before a directory is made or anything runs (a restored topology is read once it is there).
  let checked: Planned | undefined;
  if (!restoring) {
    checked = await planned(s, intended.dir);
    await checkPlanned(s, checked);
  }
  let checks = !restoring && s.checksFile ? await readChecksFor(checked!.plan, resolve(cwd, s.checksFile)) : undefined;
  const dir = await makeSessionDirectory(intended);
  const made = intended.fresh ? dir : undefined;
  const paths = sessionPaths(dir);
  const lock = await lockSession(paths.lock, dir);
  if (lock.tookOverFrom) s.onNotice?.(`took over the lock of session ${dir} from qemunet process ${lock.tookOverFrom}, which is gone`);
  try {
    if (restoring) {
      await restoreInto(s, dir, fromDir);
      checked = await planned(s, dir);
      await checkPlanned(s, checked);
      if (s.checksFile) checks = await readChecksFor(checked.plan, resolve(cwd, s.checksFile));
    }
    const { accel, notices } = await settleAccel(s, checked!.plan, checked!.inputs.storeDir);
    const final = replanned(s, checked!, dir, accel);
    const { plan, inputs } = final;
    const forced = await checkBases(plan, join(inputs.storeDir, '..'), s.force ?? false, (m) => s.onNotice?.(m));
    [...inputs.notes, ...notices, ...plan.notes].forEach((n) => s.onNotice?.(n));
    const ksm = await settleKsm(s.ksm, plan.hosts.length);
    if (ksm) s.onNotice?.(ksm);
    if (s.topologyFile) await copyTopology(plan.topologyFile, paths);
    if (checks !== undefined) await writeFile(paths.checks, checks);
    const qemunet = s.qemunetCommand ?? ['qemunet'];
    const created = await prepareSessionFiles(plan, paths, qemunet, s.signal);
    await writeParamsFiles(plan, paths, (m) => s.onNotice?.(m));
    await recordBases(plan, new Set([...created, ...forced]));
    await registerSession(dir, s.environment.registryDir);
    if (s.sessionLink ?? true) {
      const problem = await linkSession(cwd, dir);
      if (problem) s.onNotice?.(`warning: ${problem}`);
    }
    const lab = new Lab(plan, paths, {
      accel,
      lock,
      consoleCommand: (host) => [...qemunet, 'console', host, '--session', dir],
      ...(s.switchConsoles
        ? { switchWindows: { kind: inputs.display === 'xterm' ? ('xterm' as const) : ('tmux' as const), command: (sw: string) => [...qemunet, 'switch', sw, '--session', dir] } }
        : {}),
      ...(s.stopTimeoutMs ? { stopTimeoutMs: s.stopTimeoutMs } : {}),
      ...(s.bootLimits ? { bootLimits: s.bootLimits } : {}),
      ...(accel === 'kvm' ? { tcgPlanOf: tcgPlanOf(s, final) } : {}),
      ...(s.onNotice ? { onNotice: s.onNotice } : {}),
      ...(s.ownerPid ? { ownerPid: s.ownerPid } : {}),
      ...(s.viewers ? { viewers: true } : {}),
      ...(s.environment.xDisplay ? { xDisplay: s.environment.xDisplay } : {}),
      ...(s.bootSlots ? { bootSlots: s.bootSlots } : {}),
    });
    await lab.start(s.signal);
    return lab;
  } catch (e) {
    await lock.release();
    // A directory made for a restore that failed holds nothing of the user's.
    if (made && restoring && !(e instanceof QemunetError && e.code === 'VM_EXITED')) await rm(made, { recursive: true, force: true });
    throw e;
  }
}

/** A saved session (archive or directory) and an extra archive: their files, put into the session directory. */
async function restoreInto(s: UpSettings, dir: string, fromDir: string | undefined): Promise<void> {
  const cwd = s.cwd ?? process.cwd();
  if (s.from && !fromDir) {
    const archive = resolve(cwd, s.from);
    if (!(await isFile(archive))) throw new SessionError('FROM_MISSING', `saved session ${archive} does not exist`);
    await extractArchive(archive, dir, { needTopology: !s.topologyFile, ...(s.signal ? { signal: s.signal } : {}) });
  } else if (fromDir && fromDir !== dir) {
    await run('cp', ['-a', '--sparse=always', `${fromDir}/.`, dir]);
    await removeStaleRuntime(dir);
  } else if (fromDir) {
    await removeStaleRuntime(dir);
  }
  if (s.extraArchive) await extractArchive(resolve(cwd, s.extraArchive), dir, { needTopology: false, ...(s.signal ? { signal: s.signal } : {}) });
}

const isDirectory = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** Checks settings as `up` would (topology, systems, options) without creating or starting anything. */
export async function checkUp(s: UpSettings): Promise<void> {
  await planned(s, dryRunDir(s));
}

/** The exact commands `up` would run, as a shell script, without running or creating anything. */
export async function dryRun(s: UpSettings): Promise<string> {
  const dir = dryRunDir(s);
  const expected = await planned(s, dir);
  const { accel } = await settleAccel(s, expected.plan, expected.inputs.storeDir);
  const { plan } = replanned(s, expected, dir, accel);
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
