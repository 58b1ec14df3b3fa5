import type { HostKind } from '../protocol/session-state.js';

/** What runs a host (declared with the session's state): they differ in what qemunet can do to them (src/lab/kinds/). */
export { HOST_KINDS, type HostKind } from '../protocol/session-state.js';

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A booted guest's agent connection, closed as soon as readiness is known (the agent takes one client at a time). */
export interface ReadyAgent {
  close(): void;
}

/**
 * A running host of any kind, as the Lab drives it: what every kind can do. What only some kinds can
 * do (link, capture, screen) are their kind's strategies (src/lab/kinds/), given the kind's own node.
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
}
