/**
 * qemunet's public API: what a program needs to drive sessions as the CLI does. Everything else
 * under src/ is internal and may change. A saved session is restored by `up({ from: ARCHIVE_OR_DIR })`.
 */

// Starting a session, or showing what starting it would run.
export { up, dryRun, checkUp, type UpRequest } from './lab/up.js';
export type { Lab } from './lab/lab.js';

// Sessions on this machine, and what can be done to a running one.
export { down, execInHost, findSession, isLive, listSessions, restartHost, sessionStatus, setLink, setLinkFaults, startCapture } from './lab/sessions.js';
export { saveSession } from './lab/save.js';
export type { HostState, HostStatus, SessionPhase, SessionState, SwitchStatus } from './lab/state.js';
export type { DisplayMode, NicPlan } from './lab/plan.js';

// Topology files: text -> raw statements -> a checked, defaulted topology.
export { parseTopology } from './topology/parse.js';
export { resolveTopology } from './topology/resolve.js';
export type { HostDef, LinkDef, NicDef, RawStatement, RawTopology, SwitchDef, TapDef, Topology, TrunkDef } from './topology/types.js';

// Errors: each carries a stable `code`.
export { ImageError, InputError, InterruptedError, isQemunetError, ProcessError, QemunetError, SessionError, UsageError, VmError } from './errors.js';
