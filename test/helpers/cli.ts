import './owned.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../src/process/alive.js';
import { pollUntil } from '../../src/process/poll.js';
import { readState, type SessionState } from '../../src/lab/state.js';
import { sessionPaths } from '../../src/session/paths.js';

export const QEMUNET = fileURLToPath(new URL('../../../bin/qemunet', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the qemunet CLI as a user would, to completion. */
export function qemunet(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [QEMUNET, ...args], { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 300000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Starts the CLI in the foreground (as `qemunet up` runs in a terminal), for signal tests. */
export function qemunetForeground(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [QEMUNET, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every process of a session as its state file records them: qemunet itself, VMs, switches. */
export function sessionPids(state: SessionState): number[] {
  return [state.pid, ...state.hosts.flatMap((h) => (h.pid ? [h.pid] : [])), ...state.switches.flatMap((s) => (s.pid ? [s.pid] : []))];
}

export function alivePids(pids: readonly number[]): number[] {
  return pids.filter(processAlive);
}

/** Polls until `check` returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const value = await pollUntil(check, { timeoutMs, intervalMs: 100 });
  if (value === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return value;
}

export async function stateOf(dir: string): Promise<SessionState | undefined> {
  return readState(sessionPaths(dir).state);
}

/** Each host's `<session>/<host>/start.sh`, as a teacher prepares a QemuNet session: an address on eth0. */
export async function addressScripts(dir: string, addresses: Record<string, string>): Promise<void> {
  for (const [host, cidr] of Object.entries(addresses)) {
    await mkdir(`${dir}/${host}`, { recursive: true });
    await writeFile(`${dir}/${host}/start.sh`, `#!/bin/sh\nip addr add ${cidr} dev eth0\n`);
  }
}

/** Processes whose command line names the session directory: any VM, switch or helper left behind. */
export async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir)) found.push(`${pid}: ${cmd.replace(/\0/g, ' ').slice(0, 120)}`);
  }
  return found;
}
