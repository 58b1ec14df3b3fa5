import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { QemunetError } from '../errors.js';
import { pollUntil } from './poll.js';
import { missingProgramMessage } from './programs.js';
import { PRIVATE_UMASK, withUmask } from './umask.js';

export interface StartOptions {
  stdio: StdioOptions;
  /**
   * A parent-death signal (through setpriv): the program dies with qemunet, even after a SIGKILL of
   * qemunet. KILL for what holds a switch port or a guest; TERM for windows, which then close cleanly.
   */
  tiedTo?: 'KILL' | 'TERM';
  /** The program makes sockets (QMP, switch control, wirefilter management): owner-only from the start. */
  privateSockets?: boolean;
  /** Its own process group (default): a terminal's Ctrl-C reaches qemunet only, which then stops it in order. */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** argv that runs `program` with a parent-death signal. */
export function tiedArgv(signal: 'KILL' | 'TERM', argv: readonly string[]): string[] {
  return ['setpriv', '--pdeathsig', signal, '--', ...argv];
}

/**
 * The one way qemunet starts a long-lived program (a VM, a switch, a plug, a window, a server):
 * `started` resolves once it runs, or rejects naming the Debian package when it is not installed.
 * (Programs run to completion go through run.ts.)
 */
export function spawnProcess(program: string, args: readonly string[], o: StartOptions): { child: ChildProcess; started: Promise<void> } {
  const [cmd, ...cmdArgs] = o.tiedTo ? tiedArgv(o.tiedTo, [program, ...args]) : [program, ...args];
  const launch = () => spawn(cmd!, cmdArgs, { stdio: o.stdio, detached: o.detached ?? true, ...(o.env ? { env: o.env } : {}) });
  const child = o.privateSockets ? withUmask(PRIVATE_UMASK, launch) : launch();
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new QemunetError('PROGRAM_MISSING', missingProgramMessage(cmd!), { cause: e }) : e));
  });
  return { child, started };
}

/** spawnProcess, resolved once the program runs. */
export async function startProcess(program: string, args: readonly string[], o: StartOptions): Promise<ChildProcess> {
  const { child, started } = spawnProcess(program, args, o);
  await started;
  return child;
}

/** Whether any process of group `pgid` is left (a zombie not yet reaped counts). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* no such group: the program did not make one */
  }
  child.kill(signal);
}

/**
 * Ends a long-lived program and its process group (a detached vde_plug; dpipe and its stages):
 * SIGTERM, SIGKILL after `timeoutMs`, and resolves only once none of them is left, so a teardown
 * that awaits it leaves nothing behind, even on a loaded machine where exits take a while.
 */
export async function endProcess(child: ChildProcess, timeoutMs = 2000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const gone = () => (exited() && !groupAlive(pid) ? true : undefined);
  if (gone()) return;
  signalAll(child, 'SIGTERM');
  if (await pollUntil(gone, { timeoutMs, intervalMs: 10, maxIntervalMs: 100 })) return;
  signalAll(child, 'SIGKILL');
  await pollUntil(gone, { timeoutMs: 10000, intervalMs: 10, maxIntervalMs: 100 });
}
