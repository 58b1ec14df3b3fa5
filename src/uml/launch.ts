import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError, VmError } from '../errors.js';
import type { NodeExit, ReadyAgent, RunningNode } from '../node/kind.js';
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
 */
export class RunningUml implements RunningNode {
  readonly kind = 'uml' as const;
  readonly exited: Promise<NodeExit>;
  paused = false;
  private stderrTail = '';
  private readonly consoleListeners: Array<(data: Buffer) => void> = [];

  constructor(
    readonly spec: UmlSpec,
    readonly argv: readonly string[],
    readonly child: ChildProcess,
    private readonly log: WriteStream,
    private readonly agent: AgentProxy,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      log.write(d);
    });
    const newlines = new KernelNewlines();
    (child.stdout as Readable).on('data', (raw: Buffer) => {
      const d = newlines.feed(raw);
      log.write(d);
      for (const listener of this.consoleListeners) listener(d);
    });
    (child.stdin as Writable).on('error', () => {});
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => agent.close().catch(() => {}));
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  onConsoleOutput(listener: (data: Buffer) => void): void {
    this.consoleListeners.push(listener);
  }

  writeConsole(data: Buffer): void {
    const stdin = this.child.stdin;
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

  /** `poweroff` in the guest (through its agent), then SIGKILL of the whole jail. */
  async stop(timeoutMs = 10000): Promise<NodeExit> {
    if (this.running) {
      const asked = await this.askPowerOff(Math.min(timeoutMs, 3000));
      if (asked && (await settlesWithin(this.exited, timeoutMs))) return this.finish();
    }
    return this.kill();
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
  async kill(): Promise<NodeExit> {
    if (this.running) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    return this.finish();
  }

  private async finish(): Promise<NodeExit> {
    const e = await this.exited;
    await this.agent.close().catch(() => {});
    await new Promise<void>((r) => this.log.end(r));
    return e;
  }
}

export async function launchUml(spec: UmlSpec, options: { logFile: string }): Promise<RunningUml> {
  // A run directory left by a killed UML makes it take a random umid, and mconsole would not be found.
  await rm(spec.runDir, { recursive: true, force: true });
  await mkdir(spec.runDir, { recursive: true, mode: 0o700 });
  // A COW made over a base of another store or machine (a restored session) is pointed at this one.
  await fitCowToBase(spec.cow, spec.base);
  const argv = umlJailArgv(spec);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  // fd 3 is a socketpair (Node makes every 'pipe' one): UML's second serial line, the guest agent's.
  // fd 4 (legacyFpu): the seccomp program bubblewrap reads to its end, then applies to UML.
  const { child, started } = spawnProcess('bwrap', argv, { stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...(spec.legacyFpu ? ['pipe' as const] : [])] });
  if (spec.legacyFpu) (child.stdio[SECCOMP_FD] as Writable).end(xstateRegsetFilter());
  await started.catch((e: unknown) => {
    log.end();
    throw e;
  });
  let agent: AgentProxy;
  try {
    agent = await AgentProxy.listen(spec.agentSocket, child.stdio[3] as Duplex);
  } catch (e) {
    child.kill('SIGKILL');
    log.end();
    throw e;
  }
  return new RunningUml(spec, argv, child, log, agent);
}
