import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleHub } from '../../console/console-hub.js';
import { QemunetError } from '../../errors.js';
import { processAlive } from '../../process/alive.js';
import type { SessionLock } from '../../session/lock.js';
import type { SessionPaths } from '../../session/paths.js';
import type { RunningNode } from '../../node/kind.js';
import { FINAL_HOST_STATES as FINAL } from '../../protocol/session-state.js';
import { consoleTail, consoleTails } from './console-tail.js';
import { LabControl } from './control-handler.js';
import { ControlServer, type ControlCommand, type ControlConnection } from './control-server.js';
import { capabilityOf, kindNamed, kindOf } from '../kinds/index.js';
import { LabLinks } from './link.js';
import { LabChecks } from './lab-checks.js';
import { LabNetwork } from './network.js';
import type { HostPlan, LabPlan } from '../plan.js';
import { SessionStatus } from './session-status.js';
import { allSettledOrThrow } from './settle.js';
import type { RunningSession } from './running-session.js';
import { Slots } from './slots.js';
import type { SessionPhase, SessionState } from '../state.js';
import { viewerFile } from './terminals.js';
import { BootWatchdog, DEFAULT_BOOT_LIMITS, stallDetail, type BootLimits, type StallKind } from './watchdog.js';
import { LabWindows, type WindowOptions } from './windows.js';

export interface LabRuntime extends WindowOptions {
  accel: string;
  lock: SessionLock;
  /** How long a guest gets to power off after the ACPI button before it is stopped hard. */
  stopTimeoutMs?: number;
  /** Guests booting at once (default: twice the number of CPUs). */
  bootSlots?: number;
  /** When a booting guest counts as stalled. */
  bootLimits?: BootLimits;
  /** The host planned under TCG: a guest silent under KVM is started again this way, once. */
  tcgPlanOf?: (host: string) => HostPlan;
  /** Warnings for the user while the session runs. */
  onNotice?: (message: string) => void;
  /** The session stops when this process is gone (a script or test run that started it). */
  ownerPid?: number;
}

/** How long one booting guest may keep a boot slot before the next guest starts anyway. */
const BOOT_SLOT_MAX_MS = 20000;
/** How often a running session checks that its directory is still there (a stat: nothing to measure). */
const SESSION_DIR_CHECK_MS = 2000;

/**
 * A running session: its network (switches, trunks, taps, wires), then hosts wave by wave (all hosts
 * of a wave at once, a wave N seconds after the previous one started, as QemuNet's `sleep N` lines
 * say), each VM's console fanned out and logged, boot slots and the boot watchdog, readiness from the
 * guest agent, and a teardown that always runs to the end: VMs (power button, then quit, then kill),
 * console sockets, network, windows, lock. The status, network, windows and control protocol are
 * modules of their own; this class orders them and owns the hosts' lives.
 * Emits 'change' with the session state whenever anything changes.
 */
