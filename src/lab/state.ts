import { readFile, rename, rm, writeFile } from 'node:fs/promises';

// The state is declared once, with the control protocol that pushes it.
export type { HostState, HostStatus, NicStatus, ScreenAccess, SessionPhase, SessionState, SwitchStatus } from '../protocol/session-state.js';
import type { SessionState } from '../protocol/session-state.js';

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
