import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcessError } from '../errors.js';
import { isListening } from '../process/listening.js';
import { pollUntil } from '../process/poll.js';
import { spawnProcess } from '../process/start.js';
import { settlesWithin } from '../process/within.js';
import { ballastSize, CtlBallast } from './ctl-ballast.js';

/** A switch makes its control socket in milliseconds; this long means it is stuck. */
const SWITCH_START_MS = 30000;

export interface SwitchLaunch {
  name: string;
  argv: readonly string[];
  /** The switch's socket directory; `ctl` appears in it once it accepts plugs. */
  socket: string;
  logFile: string;
  /** How many ports the session plugs into it (its ballast is sized from this: see CtlBallast). */
  portsInUse: number;
  signal?: AbortSignal;
}

/** A running vde_switch. Its stdin is a pipe from qemunet: closing it (or qemunet dying) ends the switch. */
export class RunningSwitch {
  readonly exited: Promise<number | null>;
  ballast?: CtlBallast;
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** EOF on stdin is vde_switch's own clean exit (it removes its sockets); SIGKILL if it does not go. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.ballast?.close();
    if (!this.running) return;
    this.child.stdin?.end();
    if (!(await settlesWithin(this.exited, timeoutMs))) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

export async function launchSwitch(l: SwitchLaunch): Promise<RunningSwitch> {
  const logFd = openSync(l.logFile, 'a');
  // vde_switch chmods its sockets (-mode, -mgmtmode) after binding them: the umask closes that window.
  const { child, started } = spawnProcess('vde_switch', l.argv, { stdio: ['pipe', logFd, logFd], privateSockets: true });
  closeSync(logFd);
  child.stdin!.on('error', () => {});
  await started;
  const sw = new RunningSwitch(l.name, child);
  const ctl = join(l.socket, 'ctl');
  // vde_switch makes `ctl` before its management socket, which what comes next (wirefilters, VLANs,
  // `.cmd` files) talks to: up once both answer (under load a restore once found it refusing).
  const mgmt = switchMgmtSocket(l.argv);
  const up = await pollUntil(
    async () => {
      if (!sw.running) {
        const output = readTail(l.logFile);
        throw new ProcessError('SWITCH_FAILED', `switch ${l.name}: vde_switch exited at start${output ? `:\n${output}` : ''}`, ['vde_switch', ...l.argv], child.exitCode, output);
      }
      return ((await stat(ctl).then((s) => s.isSocket(), () => false)) && (!mgmt || (await isListening(mgmt)))) || undefined;
    },
    { timeoutMs: SWITCH_START_MS, intervalMs: 5, maxIntervalMs: 100, ...(l.signal ? { signal: l.signal } : {}) },
  ).catch(async (e: unknown) => {
    await sw.stop();
    throw e;
  });
  if (up) {
    try {
      sw.ballast = await CtlBallast.open(ctl, ballastSize(l.portsInUse), l.name);
    } catch (e) {
      await sw.stop();
      throw e;
    }
    return sw;
  }
  await sw.stop();
  throw new ProcessError('SWITCH_FAILED', `switch ${l.name}: vde_switch's control socket (${ctl}) and management socket did not answer within ${SWITCH_START_MS / 1000} s`, ['vde_switch', ...l.argv], null, readTail(l.logFile));
}

/** The `-mgmt` socket of a vde_switch command line (vdeSwitchArgv's), if it has one. */
export function switchMgmtSocket(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('-mgmt');
  return at >= 0 ? argv[at + 1] : undefined;
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}
