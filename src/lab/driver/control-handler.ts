import type { EventEmitter } from 'node:events';
import { QemunetError } from '../../errors.js';
import type { RunningNode } from '../../node/kind.js';
import { mergeFaults, type LinkFaults } from '../../protocol/faults.js';
import type { ControlCommand, ControlConnection, ResultOf } from './control-server.js';
import { capabilityOf, kindOf, type HostKindDriver } from '../kinds/index.js';
import type { LabNetwork } from './network.js';
import type { LabPlan } from '../plan.js';
import type { SessionStatus } from './session-status.js';
import type { SessionState } from '../state.js';

/** What the control protocol acts on: the lab's running nodes and its own lifecycle. */
export interface ControlTarget {
  plan: LabPlan;
  status: SessionStatus;
  network: LabNetwork;
  /** Emits 'change' with the session state. */
  events: EventEmitter;
  /** The running node of a host, if it has one. */
  node(name: string): RunningNode | undefined;
  nodes(): Array<[string, RunningNode]>;
  restart(name: string): Promise<string>;
  stop(): Promise<void>;
  stopTimeoutMs: number;
}

/**
 * The session's side of the control socket: `qemunet` commands, the web server and the typed API
 * send these requests; each is checked against the plan and the hosts' kinds before it acts.
 */
export class LabControl {
  private captures = 0;
  /** Running captures by id; each is stopped once (by request, or when its client goes). */
  private readonly captureStops = new Map<string, () => Promise<unknown>>();
  /** VMs stopped by a `freeze` request, resumed by `thaw`. */
  private readonly frozen = new Set<string>();

  constructor(private readonly lab: ControlTarget) {}

  async handle(c: ControlCommand, conn: ControlConnection): Promise<unknown> {
    if (c.cmd === 'subscribe') return this.subscribe(conn);
    const phase = this.lab.status.phase;
    if (phase !== 'running') throw new QemunetError('SESSION_BUSY', `the session is ${phase}`);
    switch (c.cmd) {
      case 'freeze':
        return this.freeze();
      case 'thaw':
        return this.thaw();
      case 'restart':
        return this.lab.restart(c.host);
      case 'link':
        await this.setLink(c.host, c.nic, c.up);
        return c.up;
      case 'faults':
        return this.setFaults(c.host, c.nic, c.faults);
      case 'capture':
        return this.capture(c.host, c.nic, c.file, conn);
      case 'capture-stop':
        await this.captureStops.get(c.id)?.();
        return c.id;
      case 'power-off':
        return this.powerOff(c.host);
      case 'stop':
        // Answered before the teardown, which closes this socket: `qemunet down` waits for the lock to go.
        void this.lab.stop();
        return process.pid;
    }
  }

  /** Every change of the session's state is pushed to the connection until it closes; in any phase. */
  private subscribe(conn: ControlConnection): SessionState {
    const push = (state: SessionState) => conn.notify({ event: 'state', state });
    this.lab.events.on('change', push);
    conn.onClose(() => Promise.resolve(this.lab.events.off('change', push)));
    return this.lab.status.state();
  }

  private async freeze(): Promise<string[]> {
    const running = this.lab.nodes().filter(([, vm]) => vm.running && !vm.paused);
    await Promise.all(running.map(([, vm]) => vm.freeze()));
    running.forEach(([name]) => this.frozen.add(name));
    return running.map(([name]) => name);
  }

  private async thaw(): Promise<string[]> {
    const names = [...this.frozen];
    this.frozen.clear();
    const vms = names.map((name) => this.lab.node(name)).filter((vm) => vm !== undefined);
    await Promise.all(vms.map((vm) => vm.resume().catch(() => {})));
    return names;
  }

  /**
   * A NIC's link state: the guest's carrier (QEMU), or for a kind without carrier control (UML) its
   * wirefilter, which gets back the NIC's recorded loss when up. The status lists the NICs that are down.
   */
  private async setLink(host: string, nic: number, up: boolean): Promise<void> {
    const { node, strategy: link } = this.nicOf(host, nic, 'link');
    if (link.via === 'carrier') await link.set(node, nic, up);
    else await this.lab.network.setWireLink(host, nic, up, this.faultsOf(host, nic).lossPct ?? 0);
    const down = new Set(this.lab.status.host(host).linksDown ?? []);
    if (up) down.delete(`eth${nic}`);
    else down.add(`eth${nic}`);
    this.lab.status.updateHost(host, { linksDown: [...down].sort() });
  }

  /**
   * Faults, set in the NIC's wirefilter (put in live if it has none), then recorded in the state:
   * written and pushed, so every client sees them whoever set them. While a link cut in the
   * wirefilter is down (UML), a new loss is recorded but not applied: `link up` applies it.
   */
  private async setFaults(host: string, nic: number, given: LinkFaults): Promise<ResultOf<'faults'>> {
    const cutInWire = this.nicOf(host, nic, 'link').strategy.via === 'wire' && (this.lab.status.host(host).linksDown ?? []).includes(`eth${nic}`);
    const { lossPct: _held, ...notLoss } = given;
    const wirefilter = await this.lab.network.setFaults(host, nic, cutInWire ? notLoss : given);
    this.lab.status.setNicFaults(host, nic, mergeFaults(this.faultsOf(host, nic), given));
    return { faults: this.faultsOf(host, nic), wirefilter };
  }

  private faultsOf(host: string, nic: number): LinkFaults {
    return this.lab.status.host(host).nics[nic]?.faults ?? {};
  }

  /** A capture runs until it is asked to stop or its client goes, whichever comes first. */
  private async capture(host: string, nic: number, file: string, conn: ControlConnection): Promise<string> {
    const { node, strategy: capture } = this.nicOf(host, nic, 'capture');
    const id = `capture${++this.captures}`;
    const end = await capture.start(node, nic, file, id);
    const stop = () => (this.captureStops.delete(id) ? end() : Promise.resolve());
    this.captureStops.set(id, stop);
    conn.onClose(() => stop());
    return id;
  }

  /** The power button of one host: it shuts down and stays off (`restart` starts it again). */
  private async powerOff(name: string): Promise<string> {
    this.lab.status.host(name);
    const vm = this.lab.node(name);
    if (!vm?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${name} is not running`);
    this.lab.status.updateHost(name, { state: 'stopping' });
    await vm.stop(this.lab.stopTimeoutMs);
    return name;
  }

  /** A running host that has NIC ethN, and its kind's strategy for `capability` (the kind's error when it has none). */
  private nicOf<C extends 'link' | 'capture'>(host: string, nic: number, capability: C): { node: RunningNode; strategy: NonNullable<HostKindDriver[C]> } {
    const plan = this.lab.plan.hosts.find((h) => h.name === host);
    if (!plan) throw new QemunetError('UNKNOWN_HOST', `the session has no host ${host}; hosts: ${this.lab.plan.hosts.map((h) => h.name).join(', ')}`);
    if (nic < 0 || nic >= plan.nics.length) throw new QemunetError('UNKNOWN_NIC', `${host} has no eth${nic}; it has ${plan.nics.map((n) => n.eth).join(', ') || 'no lab NIC'}`);
    const strategy = capabilityOf(host, kindOf(plan), capability);
    const vm = this.lab.node(host);
    if (!vm?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${host} is not running`);
    return { node: vm, strategy };
  }
}
