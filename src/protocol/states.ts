/**
 * The states of a host and a switch and the phases of a session, declared once (session-state.ts gives them
 * their schema). Free of any library, so the web page uses them too.
 */

/** `stalled`: booting, but silent or not ready past the watchdog's limits (it may still come through). */
export const HOST_STATES = ['pending', 'starting', 'booting', 'stalled', 'ready', 'running', 'stopping', 'stopped', 'crashed', 'failed'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** States a host does not leave by itself: its process is gone (`restart` starts it again). */
export const FINAL_HOST_STATES: ReadonlySet<HostState> = new Set(['stopped', 'crashed', 'failed'] as const satisfies readonly HostState[]);
/** States in which a host's CPUs run: its screen, console and agent can be reached. */
export const UP_HOST_STATES: ReadonlySet<HostState> = new Set(['booting', 'stalled', 'ready', 'running'] as const satisfies readonly HostState[]);

export const SESSION_PHASES = ['starting', 'running', 'stopping', 'stopped', 'failed'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];
/** Phases of a session whose driving process is (still) there. */
export const LIVE_SESSION_PHASES: ReadonlySet<SessionPhase> = new Set(['starting', 'running', 'stopping'] as const satisfies readonly SessionPhase[]);

export const SWITCH_STATES = ['pending', 'running', 'stopped', 'failed'] as const;
export type SwitchState = (typeof SWITCH_STATES)[number];
