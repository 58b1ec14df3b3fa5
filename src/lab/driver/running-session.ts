import type { LabPlan } from '../plan.js';
import type { SessionState } from '../state.js';

/**
 * What the caller of `up` may do with the session it started, which this process drives: follow
 * its state, wait for its hosts, stop it. Everything else is the session's own (the Lab class).
 */
export interface RunningSession {
  /** The session directory. */
  readonly dir: string;
  /** What runs: each host, switch and link as planned (read-only). */
  readonly plan: Readonly<LabPlan>;
  /** Resolves once the session has ended: after `stop()`, or when every host has gone. */
  readonly ended: Promise<void>;
  /** The session's state now (the same as its state file and the control socket's). */
  state(): SessionState;
  /** Calls `listener` with the state after every change. */
  on(event: 'change', listener: (state: SessionState) => void): this;
  off(event: 'change', listener: (state: SessionState) => void): this;
  /**
   * Resolves when every host with a guest agent is ready (the others once running). Rejects when
   * one crashes, or at the timeout naming the hosts that are not ready with the end of their consoles.
   */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Powers the hosts off (hard: kills them), then stops the network and windows; runs to the end whatever fails. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Sends SIGKILL to everything at once: the last resort after a second Ctrl-C. */
  killNow(): void;
}
