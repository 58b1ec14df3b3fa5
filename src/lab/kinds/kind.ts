import type { SystemEntry } from '../../config/catalog.js';
import { QemunetError } from '../../errors.js';
import type { HostKind } from '../../protocol/session-state.js';
import type { RunningNode } from '../../node/kind.js';
import type { DisplaySpec } from '../../vm/qemu-argv.js';
import type { HostPaths, SessionPaths } from '../../session/paths.js';
import type { HostDef, Topology } from '../../topology/types.js';
import type { DisplayMode, HostPlan, PlanOptions } from '../plan.js';

/**
 * How a NIC's link goes down and up. `carrier`: the guest's own carrier (QEMU's set_link through
 * QMP): it sees its cable pulled. `wire`: the kind has no carrier control, so every NIC of its hosts
 * goes through a wirefilter (planned so), which drops every frame while the link is down.
 */
export type LinkStrategy<N> = { readonly via: 'carrier'; set(node: N, nic: number, up: boolean): Promise<void> } | { readonly via: 'wire' };

/** Writing a NIC's frames to a pcap file; `start` gives what stops it. */
export interface CaptureStrategy<N> {
  start(node: N, nic: number, file: string, id: string): Promise<() => Promise<unknown>>;
}

/** A screen: QEMU's window, or a VNC/SPICE server whose password on TCP is set in the running host. */
export interface ScreenStrategy<P, N> {
  /** The host's screen as planned (`none` for the terminal display modes). */
  display(h: P): DisplaySpec;
  setPassword(node: N, protocol: 'vnc' | 'spice', password: string): Promise<void>;
}

/** What planning one host is given (plan.ts resolves its system and display first). */
export interface HostPlanInput {
  topology: Topology;
  host: HostDef;
  hostIndex: number;
  system: SystemEntry;
  display: DisplayMode;
  hp: HostPaths;
  paths: SessionPaths;
  options: PlanOptions;
  /** Things the user should know, added to the plan's. */
  notes: string[];
}

/** What a save keeps of a host: the file holding what its guest changed on its base (freeze is every node's). */
export interface SaveStrategy<P> {
  guestChanges(h: P): string | undefined;
}

/**
 * A host kind (QEMU, UML, ...), as the Lab drives it: registered once (registry.ts), each kind saying
 * how it is planned, checked, prepared and launched, and declaring what it can do as typed members.
 * A kind without a capability lacks that member; `capabilityOf` is the one place that refuses it.
 * Every kind can be launched, stopped, frozen and thawed, give a console, report readiness and run
 * commands (RunningNode); the optional members below are what differ.
 */
export interface HostKindDriver<P extends HostPlan = HostPlan, N extends RunningNode = RunningNode> {
  readonly name: HostKind;
  /** The SYS value of the systems it runs (`uml`); none for the kind that runs every other system. */
  readonly sys?: string;
  /** How messages name its process ("QEMU exited (1)"). */
  readonly processName: string;
  /** Programs its hosts run, checked before anything starts. */
  readonly programs: readonly string[];
  /** The host's launch spec, from its HOST line, system and the session's options. Pure. */
  plan(input: HostPlanInput): P;
  /** Notes for the whole plan when it has hosts of this kind. */
  planNotes?(options: PlanOptions): string[];
  /** A system's files (and what else it needs on this machine), checked before anything starts. */
  checkSystem(system: SystemEntry): Promise<void>;
  /** The host's files before it starts (overlay, directories); true when it made the overlay. */
  prepare(h: P, signal?: AbortSignal): Promise<boolean>;
  /** The host's command line, as `<host>.sh` and `--dry-run` show it. */
  command(h: P): string[];
  /** `--dry-run`'s lines that make the host's files. */
  dryRunSetup(h: P): string[];
  launch(h: P, options: { paused: boolean; signal?: AbortSignal }): Promise<N>;
  /** Whether a host started again needs new wires (the plug of its wire keeps its first peer). */
  readonly restartRenewsWires: boolean;
  /** The accelerator its hosts run under, for stall messages and the move to TCG. */
  accel?(h: P): 'kvm' | 'tcg' | 'hvf';
  readonly link?: LinkStrategy<N>;
  readonly capture?: CaptureStrategy<N>;
  readonly screen?: ScreenStrategy<P, N>;
  readonly save?: SaveStrategy<P>;
}

/** What qemunet does to a running host, in the order messages list them, and which a kind may lack. */
const CAPABILITIES = [
  ['launch', 'be started'],
  ['stop', 'be stopped'],
  ['console', 'give a console'],
  ['readiness', 'report readiness'],
  ['exec', 'run commands (exec)'],
  ['freeze', 'be frozen for a save'],
  ['link', 'set its link state'],
  ['capture', 'capture its NIC traffic'],
  ['screen', 'have a screen'],
  ['save', 'be saved'],
] as const;

export type Capability = (typeof CAPABILITIES)[number][0];
/** The capabilities a kind declares as members (the others every kind has). */
export type OptionalCapability = 'link' | 'capture' | 'screen' | 'save';

function declares(kind: HostKindDriver, c: Capability): boolean {
  return c === 'link' || c === 'capture' || c === 'screen' || c === 'save' ? kind[c] !== undefined : true;
}

/** What a kind can do, in order (docs/guest.md lists the same). */
export function capabilitiesOf(kind: HostKindDriver): Capability[] {
  return CAPABILITIES.map(([c]) => c).filter((c) => declares(kind, c));
}

/** A host's kind lacks a capability: names the host, its kind, and what it can do. */
export class CapabilityError extends QemunetError {
  constructor(
    readonly host: string,
    readonly kind: HostKind,
    readonly capability: Capability,
    can: readonly Capability[],
  ) {
    const doing = CAPABILITIES.find(([c]) => c === capability)?.[1] ?? capability;
    super('NOT_SUPPORTED', `host ${host} is a ${kind} host, which cannot ${doing}; a ${kind} host can: ${can.join(', ')}`);
  }
}

/** Host `host`'s strategy for `capability`, or the CapabilityError naming the host, its kind and what it can do. */
export function capabilityOf<C extends OptionalCapability>(host: string, kind: HostKindDriver, capability: C): NonNullable<HostKindDriver[C]> {
  const strategy = kind[capability];
  if (strategy === undefined) throw new CapabilityError(host, kind.name, capability, capabilitiesOf(kind));
  return strategy as NonNullable<HostKindDriver[C]>;
}
