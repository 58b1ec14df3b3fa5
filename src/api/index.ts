/**
 * The one typed API through which `cli/`, `web/` and other programs reach sessions and images.
 * Nothing else under src/ is for them: a test checks that cli/ and web/ import only this.
 */

// Starting a session (the returned RunningSession is driven by this process), or showing what it would run.
export { up, dryRun, checkUp, type UpSettings, type LabEnvironment } from '../lab/driver/up.js';
export type { RunningSession } from '../lab/driver/running-session.js';
export type { AccelMode } from '../vm/accel-probe.js';
export { labEnvironment } from './lab-environment.js';
export { gradeClass, gradeSaved, studentOf, type GradeOptions } from './grade.js';
export { startDetached, type DetachedRequest } from './start-detached.js';
export { launchWeb } from './background.js';
export { sessionDirectory } from '../lab/driver/prepare.js';
export { DEFAULT_BOOT_LIMITS, type BootLimits } from '../lab/driver/watchdog.js';

// Sessions on this machine, and one session's operations.
export { isLive } from '../lab/client/sessions.js';
export { FINAL_HOST_STATES } from '../protocol/session-state.js';
export { SessionClient, listSessions, parseNicRef, type CheckOptions, type ExecIo, type StateSubscription } from './session-client.js';
export type { CaptureStream } from '../lab/client/capture-stream.js';
// Following a file another process appends to (a detached session's log, a capture).
export { FileFollower } from '../process/file-follower.js';
export type { HostState, HostStatus, NicStatus, ScreenAccess, SessionPhase, SessionState, SwitchStatus } from '../lab/state.js';
export { DISPLAY_MODES, TINY_TCG_CACHE_MIB, type DisplayMode, type LabPlan, type NicPlan } from '../lab/plan.js';
export type { AttachIo } from '../console/attach.js';
export type { MgmtReply } from '../switch/mgmt-protocol.js';

// Images: the built-in ones and those of qemunet.cfg.
export { buildImage, listImages, pullImage, removeImage, type ImageRow, type FileState } from '../lab/images.js';
export type { BuildProgress } from '../images/builder.js';

// Presenting errors: the exit status of a failed command, from its error's code.
export { exitStatus, isKnownCode } from './exit-status.js';

// Link faults as `qemunet link` and the web dialog write them, checked.
export { parseLinkSetting, type LinkFaults } from '../topology/link-syntax.js';
export { FAULT_NAMES, type FaultName } from '../protocol/fault-names.js';
export { faultLabel } from '../protocol/fault-label.js';
export type { Topology } from '../topology/types.js';

// The graph layout the web page keeps in a session directory.
export { parseLayout, type GraphLayout } from '../session/layout.js';

// A console stream that resumes at a byte offset (the hub's resume socket).
export type { ConsoleCursor, ResumedConsole } from '../console/cursor.js';

// This installation: versions, the machine check (`qemunet doctor`), the shipped demos.
export { QEMUNET_VERSION, packageFile } from '../lab/version.js';
export { demoTopologies, topologyArgument } from '../lab/demos.js';
export { probeMachine, versions } from '../doctor/probe.js';
export { assess, type Check, type CheckStatus, type DoctorReport } from '../doctor/assess.js';
