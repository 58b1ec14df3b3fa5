import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleHub } from '../console/console-hub.js';
import { QemunetError } from '../errors.js';
import { settlesWithin } from '../process/within.js';
import { processAlive } from '../process/alive.js';
import type { SessionLock } from '../session/lock.js';
import type { SessionPaths } from '../session/paths.js';
import { launchSwitch, type RunningSwitch } from '../switch/launch.js';
import { run } from '../process/run.js';
import { configureSwitch, launchPlug, waitForTap } from '../switch/vlan-setup.js';
import { setWireFaults } from '../switch/wirefilter.js';
import type { RunningNode } from '../node/kind.js';
import { hostAccel, launchNode, requireOf } from './kinds.js';
import { TERMINAL_DISPLAYS, type HostPlan, type LabPlan, type TerminalDisplay, type WirePlan } from './plan.js';
import { ControlServer, type ControlCommand, type ControlConnection } from './control.js';
import { Slots } from './slots.js';
import { BootWatchdog, DEFAULT_BOOT_LIMITS, stallDetail, type BootLimits, type StallKind } from './watchdog.js';
import { StateWriter, type HostStatus, type ScreenAccess, type SessionPhase, type SessionState, type SwitchStatus } from './state.js';
import { closeScreenSession, closeTmuxSession, openScreenWindows, openTerminal, openTmuxWindows, openViewer, openXterm, viewerArgv, viewerFile, type RemoteScreen, type TerminalWindow } from './terminals.js';

export interface LabRuntime {
  accel: string;
  lock: SessionLock;
  /** The command a terminal window runs to show a host's console (tmux and xterm display modes). */
  consoleCommand: (host: string) => string[];
  /** -y: a window per switch with its management console, and the command it runs. */
  switchWindows?: { kind: 'tmux' | 'xterm'; command: (sw: string) => string[] };
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
  /** The session stops when this process is gone (QEMUNET_OWNER_PID). */
  ownerPid?: number;
  /** -V: a viewer window per vnc/spice host, for the session's life. */
  viewers?: boolean;
  /** The X display QEMU windows, terminals and viewers open on (for status). */
  xDisplay?: string;
}

/** How long one booting guest may keep a boot slot before the next guest starts anyway. */
const BOOT_SLOT_MAX_MS = 20000;

/** States a host does not leave by itself. */
const FINAL = new Set(['stopped', 'crashed', 'failed']);

/**
 * A running session: switches, then hosts wave by wave (all hosts of a wave at once, a wave N seconds
 * after the previous one started, as QemuNet's `sleep N` lines say), each VM's
 * console fanned out and logged, readiness from the guest agent, and a teardown that always runs
 * to the end: VMs (power button, then quit, then kill), console sockets, switches, lock.
 * Emits 'change' with the session state whenever anything changes.
 */
