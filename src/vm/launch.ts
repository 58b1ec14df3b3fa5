import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessError, QemunetError } from '../errors.js';
import { holdUntilTurnEnds } from '../process/hold.js';
import { MachineProcess } from '../process/machine.js';
import { spawnProcess } from '../process/start.js';
import { settlesWithin } from '../process/within.js';
import type { RunningNode } from '../node/kind.js';
import { GuestAgent } from './guest-agent.js';
import { QmpClient } from './qmp.js';
import { qemuArgv, type VmSpec } from './qemu-argv.js';

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
 * as QEMU's own machine library does it (the lifecycle is MachineProcess's).
 */
export class RunningVm extends MachineProcess implements RunningNode {
  readonly kind = 'qemu' as const;
  private qmp?: QmpClient;
  private consoleSocket?: Socket;
  private readonly consoleListeners: Array<(data: Buffer) => void> = [];
  /** Whether its CPUs have never run (launched paused, not resumed): then there is no guest to power off. */
  paused: boolean;
  /** The command line it was started with. */
  readonly argv: readonly string[];

  constructor(
    readonly spec: VmSpec,
    private readonly options: LaunchOptions,
  ) {
    super(options.logFile);
    this.paused = options.paused ?? false;
    // -S: the VM is created with its CPUs stopped, and runs once resume() is called.
    this.argv = options.paused ? [...qemuArgv(spec), '-S'] : qemuArgv(spec);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Launches it and connects; a VM that does not come up is killed and the error rethrown. */
  static async launch(spec: VmSpec, options: LaunchOptions): Promise<RunningVm> {
    const vm = new RunningVm(spec, options);
    await vm.launch();
    return vm;
  }

  protected spawn(): { child: ChildProcess; started: Promise<void> } {
    // QEMU makes its QMP, serial and agent sockets with the umask it inherits: owner-only, as QMP is full control.
    const spawned = spawnProcess('qemu-system-x86_64', this.argv, { stdio: ['ignore', 'ignore', 'pipe'], privateSockets: true, ...(this.options.dieWithParent ? { tiedTo: 'KILL' as const } : {}) });
    // QEMUs launched together start initialising once the last is spawned (src/process/hold.ts says why).
    holdUntilTurnEnds(spawned.child.pid);
    return spawned;
  }

  /** Waits for QEMU's sockets, connects QMP and starts logging the console. */
  protected override async postLaunch(): Promise<void> {
    const died = this.exited.then((e) => {
      throw new ProcessError('VM_EXITED', `VM ${this.spec.name}: QEMU exited at start (${e.code ?? e.signal})${this.stderr ? `:\n${this.stderr}` : ''}`, ['qemu-system-x86_64', ...this.argv], e.code, this.stderr);
    });
    died.catch(() => {});
    const whileAlive = this.whileAlive(this.options.signal);
    this.qmp = await Promise.race([retry(() => QmpClient.connect(this.spec.qmpSocket, whileAlive), whileAlive), died]);
    const consoleSocket = await Promise.race([retry(() => connectSocket(this.spec.serialSocket), whileAlive), died]);
    this.consoleSocket = consoleSocket;
    consoleSocket.on('data', (d: Buffer) => {
      this.log.write(d);
      for (const listener of this.consoleListeners) listener(d);
    });
    consoleSocket.on('error', () => {});
  }

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
    const qmp = this.qmp;
    if (!qmp) throw new QemunetError('VM_EXITED', `VM ${this.spec.name} has no QMP connection`);
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

  /** ACPI power button (unless never resumed), then `quit`; each step waits up to its share of the timeout. SIGKILL follows. */
  protected async softShutdown(timeoutMs: number): Promise<void> {
    if (!this.qmp) return;
    if (!this.paused) {
      await this.qmp.execute('system_powerdown').catch(() => {});
      if (await settlesWithin(this.exited, timeoutMs)) return;
    }
    await this.qmp.execute('quit').catch(() => {});
    await settlesWithin(this.exited, 2000);
  }

  protected override postShutdown(): Promise<void> {
    // Close the console before waiting for QEMU, or each side can wait for the other.
    this.consoleSocket?.destroy();
    this.qmp?.close();
    return Promise.resolve();
  }
}

export function launchVm(spec: VmSpec, options: LaunchOptions): Promise<RunningVm> {
  return RunningVm.launch(spec, options);
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
