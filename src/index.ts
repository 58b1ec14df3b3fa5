/**
 * qemunet's public API: what a program needs to drive sessions as the CLI and the web front end do
 * (they use the same API, src/api/). Everything else under src/ is internal and may change. A lab
 * starts with `up({ topologyFile, environment: labEnvironment(process.env, homedir()) })` (the
 * environment is the caller's to give: the core reads none); a saved session is restored with
 * `from: ARCHIVE_OR_DIR` instead of the topology file.
 */
export * from './api/index.js';

// Topology files: text -> raw statements -> a checked, defaulted topology.
export { parseTopology } from './topology/parse.js';
export { resolveTopology } from './topology/resolve.js';
export type { HostDef, LinkDef, NicDef, RawStatement, RawTopology, SwitchDef, TapDef, Topology, TrunkDef } from './topology/types.js';

// Errors: each carries a stable `code`.
export { EnvironmentError, ImageError, InputError, InterruptedError, isQemunetError, ProcessError, QemunetError, SessionError, UsageError, VmError } from './errors.js';
