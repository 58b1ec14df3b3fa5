/**
 * The action endpoints of the page's panels (host, capture, switch, session, sessions): paths,
 * request bodies and results. Shared by the server and the page, like protocol.ts, and as free of
 * Node and DOM imports. Every one is POST (token or cookie with Origin, Host checked) except the
 * two lists, which are GET.
 */

export const PATHS = {
  power: '/api/host/power',
  exec: '/api/host/exec',
  captureLive: '/api/capture/live',
  captureCommand: '/api/capture/command',
  switchCommand: '/api/switch/command',
  vlans: '/api/switch/vlans',
  save: '/api/session/save',
  sessions: '/api/sessions',
  labs: '/api/labs',
  labStart: '/api/labs/start',
} as const;

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

/** The longest output of a command run from the page, per stream (the rest is cut, and says so). */
export const EXEC_OUTPUT_LIMIT = 256 * 1024;
