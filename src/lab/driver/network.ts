import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { run } from '../../process/run.js';
import { endProcess } from '../../process/start.js';
import type { SessionPaths } from '../../session/paths.js';
import { QemunetError } from '../../errors.js';
import { launchSwitch, type RunningSwitch } from '../../switch/launch.js';
import { freeWirePorts, privateVlan, untaggedVlanOf, vlanTable } from '../../switch/live-wire.js';
import { MgmtClient } from '../../switch/mgmt-client.js';
import { configureSwitch, launchPlug, waitForTap } from '../../switch/vlan-setup.js';
import { VDE_SWITCH_PORTS } from '../../switch/vde-argv.js';
import { setWireFaults } from '../../switch/wirefilter.js';
import type { LinkFaults } from '../../protocol/faults.js';
import { allSettledOrThrow } from './settle.js';
import { wireArgv, type LabPlan, type SwitchPlan, type WirePlan } from '../plan.js';
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
  /** Wires being put in live, by `host:nic`: a second request waits for the first. */
  private readonly inserting = new Map<string, Promise<void>>();
  /** Switch ports taken by live wires, by switch. */
  private readonly liveWirePorts = new Map<string, Set<number>>();
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
      const ports = this.plannedPorts(sw.name);
      const text = await readFile(sw.paths.commands, 'utf8').catch(() => undefined);
      await configureSwitch(sw.name, sw.paths.mgmt, ports, sw.vlanCommands, text === undefined ? undefined : { file: sw.paths.commands, text, labConsoleOnly: this.plan.labConsoleOnly ?? false });
    }
    for (const t of this.plan.trunks) {
      const log = `${this.paths.dir}/trunk-${t.a.switch}-${t.b.switch}.log`;
      this.plugs.push(await launchPlug(t.argv, log, [t.a, t.b].map((e) => ({ name: e.switch, mgmt: this.mgmtOf(e.switch), port: e.port }))));
    }
  }

  /** The ports of a switch that the session's hosts, trunks and taps plug into. */
  private plannedPorts(switchName: string): number[] {
    return [
      ...this.plan.hosts.flatMap((h) => h.nics.filter((n) => n.switch === switchName).map((n) => n.port)),
      ...this.plan.trunks.flatMap((t) => [t.a, t.b].filter((e) => e.switch === switchName).map((e) => e.port)),
      ...this.plan.taps.filter((t) => t.switch === switchName).map((t) => t.port),
    ];
  }

  /**
   * A wirefilter put live between a NIC and the rest of its switch (see switch/live-wire.ts), for
   * faults on a NIC that had no LINK line; its management socket is where a LINK wire's would be, so
   * `qemunet link` and the web page find it the same way. Once per NIC; a hub has no VLANs to do it.
   */
  insertWire(host: string, nic: number): Promise<void> {
    const key = `${host}:${nic}`;
    if (this.wirePlugs.has(key)) return Promise.resolve();
    let inserting = this.inserting.get(key);
    if (!inserting) {
      inserting = this.putWireLive(host, nic).finally(() => this.inserting.delete(key));
      this.inserting.set(key, inserting);
    }
    return inserting;
  }

  private async putWireLive(host: string, nic: number): Promise<void> {
    const n = this.plan.hosts.find((h) => h.name === host)!.nics[nic]!;
    const sw = this.plan.switches.find((s) => s.name === n.switch)!;
    if (sw.hub) throw new QemunetError('HUB_NO_LIVE_WIRE', `${host}:eth${nic} is on hub ${sw.name}, which has no VLANs to put a wirefilter in while it runs; add "LINK ${host}:eth${nic}" to the topology, or start the session with --wire-all`);
    const { nicSide, netSide, vlan } = await this.splitPort(sw, n.port, `${host}:eth${nic}`);
    const mgmt = this.paths.host(host).wireMgmt(nic);
    await rm(mgmt, { force: true });
    const argv = wireArgv(`vde://${sw.paths.socket}[${nicSide}]`, mgmt, `vde://${sw.paths.socket}[${netSide}]`);
    const ends = [nicSide, netSide].map((port) => ({ name: sw.name, mgmt: sw.paths.mgmt, port }));
    const plug = await launchPlug(argv, `${this.paths.dir}/${host}-eth${nic}.wire.log`, ends, []);
    this.plugs.push(plug);
    this.wirePlugs.set(`${host}:${nic}`, plug);
    // The cut-over: from now on the NIC's frames reach the others only through the wirefilter.
    const client = await MgmtClient.connect(sw.paths.mgmt, sw.name);
    try {
      await client.sendAll([`port/setvlan ${n.port} ${vlan}`]);
    } finally {
      client.close();
    }
  }

  /** A private VLAN and two free ports for a live wire: the NIC's side in that VLAN, the other in the NIC's. */
  private async splitPort(sw: SwitchPlan, port: number, ref: string): Promise<{ nicSide: number; netSide: number; vlan: number }> {
    const client = await MgmtClient.connect(sw.paths.mgmt, sw.name);
    try {
      const untagged = untaggedVlanOf((await client.send(`port/print ${port}`)).data, port);
      const vlans = vlanTable((await client.send('vlan/allprint')).data);
      const tagged = [...vlans].filter(([, members]) => members.some((m) => m.port === port && m.tagged)).map(([v]) => v);
      if (tagged.length) throw new QemunetError('TAGGED_NO_LIVE_WIRE', `${ref} carries tagged VLANs (${tagged.join(', ')}) on switch ${sw.name}: a wirefilter cannot be put in while it runs; add "LINK ${ref}" to the topology`);
      const taken = this.liveWirePorts.get(sw.name) ?? new Set<number>();
      this.liveWirePorts.set(sw.name, taken);
      const used = new Set([...this.plannedPorts(sw.name), ...taken]);
      const ends = freeWirePorts(used, VDE_SWITCH_PORTS - 1);
      if (!ends) throw new QemunetError('NO_FREE_PORT', `switch ${sw.name} has no two free ports left for a wirefilter on ${ref}`);
      const vlan = privateVlan(vlans.keys());
      ends.forEach((p) => taken.add(p));
      const [nicSide, netSide] = ends;
      await client.sendAll([`vlan/create ${vlan}`, `port/create ${nicSide}`, `port/setvlan ${nicSide} ${vlan}`, `port/create ${netSide}`, ...(untagged ? [`port/setvlan ${netSide} ${untagged}`] : [])]);
      return { nicSide, netSide, vlan };
    } finally {
      client.close();
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
   * Each new wire gets the faults the NIC had (`faultsOf`), not only its LINK line's.
   */
  async renewWires(host: string, faultsOf: (nic: number) => LinkFaults): Promise<void> {
    for (const w of this.plan.wires.filter((x) => x.host === host)) {
      const old = this.wirePlugs.get(`${w.host}:${w.nic}`);
      if (old) await endProcess(old);
      await rm(this.paths.host(host).wire(w.nic), { force: true });
      await this.startWire({ ...w, faults: faultsOf(w.nic) });
    }
  }

  /**
   * Sets faults in a NIC's wirefilter, putting one in live first if it has none; returns the
   * wirefilter's own summary. Only the given faults are sent: the others stay as they are.
   */
  async setFaults(host: string, nic: number, faults: LinkFaults): Promise<string[]> {
    await this.insertWire(host, nic);
    return setWireFaults(this.paths.host(host).wireMgmt(nic), `${host}:eth${nic}`, faults);
  }

  /**
   * A link cut in a NIC's wirefilter, for kinds with no carrier control (UML): it drops every frame
   * while down, and gets back the loss it had (`lossPct`, as set live or by its LINK line) when up.
   */
  async setWireLink(host: string, nic: number, up: boolean, lossPct: number): Promise<void> {
    await this.setFaults(host, nic, { lossPct: up ? lossPct : 100 });
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
