/**
 * Every error code qemunet gives, with what follows from it: the one table. The CLI's exit status,
 * the web API's HTTP status and whether the error is the requester's input come from here; a code
 * that is not in it does not compile (`QemunetError` takes an `ErrorCode`).
 *
 * The code decides, not the class: an error that crossed the control socket arrives as a plain
 * QemunetError with the code it had in the session's process.
 */
interface ErrorTraits {
  /** The request itself is wrong (a bad name, value or shape): HTTP 400 rather than 409. */
  input?: true;
  /** Names something that does not exist: a websocket asking for it is refused with 404. */
  absent?: true;
  /** Exists, but cannot be reached now: a websocket asking for it is refused with 503. */
  notNow?: true;
  /** The web API's own status for this code, when it is neither 400 (input) nor 409 (refused for the session's state). */
  http?: 401 | 403 | 404 | 500;
  /** What the request names will not come back by itself in the next seconds (no such host, not running, no agent): a caller that retries (a lab check) stops at once. */
  gone?: true;
  /** The exit status, when not 1: 2 for a command line qemunet cannot use (as most Unix tools), 130 for Ctrl-C or SIGTERM (as shells report SIGINT). */
  exit?: 2 | 130;
}

const INPUT: ErrorTraits = { input: true };
/** Neither the input's fault nor a special exit: the request was refused for the session's or the machine's state. */
const REFUSED: ErrorTraits = {};