export class Lab extends EventEmitter {
  private readonly vms = new Map<string, RunningNode>();
  private readonly switches = new Map<string, RunningSwitch>();
  private readonly hubs = new Map<string, ConsoleHub>();
  private readonly hostStatus = new Map<string, HostStatus>();
  private readonly switchStatus = new Map<string, SwitchStatus>();
  private readonly writer: StateWriter;
  private readonly bootSlots: Slots;
  private readonly bootSlotCount: number;
  /** Guests whose CPUs run and that are not ready yet. */
  private readonly bootingNow = new Set<string>();
  private readonly startedAt = Date.now();
  private phase: SessionPhase = 'starting';
  private error?: string;
  private stopping?: Promise<void>;
  private tmuxSession?: string;
  private screenSession?: string;
  /** -V viewers, ended at teardown (and by their parent-death signal if qemunet is killed). */
  private readonly viewers = new Set<ChildProcess>();
  /** Passwords of screens on TCP, one per host for the session's life (kept across restarts). */
  private readonly passwords = new Map<string, string>();
  private control?: ControlServer;
  /** vde_plug processes of trunks and taps, and the dpipe chains of wirefilters. */
  private readonly plugs: ChildProcess[] = [];
  /** The wirefilter chain of each NIC that has one, by `host:nic`. */
  private readonly wirePlugs = new Map<string, ChildProcess>();
  private captures = 0;
  /** Running captures by id; each is stopped once (by request, or when its client goes). */
  private readonly captureStops = new Map<string, () => Promise<unknown>>();
  /** VMs stopped by a `freeze` request, resumed by `thaw`. */
  private readonly frozen = new Set<string>();
  /** Settles when a host's CPUs have started (or it will not start): `sleep N` lines count from there. */
  private readonly cpusStarted = new Map<string, Promise<void>>();
  /** Hosts moved to TCG after they hung under KVM: their plan from then on. */
  private readonly movedToTcg = new Map<string, HostPlan>();
  /** VMs killed to be replaced: their exit is not a crash. */
  private readonly replaced = new WeakSet<RunningNode>();
  private readonly watchdog: BootWatchdog;
  private readonly tailRefresh = new Set<string>();
  private ownerWatch?: NodeJS.Timeout;
  private readonly bootLimits: BootLimits;
  /** Resolves once the session has been torn down, whoever asked for it. */
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    readonly plan: LabPlan,
    readonly paths: SessionPaths,
    private readonly runtime: LabRuntime,
  ) {
    super();
    for (const h of plan.hosts) {
      this.hostStatus.set(h.name, { name: h.name, kind: h.kind, system: h.system.name, base: h.system.fs, state: 'pending', display: h.display, nics: h.nics, console: h.paths.console, agent: h.agent });
    }
    for (const s of plan.switches) this.switchStatus.set(s.name, { name: s.name, hub: s.hub, state: 'pending' });
    this.writer = new StateWriter(paths.state, () => this.state());
    // Twice the CPUs: a guest does not keep one CPU busy all through its boot (measured: 16 tiny guests on
    // 2 CPUs are ready after 37 s with 2 or 4 slots, 43 s all at once).
    this.bootSlotCount = runtime.bootSlots ?? 2 * availableParallelism();
    this.bootSlots = new Slots(this.bootSlotCount);
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.bootLimits = runtime.bootLimits ?? DEFAULT_BOOT_LIMITS;
    // More guests boot at once than there are slots when slots timed out: all of them are slow, none stalled.
    this.watchdog = new BootWatchdog(this.bootLimits, (host, kind) => void this.onStall(host, kind), () => this.bootingNow.size > this.bootSlotCount);
  }

  state(): SessionState {
    return {
      version: 1,
      dir: this.paths.dir,
      topology: this.plan.topologyFile,
      pid: process.pid,
      phase: this.phase,
      accel: this.runtime.accel,
      startedAt: new Date(this.startedAt).toISOString(),
      hosts: [...this.hostStatus.values()].map((h) => ({ ...h })),
      switches: [...this.switchStatus.values()].map((s) => ({ ...s })),
      ...(this.tmuxSession ? { tmuxSession: this.tmuxSession } : {}),
      ...(this.screenSession ? { screenSession: this.screenSession } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Starts everything; on any failure tears down what started and rethrows. */
  async start(signal?: AbortSignal): Promise<void> {
    this.changed();
    try {
      this.control = await ControlServer.listen(this.paths.control, (c, conn) => this.onControl(c, conn));
      await allSettledOrThrow(this.plan.switches.map((s) => this.startSwitch(s.name, s.argv, s.paths.socket, s.paths.log, signal)));
      if (this.plan.vlan) await this.setUpVlans();
      await this.startTaps();
      await this.startWires();
      const waves = Math.max(...this.plan.hosts.map((h) => h.wave)) + 1;
      for (let wave = 0; wave < waves; wave++) {
        const delay = this.plan.waveDelays[wave] ?? 0;
        if (wave > 0 && delay > 0) await this.sleepAfterWave(wave - 1, delay * 1000, signal);
        await allSettledOrThrow(this.plan.hosts.filter((h) => h.wave === wave).map((h) => this.startHost(h, signal)));
      }
      await this.openWindows();
      this.watchOwner();
      if (!this.stopping) this.setPhase('running');
    } catch (e) {
      this.error = (e as Error).message;
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
   * QemuNet's `sleep N` between HOST lines: the hosts after it start N seconds after the ones before it
   * were started, not after they are ready (qemunet.sh starts each QEMU in the background, then
   * sleeps). A host still waiting for a boot slot has not started: the wait counts from the last start.
   */
  private async sleepAfterWave(wave: number, ms: number, signal?: AbortSignal): Promise<void> {
    const hosts = this.plan.hosts.filter((h) => h.wave === wave).map((h) => h.name);
    // Each settles within a boot slot's time limit, or at once when the session stops.
    await Promise.all(hosts.map((name) => this.cpusStarted.get(name) ?? Promise.resolve()));
    const last = Math.max(0, ...hosts.map((name) => this.hostStatus.get(name)?.startedMs ?? 0));
    await sleep(Math.max(0, this.startedAt + last + ms - Date.now()), undefined, { signal });
  }

  private async startSwitch(name: string, argv: string[], socket: string, logFile: string, signal?: AbortSignal): Promise<void> {
    const sw = await launchSwitch({ name, argv, socket, logFile, ...(signal ? { signal } : {}) });
    this.switches.set(name, sw);
    this.updateSwitch(name, { state: 'running', pid: sw.pid });
    void sw.exited.then(() => this.updateSwitch(name, { state: this.stopping ? 'stopped' : 'failed' }));
  }

  /** -v: ports created, `.cmd` files loaded, then the trunks plugged in, all before any VM. */
  private async setUpVlans(): Promise<void> {
    for (const sw of this.plan.switches.filter((s) => !s.hub)) {
      const ports = [
        ...this.plan.hosts.flatMap((h) => h.nics.filter((n) => n.switch === sw.name).map((n) => n.port)),
        ...this.plan.trunks.flatMap((t) => [t.a, t.b].filter((e) => e.switch === sw.name).map((e) => e.port)),
        ...this.plan.taps.filter((t) => t.switch === sw.name).map((t) => t.port),
      ];
      const text = await readFile(sw.paths.commands, 'utf8').catch(() => undefined);
      await configureSwitch(sw.name, sw.paths.mgmt, ports, sw.vlanCommands, text === undefined ? undefined : { file: sw.paths.commands, text });
    }
    for (const t of this.plan.trunks) {
      const mgmt = (name: string) => this.plan.switches.find((s) => s.name === name)!.paths.mgmt;
      const log = `${this.paths.dir}/trunk-${t.a.switch}-${t.b.switch}.log`;
      this.plugs.push(await launchPlug(t.argv, log, [t.a, t.b].map((e) => ({ name: e.switch, mgmt: mgmt(e.switch), port: e.port }))));
    }
  }

  /** LINK lines: a wirefilter between each such NIC and its switch port, with its faults, before the VM. */
  private async startWires(): Promise<void> {
    if (!this.plan.wires.length) return;
    // Sockets left by a session that was killed would stop wirefilter and the ptp plug from binding.
    await rm(`${this.paths.dir}/wire`, { recursive: true, force: true });
    await mkdir(`${this.paths.dir}/wire`, { recursive: true, mode: 0o700 });
    for (const w of this.plan.wires) await this.startWire(w);
  }

  private async startWire(w: WirePlan): Promise<void> {
    await rm(w.mgmt, { force: true });
    const mgmt = this.plan.switches.find((s) => s.name === w.switch)!.paths.mgmt;
    const plug = await launchPlug(w.argv, `${this.paths.dir}/${w.host}-eth${w.nic}.wire.log`, [{ name: w.switch, mgmt, port: w.port }], []);
    this.plugs.push(plug);
    this.wirePlugs.set(`${w.host}:${w.nic}`, plug);
    await setWireFaults(w.mgmt, `${w.host}:eth${w.nic}`, w.faults);
  }

  /**
   * A UML host started again gets new wires: the ptp plug of a wire keeps sending to the first peer it
   * heard from, which was the UML that is gone. (A QEMU NIC keeps its socket, so its wire goes on working.)
   */
  private async renewWires(host: string): Promise<void> {
    for (const w of this.plan.wires.filter((x) => x.host === host)) {
      const old = this.wirePlugs.get(`${w.host}:${w.nic}`);
      if (old && old.exitCode === null && old.signalCode === null) {
        const gone = new Promise((r) => old.once('exit', r));
        old.kill('SIGTERM');
        await gone;
      }
      await rm(this.paths.host(host).wire(w.nic), { force: true });
      await this.startWire(w);
    }
  }

  /** TAP lines: the host's own interface on a switch port, with its address, before any VM. */
  private async startTaps(): Promise<void> {
    for (const t of this.plan.taps) {
      const mgmt = this.plan.switches.find((s) => s.name === t.switch)!.paths.mgmt;
      const log = `${this.paths.dir}/tap-${t.name}.log`;
      const plug = await launchPlug(t.argv, log, [{ name: t.switch, mgmt, port: t.port }]);
      this.plugs.push(plug);
      await waitForTap(plug, t.name, t.argv, log);
      if (t.address) await run('ip', ['addr', 'add', t.address, 'dev', t.name]);
      await run('ip', ['link', 'set', t.name, 'up']);
    }
  }

  private async startHost(h: HostPlan, signal?: AbortSignal): Promise<void> {
    this.updateHost(h.name, { state: 'starting' });
    let cpusStarted!: () => void;
    this.cpusStarted.set(h.name, new Promise<void>((resolve) => (cpusStarted = resolve)));
    let vm: RunningNode;
    try {
      const screen = this.remoteScreen(h);
      if (screen && 'socket' in screen) await rm(screen.socket, { force: true });
      vm = await launchNode(h, { paused: true, ...(signal ? { signal } : {}) });
      if (screen && 'password' in screen) {
        try {
          await vm.setScreenPassword?.(screen.protocol, screen.password);
          await writeFile(screen.viewerFile, viewerFile(h.name, screen), { mode: 0o600 });
        } catch (e) {
          await vm.kill();
          throw e;
        }
      }
      this.updateHost(h.name, { ...(h.kind === 'qemu' && h.vm.display.kind !== 'none' ? { screen: this.screenAccess(h, screen) } : {}) });
    } catch (e) {
      this.updateHost(h.name, { state: 'failed', detail: (e as Error).message });
      cpusStarted();
      throw e;
    }
    this.vms.set(h.name, vm);
    const hub = await ConsoleHub.listen(h.paths.console, (d) => vm.writeConsole(d), { resumeSocketPath: h.paths.consoleResume });
    this.hubs.set(h.name, hub);
    vm.onConsoleOutput((d) => {
      hub.push(d);
      this.watchdog.printed(h.name);
      if (this.hostStatus.get(h.name)?.state === 'stalled') this.refreshTail(h.name);
    });
    this.updateHost(h.name, { state: h.agent ? 'booting' : 'running', pid: vm.pid });
    void vm.exited.then((e) => {
      cpusStarted();
      this.onVmExit(h.name, vm, e.code, e.signal);
    });
    if (!h.agent) {
      await vm.resume().finally(cpusStarted);
      this.updateHost(h.name, { startedMs: Date.now() - this.startedAt });
      return;
    }
    void this.boot(h.name, vm, cpusStarted);
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
      this.updateHost(name, { startedMs: Date.now() - this.startedAt });
      cpusStarted();
      this.bootingNow.add(name);
      this.watchdog.start(name);
      const agent = await vm.waitReady();
      // Let go of the agent channel (it takes one client at a time) so `qemunet exec` can use it.
      agent.close();
      // A stalled guest that comes through after all is ready like any other.
      const state = this.hostStatus.get(name)?.state;
      if (this.vms.get(name) === vm && (state === 'booting' || state === 'stalled')) {
        this.updateHost(name, { state: 'ready', readyMs: Date.now() - this.startedAt, detail: undefined, consoleTail: undefined });
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
    const status = this.hostStatus.get(name)!;
    if (this.stopping || (status.state !== 'booting' && status.state !== 'stalled')) return;
    if (kind === 'silent' && hostAccel(plan) === 'kvm' && this.runtime.tcgPlanOf && !this.movedToTcg.has(name)) {
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
    const tail = await this.consoleTail(name, 5);
    this.updateHost(name, { state: 'stalled', detail: stallDetail(kind, this.bootLimits, hostAccel(plan) ?? plan.kind), consoleTail: tail });
  }

  /** A stalled host's console tail follows what it prints (at most once a second: the log is read from disk). */
  private refreshTail(name: string): void {
    if (this.tailRefresh.has(name)) return;
    this.tailRefresh.add(name);
    setTimeout(() => {
      void this.consoleTail(name, 5).then((tail) => {
        this.tailRefresh.delete(name);
        if (this.hostStatus.get(name)?.state === 'stalled') this.updateHost(name, { consoleTail: tail });
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
    }
    // A socket file that could not be removed makes the new hub fail, and startHost reports that.
    await this.hubs.get(name)?.close().catch(() => {});
    this.updateHost(name, { accel: 'tcg' });
    await this.startHost(tcg).catch(() => {});
  }

  /** The host's plan: the session's, or its TCG plan once it was moved there. */
  private hostPlan(name: string): HostPlan {
    return this.movedToTcg.get(name) ?? this.plan.hosts.find((h) => h.name === name)!;
  }

  private onVmExit(name: string, vm: RunningNode, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.replaced.has(vm)) return;
    this.watchdog.done(name);
    // close() keeps its outcome: a failure is reported when the teardown closes every hub.
    this.hubs.get(name)?.close().catch(() => {});
    if (this.stopping) {
      this.updateHost(name, { state: 'stopped' });
      return;
    }
    if (code === 0) this.updateHost(name, { state: 'stopped', detail: 'powered off' });
    else this.updateHost(name, { state: 'crashed', detail: `${vm.kind === 'qemu' ? 'QEMU' : 'UML'} exited (${code ?? signal})${vm?.stderr ? `: ${vm.stderr.split('\n').slice(-3).join(' ')}` : ''}` });
    // A session whose guests have all powered off ends by itself; a crashed one may still be restarted.
    if (this.phase === 'running' && [...this.hostStatus.values()].every((h) => h.state === 'stopped')) void this.stop();
  }

  /** A vnc/spice host's server: its unix socket, or its TCP port with the password qemunet sets. */
  private remoteScreen(h: HostPlan): RemoteScreen | undefined {
    if (h.kind !== 'qemu') return undefined;
    const d = h.vm.display;
    if (d.kind !== 'vnc' && d.kind !== 'spice') return undefined;
    if ('socket' in d.listen) return { protocol: d.kind, socket: d.listen.socket };
    let password = this.passwords.get(h.name);
    // VNC authentication uses 8 characters at most.
    if (!password) this.passwords.set(h.name, (password = randomBytes(d.kind === 'vnc' ? 6 : 12).toString('base64url')));
    return { protocol: d.kind, port: d.listen.port, password, viewerFile: h.paths.viewerFile };
  }

  private screenAccess(h: HostPlan, screen: RemoteScreen | undefined): ScreenAccess {
    if (!screen) return { kind: 'window', connect: `QEMU's window "QEMU (${h.name})" on X display ${this.runtime.xDisplay ?? '$DISPLAY'}` };
    const connect = viewerArgv(h.name, screen).join(' ');
    if ('socket' in screen) return { kind: screen.protocol, socket: screen.socket, connect };
    return { kind: screen.protocol, address: '127.0.0.1', port: screen.port, password: screen.password, connect: `${connect} (or any ${screen.protocol.toUpperCase()} client: 127.0.0.1 port ${screen.port}, password ${screen.password})` };
  }

  private async openWindows(): Promise<void> {
    const windowOf = (h: HostPlan): TerminalWindow => ({ title: h.name, argv: this.runtime.consoleCommand(h.name) });
    const sw = this.runtime.switchWindows;
    const switchWindows = (sw ? this.plan.switches.filter((s) => !s.hub) : []).map((s) => ({ title: `[${s.name}]`, argv: sw!.command(s.name) }));
    const sessionName = `qemunet-${this.paths.dir.split('/').pop()}`.replace(/[.:]/g, '_');
    const tmux = [...this.plan.hosts.filter((h) => h.display === 'tmux').map(windowOf), ...(sw?.kind === 'tmux' ? switchWindows : [])];
    if (tmux.length) {
      this.tmuxSession = sessionName;
      await openTmuxWindows(this.tmuxSession, tmux);
      this.changed();
    }
    const screen = this.plan.hosts.filter((h) => h.display === 'screen').map(windowOf);
    if (screen.length) {
      this.screenSession = sessionName;
      await openScreenWindows(this.screenSession, screen);
      this.changed();
    }
    for (const h of this.plan.hosts) if ((TERMINAL_DISPLAYS as readonly string[]).includes(h.display)) openTerminal(h.display as TerminalDisplay, windowOf(h));
    if (sw?.kind === 'xterm') switchWindows.forEach((w) => openXterm(w));
    if (this.runtime.viewers) for (const h of this.plan.hosts) this.openViewerOf(h);
  }

  /** -V: a viewer on a vnc/spice host's screen, until the session ends. */
  private openViewerOf(h: HostPlan): void {
    const screen = this.remoteScreen(h);
    if (!screen || this.stopping) return;
    const child = openViewer(viewerArgv(h.name, screen), () => this.viewers.delete(child));
    this.viewers.add(child);
  }

  /**
   * Resolves when every host with a guest agent is ready (the others once running). Rejects when
   * one crashes, or at the timeout naming the hosts that are not ready with the end of their consoles.
   */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hosts = [...this.hostStatus.values()];
      const dead = hosts.filter((h) => FINAL.has(h.state) || h.state === 'stalled');
      if (dead.length) throw new QemunetError('HOST_FAILED', `${dead.map((h) => `${h.name} ${h.state}${h.detail ? ` (${h.detail})` : ''}`).join('; ')}`);
      const waiting = hosts.filter((h) => h.state !== (h.agent ? 'ready' : 'running'));
      if (!waiting.length) return;
      if (Date.now() > deadline) throw new QemunetError('NOT_READY', `not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.map((h) => h.name).join(', ')}\n${await this.consoleTails(waiting.map((h) => h.name))}`);
      await this.nextChange(Math.max(0, Math.min(1000, deadline - Date.now())), signal);
    }
  }

  private async nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    let listener!: () => void;
    const changed = new Promise<void>((r) => this.once('change', (listener = r)));
    try {
      await settlesWithin(changed, ms);
      signal?.throwIfAborted();
    } finally {
      this.off('change', listener);
    }
  }

  private async consoleTails(hosts: string[]): Promise<string> {
    const tails = await Promise.all(hosts.map(async (name) => `--- end of ${name}'s console (${this.paths.host(name).log}) ---\n${(await this.consoleTail(name, 10)).join('\n')}`));
    return tails.join('\n');
  }

  private async consoleTail(name: string, lines: number): Promise<string[]> {
    const text = await readFile(this.paths.host(name).log, 'utf8').catch(() => '');
    return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines);
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
        this.error ??= `${what}: ${(e as Error).message}`;
      }
    };
    this.setPhase('stopping');
    this.watchdog.stopAll();
    clearInterval(this.ownerWatch);
    for (const [name, st] of this.hostStatus) if (!FINAL.has(st.state) && this.vms.has(name)) this.updateHost(name, { state: 'stopping' });
    await Promise.all([...this.vms.values()].map((vm) => (hard ? vm.kill() : vm.stop(this.runtime.stopTimeoutMs ?? 10000)).catch(() => vm.kill())));
    await step('closing the consoles', () => Promise.all([...this.hubs.values()].map((hub) => hub.close())));
    await step('closing the control socket', () => this.control?.close());
    for (const t of this.plugs) t.kill('SIGTERM');
    await Promise.all([...this.switches.values()].map((sw) => sw.stop()));
    if (this.tmuxSession) await closeTmuxSession(this.tmuxSession);
    if (this.screenSession) await closeScreenSession(this.screenSession);
    for (const v of this.viewers) v.kill('SIGTERM');
    for (const [name, st] of this.hostStatus) if (!FINAL.has(st.state)) this.updateHost(name, { state: 'stopped' });
    this.setPhase(finalPhase);
    await step('writing the state file', () => this.writer.flush());
    await step('releasing the session lock', () => this.runtime.lock.release());
    this.resolveEnded();
  }

  /** Answers once what the command changed is in the state file: a client reads it right after. */
  private async onControl(c: ControlCommand, conn: ControlConnection): Promise<unknown> {
    const result = await this.handleControl(c, conn);
    await this.writer.flush();
    return result;
  }

  private async handleControl(c: ControlCommand, conn: ControlConnection): Promise<unknown> {
    if (c.cmd === 'subscribe') return this.subscribe(conn);
    if (this.phase !== 'running') throw new QemunetError('SESSION_BUSY', `the session is ${this.phase}`);
    switch (c.cmd) {
      case 'freeze': {
        const running = [...this.vms.entries()].filter(([, vm]) => vm.running && !vm.paused);
        await Promise.all(running.map(([, vm]) => vm.freeze()));
        running.forEach(([name]) => this.frozen.add(name));
        return running.map(([name]) => name);
      }
      case 'thaw': {
        const names = [...this.frozen];
        this.frozen.clear();
        const vms = names.map((name) => this.vms.get(name)).filter((vm) => vm !== undefined);
        await Promise.all(vms.map((vm) => vm.resume().catch(() => {})));
        return names;
      }
      case 'restart':
        return this.restart(c.host);
      case 'link': {
        await this.setLink(c.host, c.nic, c.up);
        const status = this.hostStatus.get(c.host)!;
        const down = new Set(status.linksDown ?? []);
        if (c.up) down.delete(`eth${c.nic}`);
        else down.add(`eth${c.nic}`);
        this.updateHost(c.host, { linksDown: [...down].sort() });
        return c.up;
      }
      case 'capture': {
        const node = this.nicOf(c.host, c.nic, 'capture');
        const id = `capture${++this.captures}`;
        const end = await node.startCapture!(c.nic, c.file, id);
        const stop = () => (this.captureStops.delete(id) ? end() : Promise.resolve());
        this.captureStops.set(id, stop);
        conn.onClose(() => stop());
        return id;
      }
      case 'capture-stop':
        await this.captureStops.get(c.id)?.();
        return c.id;
      case 'power-off':
        return this.powerOff(c.host);
      case 'stop':
        // Answered before the teardown, which closes this socket: `qemunet down` waits for the lock to go.
        void this.stop();
        return process.pid;
    }
  }

  /** Every change of the session's state is pushed to the connection until it closes; in any phase. */
  private subscribe(conn: ControlConnection): SessionState {
    const push = (state: SessionState) => conn.notify({ event: 'state', state });
    this.on('change', push);
    conn.onClose(() => Promise.resolve(this.off('change', push)));
    return this.state();
  }

  /** The power button of one host: it shuts down and stays off (`restart` starts it again). */
  private async powerOff(name: string): Promise<string> {
    if (!this.plan.hosts.some((h) => h.name === name)) throw new QemunetError('UNKNOWN_HOST', `the session has no host ${name}; hosts: ${this.plan.hosts.map((h) => h.name).join(', ')}`);
    const vm = this.vms.get(name);
    if (!vm?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${name} is not running`);
    this.updateHost(name, { state: 'stopping' });
    await vm.stop(this.runtime.stopTimeoutMs ?? 10000);
    return name;
  }

  /** A running host that has NIC ethN and whose kind can do `capability` with it. */
  private nicOf(host: string, nic: number, capability: 'link' | 'capture'): RunningNode {
    const plan = this.plan.hosts.find((h) => h.name === host);
    if (!plan) throw new QemunetError('UNKNOWN_HOST', `the session has no host ${host}; hosts: ${this.plan.hosts.map((h) => h.name).join(', ')}`);
    if (nic < 0 || nic >= plan.nics.length) throw new QemunetError('UNKNOWN_NIC', `${host} has no eth${nic}; it has ${plan.nics.map((n) => n.eth).join(', ') || 'no lab NIC'}`);
    requireOf(plan, capability);
    const vm = this.vms.get(host);
    if (!vm?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${host} is not running`);
    return vm;
  }

  /**
   * A NIC's link state: the guest's carrier (QEMU), or for a UML host its wirefilter, which drops every
   * frame while the link is down (UML has no carrier control) and gets its planned loss back when up.
   */
  private async setLink(host: string, nic: number, up: boolean): Promise<void> {
    const node = this.nicOf(host, nic, 'link');
    if (node.setLink) return node.setLink(nic, up);
    const wire = this.plan.wires.find((w) => w.host === host && w.nic === nic)!;
    await setWireFaults(wire.mgmt, `${host}:eth${nic}`, { lossPct: up ? (wire.faults.lossPct ?? 0) : 100 });
  }

  /** Starts a host again on the same switch ports, after a crash or a power-off. */
  private async restart(name: string): Promise<string> {
    const plan = this.plan.hosts.find((h) => h.name === name);
    if (!plan) throw new QemunetError('UNKNOWN_HOST', `the session has no host ${name}; hosts: ${this.plan.hosts.map((h) => h.name).join(', ')}`);
    const status = this.hostStatus.get(name)!;
    if (!FINAL.has(status.state)) throw new QemunetError('HOST_RUNNING', `host ${name} is ${status.state}; only a stopped or crashed host can be restarted`);
    delete status.detail;
    delete status.readyMs;
    delete status.startedMs;
    delete status.linksDown;
    delete status.consoleTail;
    if (plan.kind === 'uml') await this.renewWires(name);
    await this.startHost(this.hostPlan(name));
    return name;
  }

  /** Sends SIGKILL to everything at once: the last resort after a second Ctrl-C. */
  killNow(): void {
    for (const vm of this.vms.values()) void vm.kill();
    for (const sw of this.switches.values()) sw.child.kill('SIGKILL');
    for (const t of this.plugs) t.kill('SIGKILL');
    for (const v of this.viewers) v.kill('SIGKILL');
  }

  private setPhase(phase: SessionPhase): void {
    this.phase = phase;
    this.changed();
  }

  private updateHost(name: string, patch: Partial<HostStatus>): void {
    Object.assign(this.hostStatus.get(name)!, patch);
    this.changed();
  }

  private updateSwitch(name: string, patch: Partial<SwitchStatus>): void {
    Object.assign(this.switchStatus.get(name)!, patch);
    this.changed();
  }

  private changed(): void {
    void this.writer.changed().catch(() => {});
    this.emit('change', this.state());
  }
}

/**
 * Waits for every launch, then throws the first failure. With Promise.all a failure would start the
 * teardown while other launches are still under way, and a VM launched after it would be left running.
 */
async function allSettledOrThrow(launches: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(launches)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
