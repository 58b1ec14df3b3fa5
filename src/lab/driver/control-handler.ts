import type { EventEmitter } from 'node:events';
import { QemunetError } from '../../errors.js';
import type { RunningNode } from '../../node/kind.js';
import type { ControlCommand, ControlConnection } from './control-server.js';
import type { LabLinks } from './link.js';
import type { LabChecks } from './lab-checks.js';
import type { LabPlan } from '../plan.js';
import type { SessionStatus } from './session-status.js';
import type { SessionState } from '../state.js';

/** What the control protocol acts on: the lab's running nodes and its own lifecycle. */
export interface ControlTarget {
  plan: LabPlan;
  status: SessionStatus;
  /** Each NIC, owning its link state, faults, wirefilter and captures. */
  links: LabLinks;
  /** The lab checks, run in the guests by the session. */
  checks: LabChecks;
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
 * send these requests, and each goes to the object it is about (a NIC's Link, a host's node, the
 * lab), which checks it against the plan and the host's kind before it acts.
 */
export class LabControl {
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
        await this.lab.links.of(c.host, c.nic).setUp(c.up);
        return c.up;
      case 'faults':
        return this.lab.links.of(c.host, c.nic).setFaults(c.faults);
      case 'capture':
        return this.capture(c.host, c.nic, c.file, conn);
      case 'capture-stop':
        await this.lab.links.stopCapture(c.id);
        return c.id;
      case 'power-off':
        return this.powerOff(c.host);
      case 'check': {
        // A client that goes (Ctrl-C on qemunet check) ends the run it asked for.
        const abort = new AbortController();
        conn.onClose(() => Promise.resolve(abort.abort()));
        return this.lab.checks.run(c, abort.signal);
      }
      case 'stop':
        // Answered before the teardown, which closes this socket: `qemunet down` waits for the lock to go.
        void this.lab.stop();
        return process.pid;
    }
  }

  /** A capture runs until it is asked to stop or the connection that started it closes, whichever comes first. */
  private async capture(host: string, nic: number, file: string, conn: ControlConnection): Promise<string> {
    const id = await this.lab.links.startCapture(host, nic, file);
    conn.onClose(() => this.lab.links.stopCapture(id));
    return id;
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

  /** The power button of one host: it shuts down and stays off (`restart` starts it again). */
  private async powerOff(name: string): Promise<string> {
    this.lab.status.host(name);
    const vm = this.lab.node(name);
    if (!vm?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${name} is not running`);
    this.lab.status.updateHost(name, { state: 'stopping' });
    await vm.stop(this.lab.stopTimeoutMs);
    return name;
  }
}
