import { constants } from 'node:fs';
import { access, copyFile, lstat, mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { QemunetError, SessionError } from '../../errors.js';
import { buildBuiltinImage } from '../../images/builtin.js';
import { hasProgram } from '../../process/run.js';
import { missingProgramMessage } from '../../process/programs.js';
import { shellCommand } from '../../process/shell-quote.js';
import { tooLongSocketPaths, type SessionPaths } from '../../session/paths.js';
import { parseTopology } from '../../topology/parse.js';
import { resolveTopology } from '../../topology/resolve.js';
import type { Topology } from '../../topology/types.js';
import { kindOf, kindOfSystem } from '../kinds/index.js';
import type { LabPlan } from '../plan.js';

/** Reads and checks a topology file; unreadable or empty files get a clear error. */
/**
 * Reads and resolves a topology file. `hostNetwork: false` refuses TAP lines, which plug a tap
 * interface of this machine into a switch and give it an address: not for a lab whose file came
 * from elsewhere (a web page's labs folder).
 */
export async function readTopology(file: string, options: { hostNetwork?: boolean } = {}): Promise<{ text: string; topology: Topology }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${code})`;
    throw new QemunetError('TOPOLOGY_UNREADABLE', `topology file ${file} ${why}`);
  }
  if (!text.trim()) throw new QemunetError('TOPOLOGY_EMPTY', `topology file ${file} is empty; it needs SWITCH and HOST lines (see QemuNet's demo/*.topo)`);
  const raw = parseTopology(text, file);
  const tap = options.hostNetwork === false ? raw.statements.find((s) => s.kind === 'tap') : undefined;
  if (tap) {
    throw new QemunetError('TAP_REFUSED', `${file}:${tap.line}:1: TAP ${tap.name} would plug a tap interface of this machine into ${tap.switch}${tap.address ? ` with the address ${tap.address}` : ''}, and a lab started from the web page may not change this machine's network; start this lab from the command line: qemunet up ${file}`);
  }
  return { text, topology: resolveTopology(raw) };
}

/**
 * `--session DIR` (created if missing, never wiped), else a new unique directory under $TMPDIR. A
 * directory made here is private (0700, as mkdtemp makes them): it holds the session's sockets.
 */
export async function sessionDirectory(requested: string | undefined, topologyFile: string | undefined, cwd: string): Promise<string> {
  if (!requested) {
    const stem = topologyFile ? basename(topologyFile).replace(/\.topo$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') : 'session';
    return realpath(await mkdtemp(join(tmpdir(), `qemunet-${stem}-`)));
  }
  const dir = resolve(cwd, requested);
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new SessionError('SESSION_NOT_DIR', `session path ${dir} exists and is not a directory`);
  if (!existing) await mkdir(dir, { recursive: true, mode: 0o700 });
  await access(dir, constants.W_OK).catch(() => {
    throw new SessionError('SESSION_READONLY', `session directory ${dir} is not writable`);
  });
  return realpath(dir);
}

/** QemuNet's `session` link in the working directory. Only a link is ever replaced, never a real file. */
export async function linkSession(cwd: string, dir: string): Promise<string | undefined> {
  const link = join(cwd, 'session');
  const current = await lstat(link).catch(() => undefined);
  if (current && !current.isSymbolicLink()) return `not making the "session" link in ${cwd}: a file or directory of that name exists`;
  try {
    if (current) {
      if ((await readlink(link)) === dir) return undefined;
      await rm(link);
    }
    await symlink(dir, link);
    return undefined;
  } catch (e) {
    return `could not make the "session" link in ${cwd} (${(e as NodeJS.ErrnoException).code})`;
  }
}

/** Everything a session needs before anything starts, so a missing piece fails before the first process. */
export async function checkPrerequisites(plan: LabPlan, paths: SessionPaths, storeDir: string, onProgress?: (msg: string) => void, signal?: AbortSignal): Promise<void> {
  for (const program of new Set(['vde_switch', ...plan.hosts.flatMap((h) => kindOf(h).programs)])) {
    if (!(await hasProgram(program))) throw new QemunetError('PROGRAM_MISSING', missingProgramMessage(program));
  }
  const tooLong = tooLongSocketPaths(paths, plan.hosts.map((h) => h.name), plan.switches.map((s) => s.name));
  if (tooLong.length) throw new SessionError('SESSION_PATH_TOO_LONG', `the session directory ${paths.dir} is too deep for unix sockets (at most 107 bytes, e.g. ${tooLong[0]}); use a shorter --session path`);
  const systems = new Map(plan.hosts.map((h) => [h.system.name, h.system]));
  for (const system of systems.values()) {
    if (system.builtin) {
      let phase = '';
      const progress = (p: { phase: string }) => {
        if (p.phase !== phase) onProgress?.(`building the built-in image ${system.builtin}: ${(phase = p.phase)}`);
      };
      await buildBuiltinImage(system.builtin, { storeDir, ...(signal ? { signal } : {}), onProgress: progress });
    }
    await kindOfSystem(system).checkSystem(system);
  }
}

/** Overlays, share directories and `<host>.sh` scripts; existing overlays and files are kept. Gives the hosts whose overlay it made. */
export async function prepareSessionFiles(plan: LabPlan, paths: SessionPaths, qemunet: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
  const created = new Set<string>();
  // Private like the session directory, also when that one is the user's and open to others.
  await mkdir(join(paths.dir, 'switch'), { recursive: true, mode: 0o700 });
  await Promise.all(
    plan.hosts.map(async (h) => {
      const kind = kindOf(h);
      if (await kind.prepare(h, signal)) created.add(h.name);
      await writeFile(h.paths.script, hostScript(h.name, [...qemunet, 'restart', h.name, '--session', paths.dir], kind.command(h)), { mode: 0o755 });
    }),
  );
  return created;
}

/** QemuNet's `<host>.sh`: here it asks the running session to start the host again; the QEMU command line is kept for reference. */
function hostScript(host: string, restart: readonly string[], qemu: readonly string[]): string {
  return `#!/bin/sh\n# Starts host ${host} again in its running session, on the same switch ports (after a crash or a power-off).\n# Written by qemunet. The VM's QEMU command line, for reference:\n# ${shellCommand(qemu)}\nexec ${shellCommand(restart)}\n`;
}

/** The topology is kept in the session as `topology`, as QemuNet does. */
export async function copyTopology(from: string, paths: SessionPaths): Promise<void> {
  const same = await Promise.all([realpath(from), realpath(paths.topology).catch(() => '')]).then(([a, b]) => a === b);
  if (!same) await copyFile(from, paths.topology);
}
