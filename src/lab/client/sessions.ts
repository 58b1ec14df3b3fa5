import { realpath, stat } from 'node:fs/promises';
import { nicRefOf } from '../../protocol/names.js';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from '../../process/poll.js';
import { QemunetError, SessionError } from '../../errors.js';
import { processIdentity } from '../../process/identity.js';
import { processAlive } from '../../process/alive.js';
import { heldBy } from '../../session/lock.js';
import { sessionPaths } from '../../session/paths.js';
import { forgetSession, registeredSessions } from '../../session/registry.js';
import { GuestAgent } from '../../vm/guest-agent.js';
import { execStreaming } from '../../vm/guest-exec-stream.js';
import { MgmtClient } from '../../switch/mgmt-client.js';
import { wireInfo } from '../../switch/wirefilter.js';
import { parseLinkSettings } from '../../protocol/faults.js';
import { FINAL_HOST_STATES, LIVE_SESSION_PHASES } from '../../protocol/states.js';
import type { MgmtReply } from '../../switch/mgmt-protocol.js';
import { controlHold, controlRequest } from './control-client.js';
import { readState, writeState, type SessionState } from '../state.js';


/**
 * A session's state as recorded, corrected by what is actually alive: a session whose qemunet
 * process is gone (SIGKILL, crash, reboot) took its VMs along, so it is reported stopped. The
 * process counts as alive only while it holds the session's lock as the same process (see
 * `heldBy`): after a reboot its pid may be any other process's.
 */
export async function sessionStatus(dir: string): Promise<SessionState> {
  const state = await readState(sessionPaths(dir).state);
  if (!state) throw new SessionError('SESSION_UNKNOWN', `${dir} is not a qemunet session (no ${sessionPaths(dir).state})`);
  if (LIVE_SESSION_PHASES.has(state.phase) && !(await heldBy(sessionPaths(dir).lock, state.pid))) {
    state.phase = 'stopped';
    state.error = `qemunet process ${state.pid} is gone`;
    for (const h of state.hosts) if (!FINAL_HOST_STATES.has(h.state)) h.state = 'stopped';
  }
  return state;
}

export function isLive(state: SessionState): boolean {
  return LIVE_SESSION_PHASES.has(state.phase);
}

