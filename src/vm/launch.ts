import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessError, QemunetError } from '../errors.js';
import { holdUntilTurnEnds } from '../process/hold.js';
import { spawnProcess } from '../process/start.js';
import { settlesWithin } from '../process/within.js';
import type { RunningNode } from '../node/kind.js';
import { GuestAgent } from './guest-agent.js';
import { QmpClient } from './qmp.js';
import { qemuArgv, type VmSpec } from './qemu-argv.js';

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchOptions {
  /** The serial console is appended here. */
  logFile: string;
  /** Tie the VM's life to this process (PR_SET_PDEATHSIG through setpriv): a SIGKILL of qemunet kills it too. */
  dieWithParent?: boolean;
  /** Create the VM stopped; `resume()` starts it (so boots can be spread over the CPUs). */
  paused?: boolean;
  signal?: AbortSignal;
}

/**
 * A running QEMU process: its QMP connection, console log, and a graceful-then-forced stop,
 * as QEMU's own machine library does it.
 */
export class RunningVm implements RunningNode {
  readonly kind = 'qemu' as const;
  readonly exited: Promise<VmExit>;
  private qmp?: QmpClient;
  private consoleSocket?: Socket;
  private stderrTail = '';
  private readonly consoleListeners: Array<(data: Buffer) => void> = [];

  constructor(
    readonly spec: VmSpec,
    readonly argv: readonly string[],
    readonly child: ChildProcess,
    private readonly log: WriteStream,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      log.write(d);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
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

  /** Waits for QEMU's sockets, connects QMP and starts logging the console. */
  async attach(signal?: AbortSignal): Promise<void> {
    const died = this.exited.then((e) => {
      throw new ProcessError('VM_EXITED', `VM ${this.spec.name}: QEMU exited at start (${e.code ?? e.signal})${this.stderr ? `:\n${this.stderr}` : ''}`, ['qemu-system-x86_64', ...this.argv], e.code, this.stderr);
    });
    died.catch(() => {});
    const whileAlive = this.whileAlive(signal);
    this.qmp = await Promise.race([retry(() => QmpClient.connect(this.spec.qmpSocket, whileAlive), whileAlive), died]);
    this.consoleSocket = await Promise.race([retry(() => connectSocket(this.spec.serialSocket), whileAlive), died]);
    this.consoleSocket.on('data', (d: Buffer) => {
      this.log.write(d);
      for (const listener of this.consoleListeners) listener(d);
    });
    this.consoleSocket.on('error', () => {});
  }

  /** Whether its CPUs have never run (launched paused, not resumed): then there is no guest to power off. */
  paused = false;

  /** Stops the CPUs; QEMU flushes every disk first, so the files hold one moment of the guest. */
  async freeze(): Promise<void> {
    await this.qmp?.execute('stop');
  }

  /** Starts the CPUs of a VM launched paused (or frozen). */
  async resume(): Promise<void> {
    await this.qmp?.execute('cont');
    this.paused = false;
  }

  /** Everything the guest writes on its serial console from now on. */
  onConsoleOutput(listener: (data: Buffer) => void): void {
    this.consoleListeners.push(listener);
  }

  /** Types into the guest's serial console. */
  writeConsole(data: Buffer): void {
    if (this.consoleSocket?.writable) this.consoleSocket.write(data);
  }

  get qmpClient(): QmpClient | undefined {
    return this.qmp;
  }

  /** The NIC's link as the guest sees it (carrier), through QMP. */
  async setLink(nic: number, up: boolean): Promise<void> {
    await this.qmp?.execute('set_link', { name: `nic${nic}`, up });
  }

  /** QEMU's filter-dump writes every frame of the NIC's netdev to a pcap file until it is removed. */
  async startCapture(nic: number, file: string, id: string): Promise<() => Promise<unknown>> {
    const qmp = this.qmp!;
    await qmp.execute('object-add', { 'qom-type': 'filter-dump', id, netdev: `nic${nic}`, file });
    return () => qmp.execute('object-del', { id });
  }

  /** The password of a VNC/SPICE server on TCP (set through QMP, so it never shows in `ps`). */
  async setScreenPassword(protocol: 'vnc' | 'spice', password: string): Promise<void> {
    await this.qmp?.execute('set_password', { protocol, password });
  }

  /** Resolves when the guest agent answers, i.e. the guest has finished booting and its start scripts. */
  async waitReady(signal?: AbortSignal): Promise<GuestAgent> {
    if (!this.spec.agentSocket) throw new QemunetError('NO_AGENT', `VM ${this.spec.name} has no guest agent channel`);
    const agentSocket = this.spec.agentSocket;
    const died = this.exited.then((e) => {
      throw new QemunetError('VM_EXITED', `VM ${this.spec.name} stopped (${e.code ?? e.signal}) before it was ready`);
    });
    died.catch(() => {});
    const whileAlive = this.whileAlive(signal);
    return Promise.race([retry(() => GuestAgent.connect(agentSocket, whileAlive), whileAlive), died]);
  }

  /**
   * Aborted when this QEMU exits (or `signal` aborts). Connection attempts stop with it: a loop that
   * outlived its VM would connect to the sockets of the next VM on the same paths, and hold them.
   */
  private whileAlive(signal?: AbortSignal): AbortSignal {
    const gone = new AbortController();
    void this.exited.then(() => gone.abort(new QemunetError('VM_EXITED', `VM ${this.spec.name} exited`)));
    return signal ? AbortSignal.any([signal, gone.signal]) : gone.signal;
  }

  /** ACPI power button, then `quit`, then SIGKILL; each step waits up to its share of the timeout. */
  async stop(timeoutMs = 10000): Promise<VmExit> {
    if (this.running && this.qmp) {
      if (!this.paused) {
        await this.qmp.execute('system_powerdown').catch(() => {});
        if (await this.exitsWithin(timeoutMs)) return this.finish();
      }
      await this.qmp.execute('quit').catch(() => {});
      if (await this.exitsWithin(2000)) return this.finish();
    }
    if (this.running) this.child.kill('SIGKILL');
    return this.finish();
  }

  /** Immediate stop, for teardown after a failure. */
  async kill(): Promise<VmExit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.finish();
  }

