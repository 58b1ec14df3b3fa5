import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { QemunetError, UsageError } from '../errors.js';
import { checkUp, dryRun, FileFollower, isLive, launchWeb, SessionClient, sessionDirectory, topologyArgument, up, type RunningSession, type SessionState, type StateSubscription, type UpSettings } from '../api/index.js';
import { FINAL_HOST_STATES } from '../protocol/session-state.js';
import { QEMUNET_MAIN, startQemunetInBackground } from '../api/background.js';
import { pullCommand } from './image-command.js';
import { LiveStatus } from './live-status.js';
import { renderStatus } from './status-view.js';
import { upSettings } from './lab-settings.js';
import { parseUpOptions, type UpOptions } from './up-options.js';

export const UP_USAGE = `usage: qemunet up TOPOLOGY [options]      (or QemuNet's form: qemunet -t TOPOLOGY [options])
  --session DIR, -S DIR  session directory (created if missing, never wiped); default: new one under $TMPDIR
  --from ARCHIVE|DIR, -s ARCHIVE  restore a saved session (qemunet save, or QemuNet's own .tgz)
  -a ARCHIVE             extract an archive into the session before it starts
  --force                start even if a restored overlay's base image differs (with a warning)
  --alias NAME=SYSTEM    run the topology's system NAME as SYSTEM (repeatable), e.g. --alias debian=tiny
  --detach, -b           leave the session running in the background and return
  --wait                 return once every host is ready (implies --detach); --timeout SECONDS (default 300)
  --checks FILE          the lab checks (see qemunet check): checked against the topology first, kept in the session,
                         run once every host is ready (the report is printed; the session runs on either way)
  --web                  also start qemunet web for the session (its own process; it ends with the session) and print its URL
  --open                 with --web: open that URL in the desktop's browser (xdg-open)
  --display MODE, -d MODE  a host's display; HOST sys/MODE sets it per host:
                         none; nographic (this terminal); xterm (-x), rxvt, gnome, xfce4 (a terminal window
                         on each console); tmux, screen (one session, a window per host); graphic (QEMU's
                         window; gtk, sdl force one toolkit); vnc, spice (a server on a unix socket in the
                         session; qemunet status says how to connect)
  --viewers, -V          a viewer window per vnc/spice host (TigerVNC, remote-viewer), for the session's life
  --display-tcp          vnc/spice servers on 127.0.0.1 TCP ports with a generated password instead
  --boot-silence S       a host that prints nothing for S seconds after it starts is stalled (default 30;
                         under KVM it is started again under TCG, once)
  --boot-limit S         a host not ready S seconds after it starts is stalled (default 180)
  --wire-all             a wirefilter on every NIC: faults can then be set live on any link (qemunet link)
  --no-taps              refuse TAP lines (they change this machine's network): qemunet web --labs starts labs so
  --dry-run              print the exact commands instead of running them
  -c FILE                qemunet.cfg to read (default ./qemunet.cfg)
  -k / -K                use KVM when it works (default) / force TCG emulation
  -i                     add a Slirp NIC for internet access
  -m / -M                share <session>/<host>/ into the guest (default) / do not
  -f / -F                attach <session>/<host>.disk when present (default) / do not
  -l SYSTEM / -L SYSTEM  one VM of SYSTEM alone, on a throwaway overlay / on its base image (permanent; --yes)
  -D SYSTEM              download SYSTEM's image from its URL[..] (also: qemunet image pull SYSTEM)
  -v                     VLAN support: TRUNK lines, and each switch's <session>/<switch>.cmd loaded at start
  -y                     each switch's management console in a tmux window (xterm with the xterm display)
  -q                     quiet kernel boot;  -z ARGS  more kernel arguments;  -u USER  user= kernel argument`;

/** The qemunet executable, for the background supervisor and the console windows. */
/** Set in the environment of the background process that drives a detached session. */
const SUPERVISOR_ENV = 'QEMUNET_SUPERVISOR';

export async function upCommand(args: readonly string[]): Promise<number> {
  const o = parseUpOptions(args);
  // A shipped demo by name (`qemunet up lan`) when no such file is here.
  if (o.topology) o.topology = topologyArgument(o.topology);
  if (o.help) {
    process.stdout.write(`${UP_USAGE}\n`);
    return 0;
  }
  if (o.download) return pullCommand(o.download, o.config);
  if (o.notYet.length) throw new QemunetError('NOT_YET_SUPPORTED', `${o.notYet.join(', ')}: not available in this version of qemunet yet`);
  if (o.standalone) return standalone(o, o.standalone);
  if (!o.topology && !o.session && !o.from) throw new UsageError(`give a topology file\n${UP_USAGE}`);
  const req = settingsOf(o);
  if (o.dryRun) {
    process.stdout.write(await dryRun(req));
    return 0;
  }
  if ((o.detach || o.wait) && !process.env[SUPERVISOR_ENV]) return detach(args, o);
  return foreground(o, req);
}

/** The settings of this command line, with this process's environment. */
function settingsOf(o: UpOptions): UpSettings {
  return upSettings(o, { env: process.env, home: homedir(), qemunetCommand: [process.execPath, QEMUNET_MAIN] });
}

