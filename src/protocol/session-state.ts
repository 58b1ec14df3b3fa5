import { z } from 'zod';
import { linkFaultsSchema } from './faults.js';
import { HOST_STATES, SESSION_PHASES, SWITCH_STATES } from './states.js';

/**
 * A session's state as its driving process writes it to `qemunet-state.json` and pushes it to
 * subscribers: declared once here, the TypeScript types inferred from it, checked by each client
 * that receives it over the control socket.
 */

/** What runs a host. `qemu`: a qemu-system-x86_64 VM. `uml`: a User-Mode Linux kernel run as a host process. */
export const HOST_KINDS = ['qemu', 'uml'] as const;
export type HostKind = (typeof HOST_KINDS)[number];

/**
 * QemuNet's display modes, and `gtk`/`sdl` (QEMU's window with that toolkit; `graphic` takes GTK, else SDL).
 * A screen: graphic, gtk, sdl, vnc, spice. A terminal on the serial console: xterm, rxvt, gnome, xfce4
 * (a window each), tmux, screen (one session, a window per host), nographic (this terminal). none: neither.
 */
export const DISPLAY_MODES = ['none', 'nographic', 'graphic', 'gtk', 'sdl', 'vnc', 'spice', 'xterm', 'rxvt', 'gnome', 'xfce4', 'tmux', 'screen'] as const;
export type DisplayMode = (typeof DISPLAY_MODES)[number];

export { FINAL_HOST_STATES, HOST_STATES, LIVE_SESSION_PHASES, SESSION_PHASES, SWITCH_STATES, UP_HOST_STATES, type HostState, type SessionPhase, type SwitchState } from './states.js';
export const hostStateSchema = z.enum(HOST_STATES);

/** One running capture of a NIC's frames. */
export const nicCaptureSchema = z.object({
  id: z.string(),
  /** When it started (ISO 8601). */
  since: z.string(),
});
export type NicCapture = z.infer<typeof nicCaptureSchema>;

export const nicStatusSchema = z.object({
  /** eth0, eth1, ... as the guest names them. */
  eth: z.string(),
  switch: z.string(),
  port: z.number().int(),
  mac: z.string(),
  /**
   * Whether its link is up: false once it was set down (`qemunet link HOST:ethN down`, the web page),
   * until it is set up again or its host restarts. The session always writes it; absent means up.
   */
  up: z.boolean().optional(),
  /** The faults its wirefilter puts on its frames now, whoever set them (a LINK line, `qemunet link`, the web page). */
  faults: linkFaultsSchema.optional(),
  /**
   * Whether a wirefilter carries its frames (a LINK line, --wire-all, every UML NIC, or one put in live
   * when its faults were first set), so its faults can change without restarting anything.
   */
  wired: z.boolean().optional(),
  /**
   * The captures of its frames running now, whoever started them (`qemunet capture`, a web page);
   * absent when none runs. One goes when it is stopped, when the connection that started it closes,
   * or when its host stops.
   */
  captures: z.array(nicCaptureSchema).optional(),
});
export type NicStatus = z.infer<typeof nicStatusSchema>;

/**
 * A host's screen. `window`: QEMU's own window on the X display. `vnc`/`spice`: a server on a unix
 * socket of the session (owner-only), or on 127.0.0.1 at `port` with `password` (the state file is
 * owner-only too). A web front end bridges `socket` of a vnc host.
 */
export const screenAccessSchema = z.object({
  kind: z.enum(['window', 'vnc', 'spice']),
  socket: z.string().optional(),
  address: z.literal('127.0.0.1').optional(),
  port: z.number().int().optional(),
  password: z.string().optional(),
  /** One line for a person: the command that opens a viewer, or where the window is. */
  connect: z.string(),
});
export type ScreenAccess = z.infer<typeof screenAccessSchema>;

export const hostStatusSchema = z.object({
  name: z.string(),
  system: z.string(),
  /** What runs it: a QEMU VM or a User-Mode Linux kernel. */
  kind: z.enum(HOST_KINDS).optional(),
  /** The read-only base image its overlay is on. */
  base: z.string(),
  state: hostStateSchema,
  display: z.enum(DISPLAY_MODES),
  nics: z.array(nicStatusSchema),
  /** Socket `qemunet console` attaches to. */
  console: z.string(),
  /** Whether readiness is known through the guest agent. */
  agent: z.boolean(),
  pid: z.number().int().optional(),
  /** Milliseconds from the session's start until its CPUs started (QEMU is launched paused). */
  startedMs: z.number().optional(),
  /** Milliseconds from the session's start until the guest was ready. */
  readyMs: z.number().optional(),
  /** Why it stopped, failed or stalled. */
  detail: z.string().optional(),
  /** The last lines of its console, when it stalled. */
  consoleTail: z.array(z.string()).optional(),
  /** Set when the host runs under another accelerator than the session (moved to TCG after hanging under KVM). */
  accel: z.literal('tcg').optional(),
  /** Its screen, for hosts with a graphic display: where it is and how to connect. */
  screen: screenAccessSchema.optional(),
});
export type HostStatus = z.infer<typeof hostStatusSchema>;

export const switchStatusSchema = z.object({
  name: z.string(),
  hub: z.boolean(),
  pid: z.number().int().optional(),
  state: z.enum(SWITCH_STATES),
});
export type SwitchStatus = z.infer<typeof switchStatusSchema>;

/** A lab check's result: pending until its run reaches it; fail is a lab not as it should be, error a test that could not run. */
export const CHECK_STATUSES = ['pending', 'pass', 'fail', 'error'] as const;

export const checkScoreSchema = z.object({ earned: z.number(), possible: z.number(), passed: z.number().int(), total: z.number().int() });
export type CheckScore = z.infer<typeof checkScoreSchema>;

export const checkRowSchema = z.object({
  name: z.string(),
  host: z.string(),
  kind: z.string(),
  points: z.number(),
  status: z.enum(CHECK_STATUSES),
  earned: z.number(),
  /** What the last try showed, when it did not pass. */
  seen: z.string().optional(),
});
export type CheckRow = z.infer<typeof checkRowSchema>;

/**
 * The lab checks' last run, as the student may see it: the session's state is the student's to
 * read, so hidden checks are not in it (nor their number or points); a teacher's report comes only
 * as the answer to the `check` request that asked for it.
 */
export const checksStateSchema = z.object({
  running: z.boolean(),
  startedAt: z.string(),
  student: z.string().optional(),
  checks: z.array(checkRowSchema),
  score: checkScoreSchema,
  /** Why the checks could not run (a bad checks file, no checks file). */
  error: z.string().optional(),
});
export type ChecksState = z.infer<typeof checksStateSchema>;

/** What `status`, `ls` and a detaching `up` read; written by the process that drives the session. */
export const sessionStateSchema = z.object({
  version: z.literal(1),
  dir: z.string(),
  topology: z.string(),
  /** The qemunet process driving the session. */
  pid: z.number().int(),
  phase: z.enum(SESSION_PHASES),
  accel: z.string(),
  startedAt: z.string(),
  hosts: z.array(hostStatusSchema),
  switches: z.array(switchStatusSchema),
  tmuxSession: z.string().optional(),
  /** The GNU screen session of the `screen` display mode (`screen -r NAME`). */
  screenSession: z.string().optional(),
  error: z.string().optional(),
  /** The lab checks' last run (`qemunet check`, the web page's Run checks). */
  checks: checksStateSchema.optional(),
});
export type SessionState = z.infer<typeof sessionStateSchema>;
