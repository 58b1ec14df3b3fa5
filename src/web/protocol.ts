/**
 * Everything the web server and the page say to each other: one module, imported by both (it
 * must stay free of Node and DOM imports). Console bytes travel as binary websocket frames; these
 * are the JSON text frames and HTTP bodies.
 */
// No schema library here: the page bundles this module, and the fault names are a plain list.
import { FAULT_NAMES, type FaultName } from '../protocol/fault-names.js';

// Declared once with the session's state; a type only, so the page bundles no schema library.
export type { HostState, SessionPhase } from '../protocol/states.js';
import type { HostState, SessionPhase } from '../protocol/states.js';

export interface NicView {
  /** `host:ethN`, how actions name it. */
  ref: string;
  eth: string;
  switch: string;
  port: number;
  mac: string;
  up: boolean;
  /** Whether it has a wirefilter, so its faults can change live. */
  faultable: boolean;
  /** "40 ms ±10 ms, 10 % loss"; absent with no faults. */
  faults?: string;
  /** Whether a capture of this NIC is running, whoever started it (the session's state says): the graph shows a badge on its link. */
  capturing?: boolean;
}

export interface HostView {
  name: string;
  system: string;
  state: HostState;
  detail?: string;
  /** Set when its screen shows in the page (a `vnc` host on its unix socket), through /ws/screen/HOST. */
  screen?: true;
  nics: NicView[];
}

/** A lab check's state in the Checks panel: pending until the run reaches it; fail is a lab not as it should be, error a check that could not run. */
export type CheckStatusView = 'pending' | 'pass' | 'fail' | 'error';

export interface CheckScoreView {
  earned: number;
  possible: number;
  passed: number;
  total: number;
}

export interface CheckView {
  name: string;
  host: string;
  kind: string;
  points: number;
  status: CheckStatusView;
  earned: number;
  /** What the last try showed, when it did not pass. */
  seen?: string;
}

/** The lab checks' last run as the student sees it (the session's state holds no hidden check). */
export interface ChecksView {
  running: boolean;
  startedAt: string;
  student?: string;
  checks: CheckView[];
  score: CheckScoreView;
  /** Why the checks could not run. */
  error?: string;
}

/** The session as the page draws it; sent whole on every change. */
export interface SessionView {
  dir: string;
  topology: string;
  phase: SessionPhase;
  hosts: HostView[];
  switches: Array<{ name: string; hub: boolean; state: string }>;
  trunks: Array<{ a: { switch: string; port: number }; b: { switch: string; port: number } }>;
  taps: Array<{ name: string; switch: string; port: number }>;
  /** The lab checks' last run, when there was one (Run checks in the page, or qemunet check). */
  checks?: ChecksView;
}

/** Text frames on /ws/events. */
export type EventMessage = { t: 'state'; view: SessionView } | { t: 'error'; code: string; message: string };

/** Text frames the server sends on /ws/console/HOST (console bytes come as binary frames). */
export type ConsoleServerMessage =
  /** Bytes follow from offset `from` of VM start `epoch`; `lost` bytes before it are gone (-1: the VM restarted). */
  | { t: 'hello'; host: string; epoch: string; from: number; lost: number }
  /** The host's console is not served (stopped, crashed, not started yet); the server keeps trying. */
  | { t: 'unavailable'; host: string; message: string }
  | { t: 'error'; code: string; message: string };

/** Text frames the page sends on /ws/console/HOST (typed bytes go as binary frames). */
export type ConsoleClientMessage = { t: 'pause' } | { t: 'resume' } | { t: 'resize'; cols: number; rows: number };

/** Terminal sizes the server passes on to a guest; anything else is refused. */
export const MAX_COLS = 500;
export const MAX_ROWS = 200;

/** The layout routes (actions-protocol.ts): where the graph's nodes were dragged to (node id to graph coordinates). */
export interface GraphLayout {
  positions: Record<string, { x: number; y: number }>;
}

/** The fault dialog's fields: the faults (one list, protocol/fault-names.ts), with delay's jitter as a field of its own. */
export const FAULT_FIELDS: ReadonlyArray<'jitter' | FaultName> = FAULT_NAMES.flatMap((n) => (n === 'delay' ? [n, 'jitter' as const] : [n]));
export type FaultField = (typeof FAULT_FIELDS)[number];

export type ApiReply = { ok: true; result?: unknown } | { ok: false; code: string; message: string };

/** A console cursor carried in the console websocket's URL (`?epoch=E&offset=N`). */
export interface Cursor {
  epoch: string;
  offset: number;
}

export function consolePath(host: string, cursor?: Cursor): string {
  const q = cursor ? `?epoch=${encodeURIComponent(cursor.epoch)}&offset=${cursor.offset}` : '';
  return `/ws/console/${encodeURIComponent(host)}${q}`;
}

/** The websocket of a host's screen: raw RFB bytes both ways, in binary frames (noVNC speaks it). */
export function screenPath(host: string): string {
  return `/ws/screen/${encodeURIComponent(host)}`;
}

/** Parses a text frame; undefined for anything that is not a known message. */
export function decodeConsoleServer(text: string): ConsoleServerMessage | undefined {
  const m = parseObject(text);
  if (!m) return undefined;
  if (m.t === 'hello' && typeof m.host === 'string' && typeof m.epoch === 'string' && isInt(m.from) && isInt(m.lost)) return m as ConsoleServerMessage;
  if ((m.t === 'unavailable' && typeof m.host === 'string') || m.t === 'error') return typeof m.message === 'string' ? (m as ConsoleServerMessage) : undefined;
  return undefined;
}

export function decodeConsoleClient(text: string): ConsoleClientMessage | undefined {
  const m = parseObject(text);
  if (m?.t === 'resize') {
    const ok = (v: unknown, max: number) => isInt(v) && v >= 1 && v <= max;
    return ok(m.cols, MAX_COLS) && ok(m.rows, MAX_ROWS) ? { t: 'resize', cols: m.cols as number, rows: m.rows as number } : undefined;
  }
  return m && (m.t === 'pause' || m.t === 'resume') ? { t: m.t } : undefined;
}

/** What the page prints where bytes are missing; undefined when nothing is. */
export function gapMarker(lost: number, fresh: boolean): string | undefined {
  if (lost === 0) return undefined;
  const text = lost < 0 ? 'the host restarted; its earlier output is above' : fresh ? `${lost} earlier bytes of output are no longer kept` : `${lost} bytes of output were lost here`;
  return `\r\n\x1b[7m[qemunet: ${text}]\x1b[0m\r\n`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** The websocket subprotocol the server answers with; a page offers it beside the one carrying its token (a browser cannot set a websocket's headers). */
export const WS_PROTOCOL = 'qemunet';
export const WS_BEARER_PREFIX = 'qemunet.bearer.';

/** What a page offers when it opens a websocket: the protocol, and the token as a second one (security.ts reads it). */
export function wsProtocolsFor(token: string | undefined): string[] {
  return token ? [WS_PROTOCOL, `${WS_BEARER_PREFIX}${token}`] : [WS_PROTOCOL];
}