/**
 * QemuNet's -l SYS / -L SYS: one VM of a system, alone, with internet access, its console on this
 * terminal. -l runs on a throwaway overlay (removed afterwards); -L on the base image itself.
 */
async function standalone(o: UpOptions, s: { system: string; raw: boolean }): Promise<number> {
  if (s.raw && !o.yes) await confirmRaw(s.system);
  const tmp = await mkdtemp(join(tmpdir(), `qemunet-${s.raw ? 'L' : 'l'}-`));
  try {
    const topology = join(tmp, 'standalone.topo');
    await writeFile(topology, `HOST ${s.system} ${s.system}\n`);
    const req = settingsOf({ ...o, topology, internet: true, display: o.display ?? (process.stdin.isTTY ? 'nographic' : 'none') });
    return await foreground(o, { ...req, sessionDir: o.session ?? join(tmp, 'session'), sessionLink: false, rawBase: s.raw });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** -L changes a base image for good (and every overlay made on it): the user says so, or types the name. */
async function confirmRaw(system: string): Promise<void> {
  const warning = `-L ${system} boots on the base image of ${system} itself: every change is permanent, and overlays made on it (saved sessions) may no longer fit`;
  if (!process.stdin.isTTY) throw new UsageError(`${warning}; add --yes to confirm`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const typed = await rl.question(`${warning}.\nType the system name (${system}) to go on: `);
    if (typed.trim() !== system) throw new QemunetError('NOT_CONFIRMED', `not confirmed; the base image of ${system} was not touched`);
  } finally {
    rl.close();
  }
}

/** Runs the session in this process until Ctrl-C, SIGTERM, or every host has stopped. */
async function foreground(o: UpOptions, req: UpSettings): Promise<number> {
  const view = new LiveStatus(process.stdout);
  const starting = new AbortController();
  let lab: RunningSession | undefined;
  let interrupts = 0;
  const stopFor = (why: string) => {
    interrupts++;
    if (interrupts > 1 && lab) {
      view.note('stopping now (second interrupt): killing every VM and switch');
      lab.killNow();
      return;
    }
    view.note(`${why}: stopping the session (power-off, then quit)...`);
    if (lab) void lab.stop();
    else starting.abort();
  };
  const onSignal = (sig: NodeJS.Signals) => stopFor(sig === 'SIGINT' ? 'Ctrl-C' : sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    lab = await up({ ...req, signal: starting.signal, onNotice: (m) => view.note(m) }).catch((e) => {
      if (starting.signal.aborted) throw new QemunetError('INTERRUPTED', 'interrupted while starting; everything that had started was stopped');
      throw e;
    });
    const started = lab;
    started.on('change', (s) => view.update(s));
    view.update(started.state());
    if (interrupts) void started.stop();
    if (o.web && !process.env[SUPERVISOR_ENV]) view.note(`web: ${await launchWeb(started.dir, { open: o.open === true })}`);
    if (o.checks && !process.env[SUPERVISOR_ENV]) void started.waitReady((o.timeoutSec ?? 300) * 1000).then(() => runChecksOnce(started.dir), () => '').then((report) => report && view.note(report.trimEnd()));
    const nographic = started.plan.hosts.find((h) => h.display === 'nographic');
    if (nographic && process.stdin.isTTY) {
      view.pause();
      process.stdout.write(`[console of ${nographic.name}: Ctrl-] detaches]\r\n`);
      await (await SessionClient.find(started.dir)).attachConsole(nographic.name, { input: process.stdin, output: process.stdout });
      process.stdout.write('\r\n');
      view.resume();
    }
    await started.ended;
    view.stop();
    const state = started.state();
    process.stdout.write(`session ${state.phase}: ${state.dir}\n`);
    // The teardown runs to the end whatever fails in it, and keeps the first failure here.
    if (state.error) {
      process.stderr.write(`qemunet: ${state.error}\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

/**
 * `--detach` / `--wait`: the session is driven by a background qemunet (its own process group, so
 * the terminal's Ctrl-C does not reach it). This process waits until it runs, or with --wait until
 * every host is ready, then prints the status and returns.
 */
async function detach(args: readonly string[], o: UpOptions): Promise<number> {
  const settings = settingsOf(o);
  if (!o.from && !o.extraArchive) await checkUp(settings);
  const fromDir = o.from && statSync(o.from, { throwIfNoEntry: false })?.isDirectory() ? o.from : undefined;
  const dir = await sessionDirectory(o.session ?? fromDir, o.topology ?? o.from, process.cwd(), settings.environment.tmpDir);
  const session = SessionClient.at(dir);
  // The supervisor's output (image builds, warnings, hosts booting) is relayed while this waits; the
  // log keeps earlier runs of the session, so only what this start writes is.
  const from = statSync(session.logFile, { throwIfNoEntry: false })?.size ?? 0;
  // Appends to the log, made here if it is the session's first start.
  const supervisor = startQemunetInBackground(['up', ...args, '--session', dir], session.logFile, { ...process.env, [SUPERVISOR_ENV]: '1' });
  const relay = new LogRelay(await FileFollower.open(session.logFile, from));
  try {
    return await waitForSupervisor(session, o, relay, () => (supervisor.exited() ? undefined : supervisor.pid));
  } finally {
    await relay.close();
  }
}

/** Copies what the detached supervisor writes to its log onto this process's stderr. */
class LogRelay {
  /** The end of what was relayed, where the supervisor's own error would be. */
  private recent = '';

  constructor(private readonly follower: FileFollower) {}

  async flush(): Promise<void> {
    await this.follower.poll((chunk) => {
      process.stderr.write(chunk);
      this.recent = (this.recent + chunk.toString('utf8')).slice(-4096);
    });
  }

  /** Whether the supervisor said why it stopped (a "qemunet: ..." line). */
  get explained(): boolean {
    return /^qemunet: /m.test(this.recent);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.follower.close();
  }
}

/**
 * Waits until the session runs (with --wait: until every host is ready), relaying the supervisor's
 * output. The session's state comes pushed over its control socket, subscribed to once the
 * supervisor has made it; the log is followed every 100 ms meanwhile.
 */
async function waitForSupervisor(session: SessionClient, o: UpOptions, relay: LogRelay, supervisorPid: () => number | undefined): Promise<number> {
  const watch = new StateWatch(session);
  try {
    return await decideWhenStarted(session, o, relay, supervisorPid, watch);
  } finally {
    watch.close();
  }
}

async function decideWhenStarted(session: SessionClient, o: UpOptions, relay: LogRelay, supervisorPid: () => number | undefined, watch: StateWatch): Promise<number> {
  const deadline = Date.now() + (o.timeoutSec ?? 300) * 1000;
  for (;;) {
    await relay.flush();
    const pid = supervisorPid();
    if (pid !== undefined) await watch.trySubscribe();
    const state = watch.latest;
    const mine = pid !== undefined && state?.pid === pid;
    if (mine && state && state.phase === 'running') {
      const notReady = state.hosts.filter((h) => h.state !== (h.agent ? 'ready' : 'running'));
      if (!o.wait || !notReady.length) {
        await relay.flush();
        process.stdout.write(`${renderStatus(state)}\nrunning in the background; stop it with: qemunet down --session ${session.dir}\n`);
        if (o.checks && o.wait) process.stdout.write(await runChecksOnce(session.dir));
        if (o.web) process.stdout.write(`web: ${await launchWeb(session.dir, { open: o.open === true })}\n`);
        return 0;
      }
      const dead = notReady.filter((h) => FINAL_HOST_STATES.has(h.state));
      const stalled = notReady.filter((h) => h.state === 'stalled');
      if (stalled.length) return failWait(session, stalled.map((h) => h.name), `stalled (${stalled.map((h) => `${h.name}: ${h.detail}`).join('; ')})`);
      if (dead.length || Date.now() > deadline) return failWait(session, state.hosts.filter((h) => h.state !== 'ready').map((h) => h.name), dead.length ? 'stopped before it was ready' : `not ready after ${o.timeoutSec ?? 300} s`);
    }
    if (pid === undefined || (mine && state && !isLive(state))) {
      await relay.flush();
      if (!relay.explained) process.stderr.write(`qemunet: the session did not start (its log: ${session.logFile})\n`);
      return 1;
    }
    if (Date.now() > deadline) return failWait(session, [], `not running after ${o.timeoutSec ?? 300} s`);
    await watch.nextChange(100);
  }
}

/** The latest state a session pushed, once its control socket takes a subscription. */
class StateWatch {
  latest?: SessionState;
  private subscription?: StateSubscription;
  private wake?: () => void;

  constructor(private readonly session: SessionClient) {}

  /** Subscribes if not yet done; the control socket does not exist before the supervisor has checked its plan. */
  async trySubscribe(): Promise<void> {
    if (this.subscription) return;
    this.subscription = await this.session.subscribe((state) => this.update(state)).catch(() => undefined);
    if (this.subscription) this.update(this.subscription.state);
  }

  private update(state: SessionState): void {
    this.latest = state;
    this.wake?.();
  }

  /** Settles at the next pushed state, or after `ms` (the log is relayed meanwhile). */
  async nextChange(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  close(): void {
    this.subscription?.close();
  }
}

async function failWait(session: SessionClient, hosts: string[], why: string): Promise<number> {
  const logs = hosts.map((h) => `--- end of ${h}'s console ---\n${tail(session.consoleLog(h), 10)}`).join('\n');
  process.stderr.write(`qemunet: ${hosts.join(', ') || 'the session'}: ${why}\n${logs}\n`);
  await session.stop().catch(() => {});
  return 1;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** `up --checks`: the lab checks, run once every host is ready; their report, or why they could not run (the session runs on either way). */
async function runChecksOnce(dir: string): Promise<string> {
  try {
    return (await (await SessionClient.find(dir)).check()).report;
  } catch (e) {
    return `qemunet: the checks could not run: ${(e as Error).message}\n`;
  }
}