export const ERROR_CODES = {
  // The command line, and node:util parseArgs (which the session commands use).
  USAGE: { input: true, exit: 2 },
  ERR_PARSE_ARGS_UNKNOWN_OPTION: { input: true, exit: 2 },
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: { input: true, exit: 2 },
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: { input: true, exit: 2 },
  INTERRUPTED: { exit: 130 },
  /** An environment variable qemunet reads has a value it cannot use: exit 2, as a bad option. */
  ENV_INVALID: { exit: 2 },
  NOT_CONFIRMED: REFUSED,
  NOT_YET_SUPPORTED: REFUSED,

  // Names and values a request gives.
  UNKNOWN_HOST: { input: true, absent: true, gone: true },
  UNKNOWN_NIC: INPUT,
  UNKNOWN_SWITCH: INPUT,
  LINK_SETTING: INPUT,
  CAPTURE_PATH: REFUSED,
  LAYOUT: INPUT,
  BAD_REQUEST: INPUT,
  BAD_SESSION: INPUT,
  BAD_LAB_PATH: INPUT,
  NO_LABS: REFUSED,

  // The control protocol.
  CONTROL_NOT_JSON: INPUT,
  UNKNOWN_COMMAND: INPUT,
  BAD_COMMAND: INPUT,
  PROTOCOL_VERSION: REFUSED,
  LINE_TOO_LONG: REFUSED,
  CONTROL_FAILED: REFUSED,
  CONTROL_TIMEOUT: REFUSED,

  // Sessions.
  NO_SESSION: REFUSED,
  SESSION_AMBIGUOUS: REFUSED,
  SESSION_UNKNOWN: REFUSED,
  SESSION_NOT_RUNNING: REFUSED,
  SESSION_BUSY: REFUSED,
  SESSION_LOCKED: REFUSED,
  SESSION_NOT_DIR: REFUSED,
  SESSION_PATH_TOO_LONG: REFUSED,
  SESSION_READONLY: REFUSED,
  FROM_MISSING: REFUSED,
  START_FAILED: REFUSED,
  WEB_START: REFUSED,
  SAVE_FAILED: REFUSED,
  BASE_MISMATCH: REFUSED,
  OVERLAY_UNSAFE: REFUSED,
  ARCHIVE_CORRUPT: REFUSED,
  ARCHIVE_EMPTY: REFUSED,
  ARCHIVE_NO_TOPOLOGY: REFUSED,
  ARCHIVE_TOO_BIG: REFUSED,
  ARCHIVE_UNREADABLE: REFUSED,
  ARCHIVE_UNSAFE: REFUSED,

  // Topologies, the configuration and the lab's plan.
  TOPOLOGY_SYNTAX: REFUSED,
  TOPOLOGY_INVALID: REFUSED,
  TOPOLOGY_EMPTY: REFUSED,
  TOPOLOGY_UNREADABLE: REFUSED,
  DUPLICATE_NAME: REFUSED,
  SWITCH_FULL: REFUSED,
  CONFIG_INVALID: REFUSED,
  CONFIG_MISSING: REFUSED,
  CONFIG_NAME: REFUSED,
  CONFIG_SYNTAX: REFUSED,
  CONFIG_VARIABLE: REFUSED,
  DISPLAY_NOGRAPHIC: REFUSED,
  TOO_MANY_HOSTS: REFUSED,
  UML_DISPLAY: REFUSED,
  UML_PATH: REFUSED,
  UNKNOWN_DISPLAY: REFUSED,
  UNKNOWN_SYSTEM: REFUSED,
  VLAN_ON_HUB: REFUSED,
  /** A TAP line in a lab started from the web page (it would change this machine's network). */
  TAP_REFUSED: REFUSED,
  VLAN_REQUIRED: REFUSED,

  // A lab's checks file (checks/): its syntax, what it names, and what its parameters need.
  CHECKS_SYNTAX: REFUSED,
  CHECKS_MISSING: REFUSED,
  CHECKS_RUNNING: REFUSED,
  CHECKS_INVALID: REFUSED,
  CHECKS_EMPTY: REFUSED,
  /** A PARAM line in a lab with no secret (a lab without a secret has no parameters). */
  CHECKS_NO_SECRET: REFUSED,
  /** Per-student parameters, and no student named. */
  CHECKS_NO_STUDENT: REFUSED,

  // Hosts.
  HOST_FAILED: REFUSED,
  HOST_NOT_RUNNING: { notNow: true, gone: true },
  HOST_RUNNING: REFUSED,
  NOT_READY: REFUSED,
  NOT_SUPPORTED: REFUSED,
  VM_EXITED: { gone: true },
  NO_AGENT: { gone: true },
  AGENT_COMMAND: REFUSED,
  AGENT_UNAVAILABLE: REFUSED,
  EXEC_TIMEOUT: REFUSED,
  QMP_COMMAND: REFUSED,
  REQUEST_TIMEOUT: REFUSED,
  SOCKET_CLOSED: REFUSED,
  SOCKET_CONNECT: REFUSED,
  NO_VNC_SCREEN: { absent: true },
  SCREEN_UNAVAILABLE: { notNow: true },
  NO_DBUS: REFUSED,
  NO_X_DISPLAY: REFUSED,
  CONSOLE_CONNECT: REFUSED,
  CONSOLE_LISTEN: REFUSED,
  CONSOLE_PATH_TAKEN: REFUSED,
  CONSOLE_PROTOCOL: REFUSED,
  CONSOLE_RESIZE: REFUSED,
  CONSOLE_TIMEOUT: REFUSED,
  CONSOLE_UNAVAILABLE: REFUSED,

  // Switches and wires.
  SWITCH_COMMAND: REFUSED,
  /** A lab console's management command that is not read-only nor about VLANs and ports (mgmt-commands.ts). */
  SWITCH_COMMAND_REFUSED: INPUT,
  SWITCH_FAILED: REFUSED,
  SWITCH_TIMEOUT: REFUSED,
  SWITCH_UNREACHABLE: REFUSED,
  PLUG_FAILED: REFUSED,
  NEEDS_NET_ADMIN: REFUSED,
  HUB_NO_LIVE_WIRE: REFUSED,
  TAGGED_NO_LIVE_WIRE: REFUSED,
  NO_FREE_PORT: REFUSED,
  NO_FREE_VLAN: REFUSED,

  // Images and their downloads and builds.
  IMAGE_MISSING: REFUSED,
  NOT_BUILDABLE: REFUSED,
  NOT_BUILT: REFUSED,
  NOT_REMOVABLE: REFUSED,
  STORE_NOT_WRITABLE: REFUSED,
  DISK_FULL: REFUSED,
  APT_FAILED: REFUSED,
  NO_APT: REFUSED,
  NO_APT_SOURCES: REFUSED,
  NO_SUITE: REFUSED,
  PACKAGE_NOT_FOUND: REFUSED,
  MMDEBSTRAP_FAILED: REFUSED,
  EXTRACT_FAILED: REFUSED,
  BUILD_MOUNTS: REFUSED,
  KERNEL_FORMAT: REFUSED,
  MODULE_CYCLE: REFUSED,
  MODULE_MISSING: REFUSED,
  DOWNLOAD_BAD_ARCHIVE: REFUSED,
  DOWNLOAD_CHECKSUM: REFUSED,
  DOWNLOAD_FAILED: REFUSED,
  DOWNLOAD_HTTP: REFUSED,
  DOWNLOAD_INCOMPLETE: REFUSED,
  DOWNLOAD_NETWORK: REFUSED,
  DOWNLOAD_NO_URL: REFUSED,
  DOWNLOAD_UNSAFE_ARCHIVE: REFUSED,

  // The web server's doors (security.ts, http-server.ts).
  BAD_HOST: { http: 403 },
  BAD_ORIGIN: { http: 403 },
  NO_TOKEN: { http: 401 },
  BAD_TOKEN: { http: 401 },
  NOT_FOUND: { http: 404 },
  NO_PAGE: { http: 500 },
  INTERNAL: { http: 500 },

  // Programs qemunet runs.
  PROCESS_FAILED: REFUSED,
  PROGRAM_MISSING: REFUSED,
} as const satisfies Readonly<Record<string, ErrorTraits>>;

export type ErrorCode = keyof typeof ERROR_CODES;

function traits(code: string): ErrorTraits | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? (ERROR_CODES as Readonly<Record<string, ErrorTraits>>)[code] : undefined;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && traits(code) !== undefined;
}

/** Whether trying again in a moment cannot help (see `gone`). */
export function isGone(code: string): boolean {
  return traits(code)?.gone === true;
}

/** The exit status of a command that failed with `code`: 1 unless the table says otherwise. */
export function exitStatus(code: string): number {
  return traits(code)?.exit ?? 1;
}

/** Whether the request itself was wrong (rather than refused for the session's state). */
export function isInputError(code: string): boolean {
  return traits(code)?.input === true;
}

/** The web API's status for a refused request: the door's own (401, 403, 404, 500), else 400 for the requester's input, 409 for the session's state. */
export function httpStatus(code: string): 400 | 401 | 403 | 404 | 409 | 500 {
  return traits(code)?.http ?? (isInputError(code) ? 400 : 409);
}

/** The status refusing a websocket (a screen) for an error: no such thing 404, not now 503, else 500. */
export function upgradeRefusalStatus(code: string): 404 | 500 | 503 {
  const t = traits(code);
  return t?.absent ? 404 : t?.notNow ? 503 : 500;
}