export class Lab extends EventEmitter implements RunningSession {
  private readonly vms = new Map<string, RunningNode>();
  private readonly hubs = new Map<string, ConsoleHub>();
  private readonly status: SessionStatus;
  private readonly network: LabNetwork;
  private readonly links: LabLinks;
  private readonly windows: LabWindows;
  private readonly controls: LabControl;
  private readonly bootSlots: Slots;
  private readonly bootSlotCount: number;
  /** Guests whose CPUs run and that are not ready yet. */
  private readonly bootingNow = new Set<string>();
  private stopping?: Promise<void>;
  private control?: ControlServer;
  /** Settles when a host's CPUs have started (or it will not start): `sleep N` lines count from there. */
  private readonly cpusStarted = new Map<string, Promise<void>>();
  /** Hosts moved to TCG after they hung under KVM: their plan from then on. */
  private readonly movedToTcg = new Map<string, HostPlan>();
  /** VMs killed to be replaced: their exit is not a crash. */
  private readonly replaced = new WeakSet<RunningNode>();
  private readonly watchdog: BootWatchdog;
  private readonly tailRefresh = new Set<string>();
  private ownerWatch?: NodeJS.Timeout;
  private dirWatch?: NodeJS.Timeout;
  private readonly bootLimits: BootLimits;
  private readonly stopTimeoutMs: number;
  /** Resolves once the session has been torn down, whoever asked for it. */
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    readonly plan: LabPlan,
    readonly paths: SessionPaths,
    private readonly runtime: LabRuntime,
  ) {
    super();
    this.status = new SessionStatus(plan, paths.state, runtime.accel, (state) => this.emit('change', state));
    this.network = new LabNetwork(plan, paths, this.status, () => this.stopping !== undefined);
    this.links = new LabLinks({ plan, status: this.status, network: this.network, node: (name) => this.vms.get(name) });
    this.windows = new LabWindows(plan, paths, this.status, runtime);
    this.stopTimeoutMs = runtime.stopTimeoutMs ?? 10000;
    this.controls = new LabControl({
      plan,
      status: this.status,
      links: this.links,
      checks: new LabChecks(plan, paths, this.status),
      events: this,
      node: (name) => this.vms.get(name),
      nodes: () => [...this.vms.entries()],
      restart: (name) => this.restart(name),
      stop: () => this.stop(),
      stopTimeoutMs: this.stopTimeoutMs,
    });
    // Twice the CPUs: a guest does not keep one CPU busy all through its boot (measured: 16 tiny guests on
    // 2 CPUs are ready after 37 s with 2 or 4 slots, 43 s all at once).
    this.bootSlotCount = runtime.bootSlots ?? 2 * availableParallelism();
    this.bootSlots = new Slots(this.bootSlotCount);
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.bootLimits = runtime.bootLimits ?? DEFAULT_BOOT_LIMITS;
    // More guests boot at once than there are slots when slots timed out: all of them are slow, none stalled.
    this.watchdog = new BootWatchdog(this.bootLimits, (host, kind) => void this.onStall(host, kind), () => this.bootingNow.size > this.bootSlotCount);
  }

  get dir(): string {
    return this.paths.dir;
  }

  state(): SessionState {
    return this.status.state();
  }

  /** Starts everything; on any failure tears down what started and rethrows. */
  async start(signal?: AbortSignal): Promise<void> {
    this.status.setPhase('starting');
    try {
      this.control = await ControlServer.listen(this.paths.control, (c, conn) => this.onControl(c, conn));
      await this.network.start(signal);
      const waves = Math.max(...this.plan.hosts.map((h) => h.wave)) + 1;
      for (let wave = 0; wave < waves; wave++) {
        const delay = this.plan.waveDelays[wave] ?? 0;
        if (wave > 0 && delay > 0) await this.sleepAfterWave(wave - 1, delay * 1000, signal);
        await allSettledOrThrow(this.plan.hosts.filter((h) => h.wave === wave).map((h) => this.startHost(h, signal)));
      }
      await this.windows.open();
      this.watchOwner();
      await this.watchSessionDir();
      if (!this.stopping) this.status.setPhase('running');
    } catch (e) {
      this.status.setError((e as Error).message);
      await this.stop({ hard: true }, 'failed');
      throw e;
    }
  }

  /** Stops the session once its owner process is gone, whatever ended it (it had no chance to say so). */
  private watchOwner(): void {
    const owner = this.runtime.ownerPid;
    if (owner === undefined) return;
    this.ownerWatch = setInterval(() => {
      if (processAlive(owner)) return;
      clearInterval(this.ownerWatch);
      this.runtime.onNotice?.(`the process that owns this session (${owner}) is gone: stopping the session`);
      this.stop().catch(() => {});
    }, 500);
    this.ownerWatch.unref();
  }

  /**
   * Stops the session once its directory is gone (removed, or replaced by another): its overlays,
   * sockets and state went with it, and no `qemunet` command could find it any more, so it would
   * run unseen until the machine stops.
   */
  private async watchSessionDir(): Promise<void> {
    const dir = this.paths.dir;
    const inode = (await stat(dir)).ino;
    const check = async () => {
      const same = await stat(dir).then((s) => s.ino === inode, () => false);
      if (same || this.stopping) return;
      clearInterval(this.dirWatch);
      this.runtime.onNotice?.(`the session directory ${dir} was removed: stopping the session`);
      await this.stop();
    };
    this.dirWatch = setInterval(() => void check().catch(() => {}), SESSION_DIR_CHECK_MS);
    this.dirWatch.unref();
  }

  /**
   * QemuNet's `sleep N` between HOST lines: the hosts after it start N seconds after the ones before it
   * were started, not after they are ready (qemunet.sh starts each QEMU in the background, then
   * sleeps). A host still waiting for a boot slot has not started: the wait counts from the last start.
   */
  private async sleepAfterWave(wave: number, ms: number, signal?: AbortSignal): Promise<void> {
    const hosts = this.plan.hosts.filter((h) => h.wave === wave).map((h) => h.name);
    // Each settles within a boot slot's time limit, or at once when the session stops.
    await Promise.all(hosts.map((name) => this.cpusStarted.get(name) ?? Promise.resolve()));
    const last = Math.max(0, ...hosts.map((name) => this.status.host(name).startedMs ?? 0));
    await sleep(Math.max(0, this.status.startedAt + last + ms - Date.now()), undefined, { signal });
  }

  private async startHost(h: HostPlan, signal?: AbortSignal): Promise<void> {
    this.status.updateHost(h.name, { state: 'starting' });
    let cpusStarted!: () => void;
    this.cpusStarted.set(h.name, new Promise<void>((resolve) => (cpusStarted = resolve)));
    let vm: RunningNode;
    try {
      vm = await this.launchHost(h, signal);
    } catch (e) {
      this.status.updateHost(h.name, { state: 'failed', detail: (e as Error).message });
      cpusStarted();
      throw e;
    }
    this.vms.set(h.name, vm);
    const hub = await ConsoleHub.listen(h.paths.console, (d) => vm.writeConsole(d), { resumeSocketPath: h.paths.consoleResume });
    this.hubs.set(h.name, hub);
    vm.onConsoleOutput((d) => {
      hub.push(d);
      this.watchdog.printed(h.name);
      if (this.status.host(h.name).state === 'stalled') this.refreshTail(h.name);
    });
    this.status.updateHost(h.name, { state: h.agent ? 'booting' : 'running', pid: vm.pid });
    void vm.exited.then((e) => {
      cpusStarted();
      this.onVmExit(h.name, vm, e.code, e.signal);
    });
    if (!h.agent) {
      await vm.resume().finally(cpusStarted);
      this.status.updateHost(h.name, { startedMs: this.status.sinceStart() });
      return;
    }
    void this.boot(h.name, vm, cpusStarted);
  }

  /** Launches a host paused; a vnc/spice screen on TCP gets its password and viewer file before anyone connects. */
  private async launchHost(h: HostPlan, signal?: AbortSignal): Promise<RunningNode> {
    const screen = this.windows.remoteScreen(h);
    if (screen && 'socket' in screen) await rm(screen.socket, { force: true });
    const kind = kindOf(h);
    const vm = await kind.launch(h, { paused: true, ...(signal ? { signal } : {}) });
    if (screen && 'password' in screen) {
      try {
        await capabilityOf(h.name, kind, 'screen').setPassword(vm, screen.protocol, screen.password);
        await writeFile(screen.viewerFile, viewerFile(h.name, screen), { mode: 0o600 });
      } catch (e) {
        await vm.kill();
        throw e;
      }
    }
    const access = this.windows.screenAccess(h);
    if (access) this.status.updateHost(h.name, { screen: access });
    return vm;
  }

  /** Resumes a paused guest when a boot slot is free, and frees the slot once it is ready. */
  private async boot(name: string, vm: RunningNode, cpusStarted: () => void): Promise<void> {
    const release = await this.bootSlots.acquire();
    // A guest that is slow to be ready (a long start.sh) holds back the others only for so long.
    const timer = setTimeout(release, BOOT_SLOT_MAX_MS);
    timer.unref();
    void vm.exited.then(release);
    try {
      if (this.stopping || !vm.running) return release();
      await vm.resume();
      this.status.updateHost(name, { startedMs: this.status.sinceStart() });
      cpusStarted();
      this.bootingNow.add(name);
      this.watchdog.start(name);
      const agent = await vm.waitReady();
      // Let go of the agent channel (it takes one client at a time) so `qemunet exec` can use it.
      agent.close();
      // A stalled guest that comes through after all is ready like any other.
      const state = this.status.host(name).state;
      if (this.vms.get(name) === vm && (state === 'booting' || state === 'stalled')) {
        this.status.updateHost(name, { state: 'ready', readyMs: this.status.sinceStart(), detail: undefined, consoleTail: undefined });
      }
    } catch {
      // an exit before ready is reported by onVmExit
    } finally {
      if (this.vms.get(name) === vm) {
        this.watchdog.done(name);
        this.bootingNow.delete(name);
      }
      clearTimeout(timer);
      release();
      cpusStarted();
    }
  }

  /**
   * A booting guest crossed a limit. Silent under KVM: started again under TCG, once (a KVM that
   * passed the probe can still hang a guest). Otherwise it is shown as stalled, with its console's end.
   */
  private async onStall(name: string, kind: StallKind): Promise<void> {
    const plan = this.hostPlan(name);
    const accel = kindOf(plan).accel?.(plan);
    const state = this.status.host(name).state;
    if (this.stopping || (state !== 'booting' && state !== 'stalled')) return;
    if (kind === 'silent' && accel === 'kvm' && this.runtime.tcgPlanOf && !this.movedToTcg.has(name)) {
      let tcg: HostPlan | undefined;
      try {
        tcg = this.runtime.tcgPlanOf(name);
      } catch (e) {
        // Planning it again (the whole lab, under TCG) failed: it stays as it is, shown as stalled below.
        this.runtime.onNotice?.(`warning: ${name} printed nothing for ${this.bootLimits.silentMs / 1000} s under KVM, and cannot be started under TCG: ${(e as Error).message}`);
      }
      if (tcg) {
        this.runtime.onNotice?.(`warning: ${name} printed nothing for ${this.bootLimits.silentMs / 1000} s under KVM; starting it again under TCG (-K starts every host under TCG)`);
        await this.moveToTcg(name, tcg);
        return;
      }
    }
    const tail = await consoleTail(this.paths, name, 5);
    this.status.updateHost(name, { state: 'stalled', detail: stallDetail(kind, this.bootLimits, accel ?? plan.kind), consoleTail: tail });
  }

  /** A stalled host's console tail follows what it prints (at most once a second: the log is read from disk). */
  private refreshTail(name: string): void {
    if (this.tailRefresh.has(name)) return;
    this.tailRefresh.add(name);
    setTimeout(() => {
      void consoleTail(this.paths, name, 5).then((tail) => {
        this.tailRefresh.delete(name);
        if (this.status.host(name).state === 'stalled') this.status.updateHost(name, { consoleTail: tail });
      });
    }, 1000).unref();
  }

  private async moveToTcg(name: string, tcg: HostPlan): Promise<void> {
    this.movedToTcg.set(name, tcg);
    this.watchdog.done(name);
    const vm = this.vms.get(name);
    if (vm) {
      this.replaced.add(vm);
      await vm.kill();
      // Its captures went with the QEMU that was killed; the new one starts with its links up.
      this.links.hostGone(name);
      this.links.hostRestarted(name);
    }
    // A socket file that could not be removed makes the new hub fail, and startHost reports that.
    await this.hubs.get(name)?.close().catch(() => {});
    this.status.updateHost(name, { accel: 'tcg' });
    await this.startHost(tcg).catch(() => {});
  }

  /** The host's plan: the session's, or its TCG plan once it was moved there. */
  private hostPlan(name: string): HostPlan {
    return this.movedToTcg.get(name) ?? this.plan.hosts.find((h) => h.name === name)!;
  }

  private onVmExit(name: string, vm: RunningNode, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.replaced.has(vm)) return;
    this.watchdog.done(name);
    this.links.hostGone(name);
    // close() keeps its outcome: a failure is reported when the teardown closes every hub.
    this.hubs.get(name)?.close().catch(() => {});
    if (this.stopping) {
      this.status.updateHost(name, { state: 'stopped' });
      return;
    }
    if (code === 0) this.status.updateHost(name, { state: 'stopped', detail: 'powered off' });
    else this.status.updateHost(name, { state: 'crashed', detail: `${kindNamed(vm.kind).processName} exited (${code ?? signal})${vm?.stderr ? `: ${vm.stderr.split('\n').slice(-3).join(' ')}` : ''}` });
    // A session whose guests have all powered off ends by itself; a crashed one may still be restarted.
    if (this.status.phase === 'running' && this.status.hosts().every((h) => h.state === 'stopped')) void this.stop();
  }

  /**
   * Resolves when every host with a guest agent is ready (the others once running). Rejects when
   * one crashes, or at the timeout naming the hosts that are not ready with the end of their consoles.
   */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.status.waitReady(timeoutMs, (hosts) => consoleTails(this.paths, hosts), signal);
  }

  /** Graceful teardown (or hard, after a failure); idempotent, always runs to the end. */
  stop(options: { hard?: boolean } = {}, finalPhase: SessionPhase = 'stopped'): Promise<void> {
    this.stopping ??= this.teardown(options.hard ?? false, finalPhase);
    return this.stopping;
  }

  /** Never rejects: a step that fails (a socket file or the state file that cannot be written) is kept as the session's error, and the next steps still run. */
  private async teardown(hard: boolean, finalPhase: SessionPhase): Promise<void> {
    const step = async (what: string, action: () => Promise<unknown> | undefined) => {
      try {
        await action();
      } catch (e) {
        this.status.keepError(`${what}: ${(e as Error).message}`);
      }
    };
    this.status.setPhase('stopping');
    this.watchdog.stopAll();
    clearInterval(this.ownerWatch);
    clearInterval(this.dirWatch);
    for (const h of this.status.hosts()) if (!FINAL.has(h.state) && this.vms.has(h.name)) this.status.updateHost(h.name, { state: 'stopping' });
    await Promise.all([...this.vms.values()].map((vm) => (hard ? vm.kill() : vm.stop(this.stopTimeoutMs)).catch(() => vm.kill())));
    await step('closing the consoles', () => Promise.all([...this.hubs.values()].map((hub) => hub.close())));
    await this.network.stop();
    await this.windows.close();
    for (const h of this.status.hosts()) if (!FINAL.has(h.state)) this.status.updateHost(h.name, { state: 'stopped' });
    this.status.setPhase(finalPhase);
    await step('writing the state file', () => this.status.flush());
    // Last but the lock: subscribers (a web server started with --web) get the final phase pushed.
    await step('closing the control socket', () => this.control?.close());
    await step('releasing the session lock', () => this.runtime.lock.release());
    this.resolveEnded();
  }

  /** Answers once what the command changed is in the state file: a client reads it right after. */
  private async onControl(c: ControlCommand, conn: ControlConnection): Promise<unknown> {
    const result = await this.controls.handle(c, conn);
    await this.status.flush();
    return result;
  }

  /** Starts a host again on the same switch ports, after a crash or a power-off. */
  private async restart(name: string): Promise<string> {
    const status = this.status.host(name);
    if (!FINAL.has(status.state)) throw new QemunetError('HOST_RUNNING', `host ${name} is ${status.state}; only a stopped or crashed host can be restarted`);
    this.status.updateHost(name, { detail: undefined, readyMs: undefined, startedMs: undefined, consoleTail: undefined });
    this.links.hostRestarted(name);
    if (kindOf(this.hostPlan(name)).restartRenewsWires) await this.network.renewWires(name, (nic) => this.status.host(name).nics[nic]?.faults ?? {});
    await this.startHost(this.hostPlan(name));
    return name;
  }

  /** Sends SIGKILL to everything at once: the last resort after a second Ctrl-C. */
  killNow(): void {
    for (const vm of this.vms.values()) void vm.kill();
    this.network.killNow();
    this.windows.killNow();
  }
}