  private exitsWithin(ms: number): Promise<boolean> {
    return settlesWithin(this.exited, ms);
  }

  private async finish(): Promise<VmExit> {
    // Close the console before waiting for QEMU, or each side can wait for the other.
    this.consoleSocket?.destroy();
    this.qmp?.close();
    const e = await this.exited;
    await new Promise<void>((r) => this.log.end(r));
    return e;
  }
}

export async function launchVm(spec: VmSpec, options: LaunchOptions): Promise<RunningVm> {
  // -S: the VM is created with its CPUs stopped, and runs once resume() is called.
  const argv = options.paused ? [...qemuArgv(spec), '-S'] : qemuArgv(spec);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  // QEMU makes its QMP, serial and agent sockets with the umask it inherits: owner-only, as QMP is full control.
  const { child, started } = spawnProcess('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'], privateSockets: true, ...(options.dieWithParent ? { tiedTo: 'KILL' as const } : {}) });
  // QEMUs launched together start initialising once the last is spawned (src/process/hold.ts says why).
  holdUntilTurnEnds(child.pid);
  await started.catch((e: unknown) => {
    log.end();
    throw e;
  });
  const vm = new RunningVm(spec, argv, child, log);
  vm.paused = options.paused ?? false;
  try {
    await vm.attach(options.signal);
  } catch (e) {
    await vm.kill();
    throw e;
  }
  return vm;
}

function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** QEMU creates its sockets a moment after it starts: retry connecting for a while. */
async function retry<T>(attempt: () => Promise<T>, signal?: AbortSignal, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(delay, undefined, { signal });
    }
  }
}
