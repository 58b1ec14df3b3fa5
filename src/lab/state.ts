import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { HostKind } from '../node/kind.js';
import type { DisplayMode, NicPlan } from './plan.js';

/** `stalled`: booting, but silent or not ready past the watchdog's limits (it may still come through). */
export type HostState = 'pending' | 'starting' | 'booting' | 'stalled' | 'ready' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'failed';
export type SessionPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface HostStatus {
  name: string;
  system: string;
  /** What runs it: a QEMU VM or a User-Mode Linux kernel (what it can do: KIND_CAPABILITIES). */
  kind?: HostKind;
  /** The read-only base image its overlay is on. */
  base: string;
  state: HostState;
  display: DisplayMode;
  nics: NicPlan[];
  /** NICs whose link was set down (`qemunet link HOST:ethN down`). */
  linksDown?: string[];
  /** Socket `qemunet console` attaches to. */
  console: string;
  /** Whether readiness is known through the guest agent. */
  agent: boolean;
  pid?: number;
  /** Milliseconds from the session's start until its CPUs started (QEMU is launched paused). */
  startedMs?: number;
  /** Milliseconds from the session's start until the guest was ready. */
  readyMs?: number;
  /** Why it stopped, failed or stalled. */
  detail?: string;
  /** The last lines of its console, when it stalled. */
  consoleTail?: string[];
  /** Set when the host runs under another accelerator than the session (moved to TCG after hanging under KVM). */
  accel?: 'tcg';
  /** Its screen, for hosts with a graphic display: where it is and how to connect. */
  screen?: ScreenAccess;
}

/**
 * A host's screen. `window`: QEMU's own window on the X display. `vnc`/`spice`: a server on a unix
 * socket of the session (owner-only), or on 127.0.0.1 at `port` with `password` (the state file is
 * owner-only too). A web front end bridges `socket` of a vnc host.
 */
export interface ScreenAccess {
  kind: 'window' | 'vnc' | 'spice';
  socket?: string;
  address?: '127.0.0.1';
  port?: number;
  password?: string;
  /** One line for a person: the command that opens a viewer, or where the window is. */
  connect: string;
}

export interface SwitchStatus {
  name: string;
  hub: boolean;
  pid?: number;
  state: 'pending' | 'running' | 'stopped' | 'failed';
}

/** What `status`, `ls` and a detaching `up` read; written by the process that drives the session. */
export interface SessionState {
  version: 1;
  dir: string;
  topology: string;
  /** The qemunet process driving the session. */
  pid: number;
  phase: SessionPhase;
  accel: string;
  startedAt: string;
  hosts: HostStatus[];
  switches: SwitchStatus[];
  tmuxSession?: string;
  /** The GNU screen session of the `screen` display mode (`screen -r NAME`). */
  screenSession?: string;
  error?: string;
}

/**
 * Writes are serialised and atomic (temp file + rename), so a reader never sees half a file. A
 * failed write (disk full, directory gone) is kept in `lastError` and does not stop the next change
 * from being written. The promises never reject: the teardown awaits `flush()` before it releases
 * the session lock, and must get past it even when the disk is full.
 */
export class StateWriter {
  private pending: Promise<void> = Promise.resolve();
  private dirty = false;
  private failure?: Error;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => SessionState,
    /** Each snapshot once it is in the file (or its write failed): what readers of the file may see. */
    private readonly onWritten: (state: SessionState) => void = () => {},
  ) {}

  /** Why the last write failed; undefined once a write succeeds. */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Schedules a write; bursts of changes collapse into one. */
  changed(): Promise<void> {
    if (this.dirty) return this.pending;
    this.dirty = true;
    this.pending = this.pending.then(() => this.write());
    return this.pending;
  }

  flush(): Promise<void> {
    return this.pending;
  }

  private async write(): Promise<void> {
    this.dirty = false;
    const state = this.snapshot();
    try {
      await writeState(this.file, state);
      this.failure = undefined;
    } catch (e) {
      this.failure = e as Error;
    }
    this.onWritten(state);
  }
}

/** Writes a state file whole (temp file + rename), so a reader never sees half a file. */
export async function writeState(file: string, state: SessionState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // Owner-only: it may hold the passwords of VNC/SPICE servers on TCP.
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  } catch (e) {
    // A full disk may have left part of the temp file.
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

export async function readState(file: string): Promise<SessionState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SessionState;
  } catch {
    return undefined;
  }
}
