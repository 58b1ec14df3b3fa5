import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { run } from '../process/run.js';
import { endProcess } from '../process/start.js';
import type { SessionPaths } from '../session/paths.js';
import { launchSwitch, type RunningSwitch } from '../switch/launch.js';
import { configureSwitch, launchPlug, waitForTap } from '../switch/vlan-setup.js';
import { setWireFaults } from '../switch/wirefilter.js';
import { allSettledOrThrow } from './settle.js';
import type { LabPlan, SwitchPlan, WirePlan } from './plan.js';
import type { SessionStatus } from './session-status.js';

/**
 * The wires of a session: its switches and hubs, the VLAN set-up, trunks, host taps and the
 * wirefilters of LINK lines, started before any VM and stopped after every VM.
 */
export class LabNetwork {
  private readonly switches = new Map<string, RunningSwitch>();
  /** vde_plug processes of trunks and taps, and the dpipe chains of wirefilters. */
  private readonly plugs: ChildProcess[] = [];
  /** The wirefilter chain of each NIC that has one, by `host:nic`. */
  private readonly wirePlugs = new Map<string, ChildProcess>();
  constructor(
    private readonly plan: LabPlan,
    private readonly paths: SessionPaths,
    private readonly status: SessionStatus,
    /** Whether the session is being torn down: a switch that exits then has stopped, not failed. */
    private readonly stopping: () => boolean,
  ) {}

  /** Switches, then (-v) VLANs and trunks, then taps, then wires: all that VMs plug into. */
  async start(signal?: AbortSignal): Promise<void> {
    await allSettledOrThrow(this.plan.switches.map((s) => this.startSwitch(s, signal)));
    if (this.plan.vlan) await this.setUpVlans();
    await this.startTaps();
    await this.startWires();
  }

  private async startSwitch({ name, argv, paths, portsInUse }: SwitchPlan, signal?: AbortSignal): Promise<void> {
    const sw = await launchSwitch({ name, argv, socket: paths.socket, logFile: paths.log, portsInUse, ...(signal ? { signal } : {}) });
    this.switches.set(name, sw);
    this.status.updateSwitch(name, { state: 'running', pid: sw.pid });
    void sw.exited.then(() => this.status.updateSwitch(name, { state: this.stopping() ? 'stopped' : 'failed' }));
  }

  private mgmtOf(name: string): string {
    return this.plan.switches.find((s) => s.name === name)!.paths.mgmt;
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
      const log = `${this.paths.dir}/trunk-${t.a.switch}-${t.b.switch}.log`;
      this.plugs.push(await launchPlug(t.argv, log, [t.a, t.b].map((e) => ({ name: e.switch, mgmt: this.mgmtOf(e.switch), port: e.port }))));
    }
  }

  /** TAP lines: the host's own interface on a switch port, with its address, before any VM. */
  private async startTaps(): Promise<void> {
    for (const t of this.plan.taps) {
      const log = `${this.paths.dir}/tap-${t.name}.log`;
      const plug = await launchPlug(t.argv, log, [{ name: t.switch, mgmt: this.mgmtOf(t.switch), port: t.port }]);
      this.plugs.push(plug);
      await waitForTap(plug, t.name, t.argv, log);
      if (t.address) await run('ip', ['addr', 'add', t.address, 'dev', t.name]);
      await run('ip', ['link', 'set', t.name, 'up']);
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
    const plug = await launchPlug(w.argv, `${this.paths.dir}/${w.host}-eth${w.nic}.wire.log`, [{ name: w.switch, mgmt: this.mgmtOf(w.switch), port: w.port }], []);
    this.plugs.push(plug);
    this.wirePlugs.set(`${w.host}:${w.nic}`, plug);
    await setWireFaults(w.mgmt, `${w.host}:eth${w.nic}`, w.faults);
  }

  /**
   * A UML host started again gets new wires: the ptp plug of a wire keeps sending to the first peer it
   * heard from, which was the UML that is gone. (A QEMU NIC keeps its socket, so its wire goes on working.)
   */
  async renewWires(host: string): Promise<void> {
    for (const w of this.plan.wires.filter((x) => x.host === host)) {
      const old = this.wirePlugs.get(`${w.host}:${w.nic}`);
      if (old) await endProcess(old);
      await rm(this.paths.host(host).wire(w.nic), { force: true });
      await this.startWire(w);
    }
  }

  /**
   * A link cut in a NIC's wirefilter, for kinds with no carrier control (UML): it drops every frame
   * while down, and gets its planned loss back when up.
   */
  async setWireLink(host: string, nic: number, up: boolean): Promise<void> {
    const wire = this.plan.wires.find((w) => w.host === host && w.nic === nic)!;
    await setWireFaults(wire.mgmt, `${host}:eth${nic}`, { lossPct: up ? (wire.faults.lossPct ?? 0) : 100 });
  }

  /** After every VM is gone: plugs, then each switch by closing its stdin (its own clean exit). */
  async stop(): Promise<void> {
    await Promise.all(this.plugs.map((plug) => endProcess(plug)));
    await Promise.all([...this.switches.values()].map((sw) => sw.stop()));
  }

  killNow(): void {
    for (const sw of this.switches.values()) sw.child.kill('SIGKILL');
    for (const t of this.plugs) t.kill('SIGKILL');
  }
}
