import { QemunetError } from '../../errors.js';
import type { RunningNode } from '../../node/kind.js';
import { mergeFaults, type LinkFaults } from '../../protocol/faults.js';
import type { NicStatus } from '../../protocol/session-state.js';
import { capabilityOf, kindOf } from '../kinds/index.js';
import type { LabNetwork } from './network.js';
import type { NicPatch } from './nic-status.js';
import type { HostPlan, LabPlan } from '../plan.js';
import type { SessionStatus } from './session-status.js';

/** What a link acts through: the session's status (where it records), its wires, and the running hosts. */
export interface LinkContext {
  plan: LabPlan;
  status: SessionStatus;
  network: Pick<LabNetwork, 'setFaults' | 'setWireLink'>;
  /** The running node of a host, if it has one. */
  node(host: string): RunningNode | undefined;
}

/**
 * The faults to send to a wirefilter for `given`, on a link that the wirefilter itself holds down
 * (a kind without carrier control): the loss stays at 100 % until the link is up, and the other
 * faults act at once. Pure.
 */
export function wireFaultsFor(given: LinkFaults, cutInWire: boolean): LinkFaults {
  if (!cutInWire) return given;
  const { lossPct: _held, ...notLoss } = given;
  return notLoss;
}

/**
 * One NIC of a host as the session owns it: its link up or down, its faults, whether a wirefilter
 * carries it, and its running captures. Every change has one shape: apply it to the real thing
 * (the kind's link or capture strategy, the wirefilter), then record it in the session's status,
 * which writes the state file and pushes it to every subscriber: whoever asked, all see it.
 */
export class Link {
  /** What stops each running capture, by id; each is stopped once. */
  private readonly captureEnds = new Map<string, () => Promise<unknown>>();

  constructor(
    private readonly ctx: LinkContext,
    readonly host: string,
    readonly nic: number,
  ) {}

  /** What the session records of this NIC now. */
  get record(): Readonly<NicStatus> {
    return this.ctx.status.nic(this.host, this.nic);
  }

  /**
   * The link's state: the guest's carrier (QEMU), or for a kind without carrier control (UML) its
   * wirefilter, which gets back the NIC's recorded loss when up.
   */
  async setUp(up: boolean): Promise<void> {
    const link = capabilityOf(this.host, kindOf(this.plan), 'link');
    const node = this.runningNode();
    if (link.via === 'carrier') await link.set(node, this.nic, up);
    else await this.ctx.network.setWireLink(this.host, this.nic, up, this.record.faults?.lossPct ?? 0);
    this.recordChange({ up });
  }

  /**
   * Faults, set in the NIC's wirefilter (put in live if it has none); a given fault replaces its
   * kind, 0 clears it. While a link cut in its wirefilter is down, a new loss is recorded but not
   * applied: `setUp(true)` applies it. Answers the NIC's faults now and the wirefilter's summary.
   */
  async setFaults(given: LinkFaults): Promise<{ faults: LinkFaults; wirefilter: string[] }> {
    // As before Links: only on a running host (a wirefilter put in live beside a NIC whose QEMU is gone is untried).
    this.runningNode();
    const cutInWire = kindOf(this.plan).link?.via === 'wire' && this.record.up === false;
    const wirefilter = await this.ctx.network.setFaults(this.host, this.nic, wireFaultsFor(given, cutInWire));
    this.recordChange({ wired: true, faults: mergeFaults(this.record.faults ?? {}, given) });
    return { faults: this.record.faults ?? {}, wirefilter };
  }

  /** Starts writing the NIC's frames to `file`, recorded under `id` until `stopCapture(id)`. */
  async startCapture(file: string, id: string): Promise<void> {
    const capture = capabilityOf(this.host, kindOf(this.plan), 'capture');
    const end = await capture.start(this.runningNode(), this.nic, file, id);
    this.captureEnds.set(id, end);
    this.recordChange({ captures: [...(this.record.captures ?? []), { id, since: new Date().toISOString() }] });
  }

  /** Ends a capture once (a second call, or one for an id it does not run, does nothing); it leaves the state even when ending it fails. */
  async stopCapture(id: string): Promise<void> {
    const end = this.captureEnds.get(id);
    if (!end) return;
    this.captureEnds.delete(id);
    try {
      await end();
    } finally {
      this.dropCaptures((c) => c === id);
    }
  }

  /** The host's process is gone, and its captures with it (QEMU's filter-dump lived in it). */
  hostGone(): void {
    this.captureEnds.clear();
    this.dropCaptures(() => true);
  }

  /** A host started again has its link up: a new QEMU starts with its carrier, a UML's wires are renewed with its faults. */
  hostRestarted(): void {
    this.recordChange({ up: true });
  }

  private dropCaptures(which: (id: string) => boolean): void {
    const kept = (this.record.captures ?? []).filter((c) => !which(c.id));
    if (kept.length !== (this.record.captures?.length ?? 0)) this.recordChange({ captures: kept });
  }

  /** The one place a change is recorded: the status writes it and pushes it. */
  private recordChange(patch: NicPatch): void {
    this.ctx.status.updateNic(this.host, this.nic, patch);
  }

  private get plan(): HostPlan {
    return this.ctx.plan.hosts.find((h) => h.name === this.host)!;
  }

  private runningNode(): RunningNode {
    const node = this.ctx.node(this.host);
    if (!node?.running) throw new QemunetError('HOST_NOT_RUNNING', `host ${this.host} is not running`);
    return node;
  }
}

/**
 * Every NIC of the session as a Link, and its captures by id (ids are the session's: QEMU names its
 * filter-dump objects by them).
 */
export class LabLinks {
  private readonly links = new Map<string, Link>();
  private readonly captureLinks = new Map<string, Link>();
  private captures = 0;

  constructor(private readonly ctx: LinkContext) {
    for (const h of ctx.plan.hosts) h.nics.forEach((_, i) => this.links.set(key(h.name, i), new Link(ctx, h.name, i)));
  }

  /** Host `host`'s NIC `nic`; UNKNOWN_HOST or UNKNOWN_NIC naming what there is. */
  of(host: string, nic: number): Link {
    this.ctx.status.nic(host, nic);
    return this.links.get(key(host, nic))!;
  }

  /** Starts a capture; answers its id, which `stopCapture` ends. */
  async startCapture(host: string, nic: number, file: string): Promise<string> {
    const link = this.of(host, nic);
    const id = `capture${++this.captures}`;
    await link.startCapture(file, id);
    this.captureLinks.set(id, link);
    return id;
  }

  /** Ends a capture, once; an id that runs no capture (ended already) is no error. */
  async stopCapture(id: string): Promise<void> {
    const link = this.captureLinks.get(id);
    this.captureLinks.delete(id);
    await link?.stopCapture(id);
  }

  hostGone(host: string): void {
    for (const [id, link] of this.captureLinks) if (link.host === host) this.captureLinks.delete(id);
    for (const link of this.ofHost(host)) link.hostGone();
  }

  hostRestarted(host: string): void {
    for (const link of this.ofHost(host)) link.hostRestarted();
  }

  private ofHost(host: string): Link[] {
    return [...this.links.values()].filter((l) => l.host === host);
  }
}

function key(host: string, nic: number): string {
  return `${host}\n${nic}`;
}
