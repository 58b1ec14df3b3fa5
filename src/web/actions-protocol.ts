/**
 * Every route of the web API, declared once: its method, path, what a request carries and what it
 * answers. Shared by the server and the page, like protocol.ts, and as free of Node and DOM imports
 * (and of the schema library: the server's runtime checks are server/action-schemas.ts, which is
 * held to these types when it compiles). Every route is behind the same doors (token, Origin, Host);
 * POST bodies are JSON, 64 KiB at most.
 */
import type { CheckScoreView, FaultField, GraphLayout, SessionView } from './protocol.js';
import type { VlanRow } from './vlan-table.js';

/** `json`: `{ok, result}`. `file`: a download (JSON only when refused). `stream`: bytes until the client goes. */
export type ReplyKind = 'json' | 'file' | 'stream';

export interface RouteSpec {
  method: 'GET' | 'POST';
  path: string;
  reply: ReplyKind;
  /** A request body that works, for the message refusing one that does not (POST only). */
  example?: string;
}

export const ROUTES = {
  session: { method: 'GET', path: '/api/session', reply: 'json' },
  layout: { method: 'GET', path: '/api/layout', reply: 'json' },
  saveLayout: { method: 'POST', path: '/api/layout', reply: 'json', example: '{"positions":{"host:a":{"x":10,"y":20}}}' },
  link: { method: 'POST', path: '/api/nic/link', reply: 'json', example: '{"nic":"a:eth0","up":false}' },
  faults: { method: 'POST', path: '/api/nic/faults', reply: 'json', example: '{"nic":"a:eth0","faults":{"delay":"40ms","jitter":"10ms","loss":"5%"}}' },
  capture: { method: 'POST', path: '/api/capture/file', reply: 'file', example: '{"nic":"a:eth0","seconds":10}' },
  captureLive: { method: 'POST', path: '/api/capture/live', reply: 'stream', example: '{"nic":"a:eth0"}' },
  captureCommand: { method: 'POST', path: '/api/capture/command', reply: 'json', example: '{"nic":"a:eth0"}' },
  power: { method: 'POST', path: '/api/host/power', reply: 'json', example: '{"host":"a","power":"restart"}' },
  exec: { method: 'POST', path: '/api/host/exec', reply: 'json', example: '{"host":"a","command":"ip addr"}' },
  switchCommand: { method: 'POST', path: '/api/switch/command', reply: 'json', example: '{"switch":"s1","command":"vlan/print"}' },
  vlans: { method: 'POST', path: '/api/switch/vlans', reply: 'json', example: '{"switch":"s1"}' },
  save: { method: 'POST', path: '/api/session/save', reply: 'file', example: '{}' },
  stop: { method: 'POST', path: '/api/session/stop', reply: 'json', example: '{}' },
  checks: { method: 'POST', path: '/api/checks/run', reply: 'json', example: '{}' },
  sessions: { method: 'GET', path: '/api/sessions', reply: 'json' },
  labs: { method: 'GET', path: '/api/labs', reply: 'json' },
  labStart: { method: 'POST', path: '/api/labs/start', reply: 'json', example: '{"file":"lan.topo"}' },
} as const satisfies Readonly<Record<string, RouteSpec>>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
/** The routes that take a JSON body. */
export type PostRoute = { [K in RouteName]: (typeof ROUTES)[K]['method'] extends 'POST' ? K : never }[RouteName];

/** A NIC as actions name it: `host:ethN`. */
export interface NicRequest {
  nic: string;
}

export type Power = 'off' | 'on' | 'restart';
export interface PowerRequest {
  host: string;
  power: Power;
}

export interface ExecRequest {
  host: string;
  /** Run by the guest's /bin/sh -c. */
  command: string;
}

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
  /** Output beyond the limit was left out. */
  truncated: boolean;
}

export interface SwitchCommandRequest {
  switch: string;
  command: string;
}

export interface SwitchCommandResult {
  code: number;
  message: string;
  data: string[];
}

export interface SessionRow {
  dir: string;
  topology: string;
  phase: string;
  startedAt: string;
  hosts: number;
  /** The session this server shows now. */
  current: boolean;
}

export interface LabFile {
  name: string;
  kind: 'topology' | 'archive';
  size: number;
}

/** The file a lab start names: a plain name in the --labs folder. */
export interface LabStartRequest {
  file: string;
}

/**
 * A run of the session's checks (its own `checks` file), the student's view: the score when it is
 * over. The rows come live in the view (SessionView.checks) while it runs.
 */
export interface ChecksResult {
  score: CheckScoreView;
  /** Every check passed. */
  passed: boolean;
}

/** A body with nothing in it: `{}`. */
export type NoFields = Record<string, never>;

/** What each route's request carries (GET: nothing; saveLayout: checked by the session's layout reader). */
export interface Requests {
  session: undefined;
  layout: undefined;
  saveLayout: unknown;
  link: NicRequest & { up: boolean };
  faults: NicRequest & { faults: Partial<Record<FaultField, string>> };
  capture: NicRequest & { seconds: number };
  captureLive: NicRequest;
  captureCommand: NicRequest;
  power: PowerRequest;
  exec: ExecRequest;
  switchCommand: SwitchCommandRequest;
  vlans: { switch: string };
  save: NoFields;
  stop: NoFields;
  checks: NoFields;
  sessions: undefined;
  labs: undefined;
  labStart: LabStartRequest;
}

/** What each route answers: the `result` of a json reply; void for none (and for files and streams). */
export interface Results {
  session: SessionView;
  layout: GraphLayout | null;
  saveLayout: void;
  link: void;
  faults: void;
  capture: void;
  captureLive: void;
  captureCommand: { command: string };
  power: void;
  exec: ExecResult;
  switchCommand: SwitchCommandResult;
  vlans: VlanRow[];
  save: void;
  stop: void;
  checks: ChecksResult;
  sessions: SessionRow[];
  labs: { folder: string; files: LabFile[] };
  labStart: { dir: string };
}

/** The longest output of a command run from the page, per stream (the rest is cut, and says so). */
export const EXEC_OUTPUT_LIMIT = 256 * 1024;
/** The longest timed capture the page may ask for. */
export const CAPTURE_MAX_SECONDS = 300;
