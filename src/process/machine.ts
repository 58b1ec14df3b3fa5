import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface MachineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How much of the end of its stderr a machine keeps, for crash reports. */
const STDERR_TAIL = 4000;

/**
 * The one lifecycle of a host's process (a QEMU VM, a UML kernel in its jail), as QEMU's
 * python/qemu/machine does it. `launch` is preLaunch, the spawn, postLaunch; a failure after the
 * spawn stops the process hard (with postShutdown) before it is rethrown. `shutdown` is soft unless
 * asked hard, then hard if the process is still there, and always postShutdown, in a `finally`.
 * The process's stderr and what a subclass writes go to the host's log, whose end is kept for reports.
 * Subclasses override only the hooks.
 */
export abstract class MachineProcess {
  readonly exited: Promise<MachineExit>;
  private resolveExited?: (e: MachineExit) => void;
  private child?: ChildProcess;
  private spawned = false;
  private stderrTail = '';
  private logStream?: WriteStream;

  protected constructor(private readonly logFile: string) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  abstract readonly name: string;

  /** Its process id (0 before it was spawned). */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  get running(): boolean {
    return this.spawned && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The spawned process (after launch). */
  protected get process(): ChildProcess {
    if (!this.child) throw new Error(`${this.name}: no process before launch`);
    return this.child;
  }

  /** The host's log: its console and its process's stderr. */
  protected get log(): WriteStream {
    if (!this.logStream) throw new Error(`${this.name}: no log before launch`);
    return this.logStream;
  }

  /** Before the spawn: files and directories the process needs. */
  protected async preLaunch(): Promise<void> {}

  /** Starts the process; `started` settles once it runs (or could not be started). */
  protected abstract spawn(): { child: ChildProcess; started: Promise<void> };

  /** After the spawn: connections to the running process. */
  protected async postLaunch(): Promise<void> {}

  /** Asks the process to end; may return before it has. */
  protected abstract softShutdown(timeoutMs: number): Promise<void>;

  /** Ends the process now. */
  protected hardShutdown(): void {
    this.process.kill('SIGKILL');
  }

  /** Closes what connects to the process, before its exit is waited for (or both sides can wait on each other). */
  protected async postShutdown(): Promise<void> {}

  protected async launch(): Promise<void> {
    await this.preLaunch();
    const log = (this.logStream = createWriteStream(this.logFile, { flags: 'a' }));
    const { child, started } = this.spawn();
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-STDERR_TAIL);
      log.write(d);
    });
    child.once('exit', (code, signal) => this.resolveExited?.({ code, signal }));
    try {
      await started;
    } catch (e) {
      log.end();
      throw e;
    }
    this.spawned = true;
    try {
      await this.postLaunch();
    } catch (e) {
      await this.shutdown({ hard: true });
      throw e;
    }
  }

  /** Graceful, then forced (RunningNode's stop). */
  stop(timeoutMs = 10000): Promise<MachineExit> {
    return this.shutdown({ timeoutMs });
  }

  /** Immediate stop, for teardown after a failure. */
  kill(): Promise<MachineExit> {
    return this.shutdown({ hard: true });
  }

  /** Soft (unless `hard`), then hard; then postShutdown, the exit and the log's end are always waited for. */
  async shutdown(o: { hard?: boolean; timeoutMs?: number } = {}): Promise<MachineExit> {
    try {
      if (!o.hard && this.running) await this.softShutdown(o.timeoutMs ?? 10000);
    } finally {
      if (this.running) this.hardShutdown();
      await this.postShutdown();
      if (this.spawned) await this.exited;
      const log = this.logStream;
      if (log) await new Promise<void>((r) => log.end(r));
    }
    return this.exited;
  }
}
