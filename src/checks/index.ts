/**
 * Lab checks (issue 20), the pure core: read a checks file, check it against the topology, resolve
 * it for one student, run it through an executor, report the results. Nothing here touches a
 * session: the caller gives the executor (the session's guest agents) and the clock.
 */
export { parseChecks, DEFAULT_WITHIN_MS, MIN_SECRET_LENGTH, STATEMENTS } from './parse.js';
export { checkAgainstTopology } from './topology-check.js';
export { resolveChecks, type ResolveOptions, type ResolvedChecks } from './resolve.js';
export { prepareChecks } from './prepare.js';
export { deriveParams, renderParamsFile, TOKEN_ALPHABET } from './params.js';
export { probeOf, seenOf, type ExecOutcome, type Probe, type Verdict } from './probe.js';
export { runChecks, scoreOf, checksExitStatus, RETRY_MS, type CheckExecutor, type CheckResult, type Clock, type Graded, type RunOptions, type Score } from './run.js';
export { systemClock } from './clock.js';
export { sessionExecutor, MAX_STREAM_BYTES, type ExecClient } from './session-executor.js';
export { reportText, reportJson, shownResults, type ReportInfo, type View } from './report.js';
export { reportTap } from './report-tap.js';
export { reportJunit } from './report-junit.js';
export { classTableCsv, csvCell, type ClassRow } from './report-csv.js';
export { CHECK_KINDS, PARAM_GENERATORS, type Check, type ChecksFile, type CheckKind, type ParamDef, type ParamValue, type ParamValues, type RawCheck } from './types.js';
