import { QemunetError } from '../errors.js';

import type { HostKind } from '../protocol/session-state.js';

/** What runs a host (declared with the session's state): they differ in what qemunet can do to them. */
export { HOST_KINDS, type HostKind } from '../protocol/session-state.js';

/** What qemunet does to a running host; a kind has a subset. */
export type Capability = 'launch' | 'stop' | 'console' | 'readiness' | 'exec' | 'freeze' | 'link' | 'capture' | 'screen' | 'save';

/** Every kind's capabilities, in one place (docs/guest.md lists the same). */
export const KIND_CAPABILITIES: Readonly<Record<HostKind, ReadonlySet<Capability>>> = {
  qemu: new Set<Capability>(['launch', 'stop', 'console', 'readiness', 'exec', 'freeze', 'link', 'capture', 'screen', 'save']),
  // Link state goes through the wirefilter qemunet puts on every UML NIC; capture has no such hook.
  uml: new Set<Capability>(['launch', 'stop', 'console', 'readiness', 'exec', 'freeze', 'link', 'save']),
};

const DOING: Record<Capability, string> = {
  launch: 'be started',
  stop: 'be stopped',
  console: 'give a console',
  readiness: 'report readiness',
  exec: 'run commands (exec)',
  freeze: 'be frozen for a save',
  link: 'set its link state',
  capture: 'capture its NIC traffic',
  screen: 'have a screen',
  save: 'be saved',
};

/** A host's kind lacks a capability: names the host, its kind, and what it cannot do. */
export class CapabilityError extends QemunetError {
  constructor(
    readonly host: string,
    readonly kind: HostKind,
    readonly capability: Capability,
  ) {
    const can = [...KIND_CAPABILITIES[kind]].join(', ');
    super('NOT_SUPPORTED', `host ${host} is a ${kind} host, which cannot ${DOING[capability]}; a ${kind} host can: ${can}`);
  }
}

/** Throws a CapabilityError unless kind `kind` has `capability`. */
export function requireCapability(host: string, kind: HostKind, capability: Capability): void {
  if (!KIND_CAPABILITIES[kind].has(capability)) throw new CapabilityError(host, kind, capability);
}

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A booted guest's agent connection, closed as soon as readiness is known (the agent takes one client at a time). */
export interface ReadyAgent {
  close(): void;
}

/**
 * A running host of any kind, as the Lab drives it. Methods of capabilities a kind lacks are absent;
 * the Lab checks KIND_CAPABILITIES first and gives a CapabilityError.
 */
export interface RunningNode {
  readonly kind: HostKind;
  readonly name: string;
  readonly pid: number;
  readonly running: boolean;
  /** Launched paused and not resumed yet: there is no guest to power off. */
  paused: boolean;
  readonly exited: Promise<NodeExit>;
  /** The end of its stderr, for crash reports. */
  readonly stderr: string;
  onConsoleOutput(listener: (data: Buffer) => void): void;
  writeConsole(data: Buffer): void;
  /** Starts the CPUs of a node launched paused, or frozen. */
  resume(): Promise<void>;
  /** Stops its CPUs with its disk consistent (freeze capability). */
  freeze(): Promise<void>;
  waitReady(signal?: AbortSignal): Promise<ReadyAgent>;
  /** Graceful, then forced. */
  stop(timeoutMs?: number): Promise<NodeExit>;
  kill(): Promise<NodeExit>;
  setLink?(nic: number, up: boolean): Promise<void>;
  /** Starts writing NIC ethN's frames to a pcap file; returns what stops it. */
  startCapture?(nic: number, file: string, id: string): Promise<() => Promise<unknown>>;
  /** The password of a VNC/SPICE server on TCP (screen capability). */
  setScreenPassword?(protocol: 'vnc' | 'spice', password: string): Promise<void>;
}