/** Every session qemunet remembers, newest state first; directories that are gone are forgotten. */
export async function listSessions(env?: NodeJS.ProcessEnv): Promise<SessionState[]> {
  const out: SessionState[] = [];
  for (const dir of await registeredSessions(env)) {
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
      await forgetSession(dir, env);
      continue;
    }
    const state = await sessionStatus(dir).catch(() => undefined);
    if (state) out.push(state);
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** `--session DIR`, else the only running session; several or none is an error that says what to do. */
export async function findSession(requested: string | undefined, options: { cwd?: string; env?: NodeJS.ProcessEnv; allowStopped?: boolean } = {}): Promise<string> {
  if (requested) {
    const dir = await realpath(resolve(options.cwd ?? process.cwd(), requested)).catch(() => {
      throw new SessionError('SESSION_UNKNOWN', `session directory ${requested} does not exist`);
    });
    await sessionStatus(dir);
    return dir;
  }
  const live = (await listSessions(options.env)).filter(isLive);
  if (live.length === 1) return live[0]!.dir;
  if (!live.length && options.allowStopped) throw new SessionError('NO_SESSION', 'no qemunet session is running; name a stopped one with --session DIR');
  if (!live.length) throw new SessionError('NO_SESSION', 'no qemunet session is running; start one with "qemunet up TOPOLOGY", or name one with --session DIR');
  throw new SessionError('SESSION_AMBIGUOUS', `${live.length} sessions are running; choose one with --session:\n${live.map((s) => `  ${s.dir}  (${s.topology})`).join('\n')}`);
}

/** How long the session's process has to answer a `stop` over its control socket (it answers before stopping). */
const STOP_ANSWER_MS = 10000;
/** How long down waits for the session's process to exit once it let the lock go. */
const EXIT_GRACE_MS = 10000;

/**
 * Stops a running session and waits until its qemunet process has let it go and exited. It is asked
 * over the session's control socket; only when nothing answers there is it sent SIGTERM (as Ctrl-C),
 * and only once the session's lock shows the recorded pid is still that process: after a crash or
 * a reboot the pid may be anybody's. A session whose process is gone is marked stopped.
 */
export async function down(dir: string, options: { timeoutMs?: number } = {}): Promise<SessionState> {
  const paths = sessionPaths(dir);
  const recorded = await readState(paths.state);
  if (!recorded || !isLive(recorded)) {
    await sessionStatus(dir);
    throw new SessionError('SESSION_NOT_RUNNING', `session ${dir} is not running`);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60000);
  const answer = await askToStop(paths.control);
  let pid: number;
  if (answer !== undefined) {
    pid = answer;
  } else {
    pid = recorded.pid;
    if (!(await heldBy(paths.lock, pid))) {
      await markStopped(dir, pid);
      throw new SessionError('SESSION_NOT_RUNNING', `session ${dir} is not running (its qemunet process is gone)`);
    }
    // It refuses "stop" while starting, and SIGTERM aborts the start. One already stopping needs no
    // signal: a second one (after a Ctrl-C) would kill everything at once.
    if ((await readState(paths.state))?.phase !== 'stopping') signal(pid, 'SIGTERM');
  }
  // The process is known for sure now; a pid that later belongs to another process is never signalled.
  const identity = processIdentity(pid);
  const same = () => identity !== undefined && processIdentity(pid) === identity;
  // It lets the lock go once the session is down (and a qemunet command exits right after).
  const gone = await pollUntil(async () => (same() && (await heldBy(paths.lock, pid)) ? undefined : true), { timeoutMs: Math.max(0, deadline - Date.now()) });
  if (!gone) {
    // Its VMs and switches die with it (parent-death signal, stdin EOF).
    signal(pid, 'SIGKILL');
    await sleep(200);
  } else if (pid !== process.pid) {
    // The lock goes a moment before the process does (its last output, Node's exit): down returns
    // when nothing of the session runs, that process included. One that stays (a program running
    // the session through the API) is left alone: the session is down.
    await pollUntil(() => (same() && processAlive(pid) ? undefined : true), { timeoutMs: Math.min(EXIT_GRACE_MS, Math.max(0, deadline - Date.now())) });
  }
  return sessionStatus(dir);
}

/** The pid of the session's process once it agreed to stop; undefined when it refused (starting, stopping) or nothing answered. */
async function askToStop(control: string): Promise<number | undefined> {
  const pid = await controlRequest(control, { cmd: 'stop' }, STOP_ANSWER_MS).catch(() => undefined);
  return typeof pid === 'number' ? pid : undefined;
}

/** A process that has exited meanwhile needs no signal. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Records that a session's process is gone, unless another process took the session over meanwhile. */
async function markStopped(dir: string, deadPid: number): Promise<void> {
  const state = await sessionStatus(dir);
  if (state.pid === deadPid && !isLive(state)) await writeState(sessionPaths(dir).state, state);
}

/** Runs a program in a guest through the QEMU guest agent, handing over its output as it comes; resolves with its exit status. */
export async function execInHost(dir: string, host: string, argv: readonly string[], io: { onStdout(d: Buffer): void; onStderr(d: Buffer): void; timeoutMs?: number }): Promise<number> {
  const state = await sessionStatus(dir);
  const h = state.hosts.find((x) => x.name === host);
  if (!h) throw new QemunetError('UNKNOWN_HOST', `session ${dir} has no host ${host}; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
  if (!h.agent) throw new QemunetError('NO_AGENT', `host ${host} runs system ${h.system}, which has no QEMU guest agent channel; use "qemunet console ${host}"`);
  if (!isLive(state) || FINAL_HOST_STATES.has(h.state) || h.state === 'pending') throw new QemunetError('HOST_NOT_RUNNING', `host ${host} is not running (${h.state})`);
  const [path, ...args] = argv;
  if (!path) throw new QemunetError('USAGE', 'give the command to run: qemunet exec HOST -- COMMAND [ARGS...]');
  const signal = AbortSignal.timeout(io.timeoutMs ?? 3600000);
  const agent = await GuestAgent.connect(sessionPaths(dir).host(host).agent, signal).catch((e: Error) => {
    throw new QemunetError('AGENT_UNAVAILABLE', signal.aborted ? `the guest agent of ${host} did not answer in time (still booting?)` : `cannot reach the guest agent of ${host}: ${e.message}`);
  });
  try {
    return await execStreaming(agent, path, args, { onStdout: io.onStdout, onStderr: io.onStderr, signal });
  } catch (e) {
    if (signal.aborted) throw new QemunetError('EXEC_TIMEOUT', `${argv.join(' ')} on ${host} did not finish within ${Math.round((io.timeoutMs ?? 3600000) / 1000)} s`);
    throw e;
  } finally {
    agent.close();
  }
}

/** Starts a stopped or crashed host again in its running session, on the same switch ports. */
export async function restartHost(dir: string, host: string): Promise<void> {
  const state = await sessionStatus(dir);
  if (!isLive(state)) throw new SessionError('SESSION_NOT_RUNNING', `session ${dir} is not running; start it with qemunet up --from ${dir}`);
  await controlRequest(sessionPaths(dir).control, { cmd: 'restart', host });
}

/** Runs one vde_switch management command on a switch of a running session (`qemunet switch SW -- CMD`). */
export async function switchCommand(dir: string, name: string, command: string): Promise<MgmtReply> {
  const state = await sessionStatus(dir);
  if (!state.switches.some((s) => s.name === name)) throw new QemunetError('UNKNOWN_SWITCH', `session ${dir} has no switch ${name}; switches: ${state.switches.map((s) => s.name).join(', ') || 'none'}`);
  if (!isLive(state)) throw new SessionError('SESSION_NOT_RUNNING', `session ${dir} is not running`);
  const client = await MgmtClient.connect(sessionPaths(dir).switch(name).mgmt, name);
  try {
    return await client.send(command);
  } finally {
    client.close();
  }
}

/** `HOST:ethN` as the link and capture commands name a NIC. */
export function parseNicRef(ref: string): { host: string; nic: number } {
  const nic = nicRefOf(ref);
  if (!nic) throw new QemunetError('USAGE', `"${ref}" does not name a NIC; write HOST:ethN, like syl:eth0`);
  return nic;
}

/** Sets a NIC's link down or up: the guest sees its carrier go and come back. */
export async function setLink(dir: string, ref: string, up: boolean): Promise<void> {
  const { host, nic } = parseNicRef(ref);
  await controlRequest(sessionPaths(dir).control, { cmd: 'link', host, nic, up });
}

/** Starts writing a NIC's frames to a pcap file; it stops when `stop()` is called or this process ends. */
export async function startCapture(dir: string, ref: string, file: string): Promise<{ stop(): Promise<void>; closed: Promise<void> }> {
  const { host, nic } = parseNicRef(ref);
  const held = await controlHold(sessionPaths(dir).control, { cmd: 'capture', host, nic, file });
  return {
    stop: async () => {
      // Answered once QEMU has closed the file; closing the connection alone would also end it.
      await controlRequest(sessionPaths(dir).control, { cmd: 'capture-stop', id: held.result }).catch(() => {});
      held.close();
    },
    // The session ends the capture when it stops (its control connection closes).
    closed: held.closed,
  };
}

/** Where a session's files are (for messages and logs). */
export { sessionPaths };

/**
 * Changes a NIC's faults through the session, which owns the wirefilters: it puts one in live when
 * the NIC has none, and records the faults in its state. Returns the wirefilter's summary.
 */
export async function setLinkFaults(dir: string, ref: string, settings: ReadonlyArray<[string, string]>): Promise<string[]> {
  const { host, nic } = parseNicRef(ref);
  const parsed = parseLinkSettings(settings);
  if (!parsed.ok) throw new QemunetError('LINK_SETTING', parsed.problem);
  return (await controlRequest(sessionPaths(dir).control, { cmd: 'faults', host, nic, faults: parsed.faults })).wirefilter;
}

/** The wirefilter's own summary of a NIC's faults (read, not changed), or undefined when the NIC has no wirefilter. */
export async function linkFaultsInfo(dir: string, ref: string): Promise<string[] | undefined> {
  const { host, nic } = parseNicRef(ref);
  const mgmt = sessionPaths(dir).host(host).wireMgmt(nic);
  const exists = await stat(mgmt).then((s) => s.isSocket(), () => false);
  return exists ? wireInfo(mgmt, ref) : undefined;
}
