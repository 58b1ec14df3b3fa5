import type { ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError, VmError } from '../errors.js';
import type { ReadyAgent, RunningNode } from '../node/kind.js';
import { MachineProcess } from '../process/machine.js';
import { run } from '../process/run.js';
import { spawnProcess } from '../process/start.js';
import { settlesWithin } from '../process/within.js';
import { GuestAgent } from '../vm/guest-agent.js';
import { AgentProxy } from './agent-proxy.js';
import { fitCowToBase } from './cow.js';
import { SECCOMP_FD, xstateRegsetFilter } from './legacy-fpu.js';
import { umlJailArgv, type UmlSpec } from './uml-argv.js';
import { KernelNewlines } from './kernel-newlines.js';

/** How often the readiness sync is sent again: the serial line drops what comes before the agent opens it. */
const SYNC_RETRY_MS = 1000;

/**
 * A running User-Mode Linux host: its console on the process's stdin/stdout, its guest agent on fd 3
 * served on a unix socket, its mconsole for freeze/thaw. UML cannot start paused: it boots at once.
 * The lifecycle is MachineProcess's.
 */
export class RunningUml extends MachineProcess implements RunningNode {
  readonly kind = 'uml' as const;
  paused = false;
  private readonly consoleListeners: Array<(data: Buffer) => void> = [];
  private agent?: AgentProxy;
  readonly argv: readonly string[];

  constructor(readonly spec: UmlSpec, logFile: string) {
    super(logFile);
    this.argv = umlJailArgv(spec);
  }

  get name(): string {
    return this.spec.name;
  }

  static async launch(spec: UmlSpec, options: { logFile: string }): Promise<RunningUml> {
    const uml = new RunningUml(spec, options.logFile);
    await uml.launch();
    return uml;
  }

  protected override async preLaunch(): Promise<void> {
    // A run directory left by a killed UML makes it take a random umid, and mconsole would not be found.
    await rm(this.spec.runDir, { recursive: true, force: true });
    await mkdir(this.spec.runDir, { recursive: true, mode: 0o700 });
    // A COW made over a base of another store or machine (a restored session) is pointed at this one.
    await fitCowToBase(this.spec.cow, this.spec.base);
  }

  protected spawn(): { child: ChildProcess; started: Promise<void> } {
    // fd 3 is a socketpair (Node makes every 'pipe' one): UML's second serial line, the guest agent's.
    // fd 4 (legacyFpu): the seccomp program bubblewrap reads to its end, then applies to UML.
    const spawned = spawnProcess('bwrap', this.argv, { stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...(this.spec.legacyFpu ? ['pipe' as const] : [])] });
    if (this.spec.legacyFpu) {
      const filter = spawned.child.stdio[SECCOMP_FD] as Writable;
      // bwrap gone before it read the program: its exit is what the launch reports, not an EPIPE here.
      filter.on('error', () => {});
      filter.end(xstateRegsetFilter());
    }
    return spawned;
  }

  /** The agent's socket, and the console: its newlines made the terminal's, logged and handed on. */
  protected override async postLaunch(): Promise<void> {
    const agent = await AgentProxy.listen(this.spec.agentSocket, this.process.stdio[3] as Duplex);
    this.agent = agent;
    const newlines = new KernelNewlines();
    (this.process.stdout as Readable).on('data', (raw: Buffer) => {
      const d = newlines.feed(raw);
      this.log.write(d);
      for (const listener of this.consoleListeners) listener(d);
    });
    (this.process.stdin as Writable).on('error', () => {});
    void this.exited.then(() => agent.close().catch(() => {}));
  }

  onConsoleOutput(listener: (data: Buffer) => void): void {
    this.consoleListeners.push(listener);
  }

  writeConsole(data: Buffer): void {
    const stdin = this.process.stdin;
    if (stdin?.writable) stdin.write(data);
  }

  private get mconsole(): string {
    return join(this.spec.runDir, this.spec.name, 'mconsole');
  }

  /** mconsole `stop`: the whole machine pauses (its disk writes are the host's, already in the COW file). */
  async freeze(): Promise<void> {
    await run('uml_mconsole', [this.mconsole, 'stop']);
  }

  async resume(): Promise<void> {
    if (this.paused) return;
    await run('uml_mconsole', [this.mconsole, 'go']).catch(() => {});
  }

  /** Ready when the agent on the second serial line answers a sync (sent again each second until then). */
  async waitReady(signal?: AbortSignal): Promise<ReadyAgent> {
    const gone = new AbortController();
    void this.exited.then(() => gone.abort(new QemunetError('VM_EXITED', `UML host ${this.name} exited before it was ready`)));
    const alive = signal ? AbortSignal.any([signal, gone.signal]) : gone.signal;
    for (;;) {
      alive.throwIfAborted();
      try {
        return await GuestAgent.connect(this.spec.agentSocket, alive, SYNC_RETRY_MS);
      } catch (e) {
        alive.throwIfAborted();
        if (!(e instanceof VmError)) throw e;
        await sleep(100, undefined, { signal: alive }).catch(() => {});
      }
    }
  }

  /** `poweroff` in the guest (through its agent); SIGKILL of the whole jail follows if it is not down in time. */
  protected async softShutdown(timeoutMs: number): Promise<void> {
    if (await this.askPowerOff(Math.min(timeoutMs, 3000))) await settlesWithin(this.exited, timeoutMs);
  }

  private async askPowerOff(ms: number): Promise<boolean> {
    const signal = AbortSignal.timeout(ms);
    try {
      const agent = await GuestAgent.connect(this.spec.agentSocket, signal, ms);
      // Not waited for: the guest goes down under it.
      void agent.call('guest-exec', { path: '/sbin/poweroff', arg: [] }, { timeoutMs: ms }).catch(() => {}).finally(() => agent.close());
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL to bwrap's process group: bwrap's PID namespace then takes every UML process with it. */
  protected override hardShutdown(): void {
    const pid = this.process.pid;
    try {
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    } catch {
      this.process.kill('SIGKILL');
    }
  }

  protected override async postShutdown(): Promise<void> {
    await this.agent?.close().catch(() => {});
  }
}

export function launchUml(spec: UmlSpec, options: { logFile: string }): Promise<RunningUml> {
  return RunningUml.launch(spec, options);
}
