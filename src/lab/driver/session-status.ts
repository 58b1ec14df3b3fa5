import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError } from '../../errors.js';
import type { LabPlan } from '../plan.js';
import { FINAL_HOST_STATES } from '../../protocol/session-state.js';
import { initialNicStatus, patchNic, type NicPatch } from './nic-status.js';
import type { ChecksState } from '../../protocol/session-state.js';
import { StateWriter, type HostStatus, type NicStatus, type SessionPhase, type SessionState, type SwitchStatus } from '../state.js';

/**
 * What a running session is, host by host and switch by switch: the one place it changes. Each change
 * is written to the state file (bursts collapse into one write), and what was written is handed to
 * `onChange`: a subscriber never learns a state before the file has it (`up --wait` returns on the
 * pushed state, and a `status` right after must not show an older one).
 */
export class SessionStatus {
  private readonly hostStatus = new Map<string, HostStatus>();
  private readonly switchStatus = new Map<string, SwitchStatus>();
  private readonly writer: StateWriter;
  private readonly waiters = new Set<() => void>();
  readonly startedAt = Date.now();
  private phaseNow: SessionPhase = 'starting';
  private errorText?: string;
  private checks?: ChecksState;
  private windows: { tmuxSession?: string; screenSession?: string } = {};

  constructor(
    private readonly plan: LabPlan,
    stateFile: string,
    private readonly accel: string,
    private readonly onChange: (state: SessionState) => void,
  ) {
    for (const h of plan.hosts) {
      // A NIC's faults start as its LINK line sets them; the status keeps them from then on, whoever changes them.
      const nics = h.nics.map((n, i) => initialNicStatus(n, plan.wires.find((w) => w.host === h.name && w.nic === i)));
      this.hostStatus.set(h.name, { name: h.name, kind: h.kind, system: h.system.name, base: h.system.fs, state: 'pending', display: h.display, nics, console: h.paths.console, agent: h.agent });
    }
    for (const s of plan.switches) this.switchStatus.set(s.name, { name: s.name, hub: s.hub, state: 'pending' });
    this.writer = new StateWriter(stateFile, () => this.state(), (state) => this.onChange(state));
  }

  state(): SessionState {
    return {
      version: 1,
      dir: this.plan.dir,
      topology: this.plan.topologyFile,
      pid: process.pid,
      phase: this.phaseNow,
      accel: this.accel,
      startedAt: new Date(this.startedAt).toISOString(),
      hosts: [...this.hostStatus.values()].map((h) => ({ ...h, nics: h.nics.map((n) => ({ ...n })) })),
      switches: [...this.switchStatus.values()].map((s) => ({ ...s })),
      ...(this.windows.tmuxSession ? { tmuxSession: this.windows.tmuxSession } : {}),
      ...(this.windows.screenSession ? { screenSession: this.windows.screenSession } : {}),
      ...(this.errorText ? { error: this.errorText } : {}),
      ...(this.checks ? { checks: structuredClone(this.checks) } : {}),
    };
  }

  get phase(): SessionPhase {
    return this.phaseNow;
  }

  /** A live view of one host's status (read it, change it through updateHost). */
  host(name: string): Readonly<HostStatus> {
    const status = this.hostStatus.get(name);
    if (!status) throw new QemunetError('UNKNOWN_HOST', `the session has no host ${name}; hosts: ${this.plan.hosts.map((h) => h.name).join(', ')}`);
    return status;
  }

  hosts(): ReadonlyArray<Readonly<HostStatus>> {
    return [...this.hostStatus.values()];
  }

  /** Milliseconds since the session started, as the status's times are given. */
  sinceStart(): number {
    return Date.now() - this.startedAt;
  }

  setPhase(phase: SessionPhase): void {
    this.phaseNow = phase;
    this.changed();
  }

  /** Keeps the first error: it is the cause, later ones follow from it. */
  keepError(message: string): void {
    this.errorText ??= message;
    this.changed();
  }

  setError(message: string): void {
    this.errorText = message;
    this.changed();
  }

  setWindows(windows: { tmuxSession?: string; screenSession?: string }): void {
    this.windows = { ...this.windows, ...windows };
    this.changed();
  }

  /** A patch whose value is undefined removes that field. */
  updateHost(name: string, patch: Partial<HostStatus>): void {
    const status = this.hostStatus.get(name)!;
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete (status as unknown as Record<string, unknown>)[key];
      else (status as unknown as Record<string, unknown>)[key] = value;
    }
    this.changed();
  }

  /** A live view of one NIC's status (change it through updateNic). */
  nic(host: string, nic: number): Readonly<NicStatus> {
    const status = this.host(host).nics[nic];
    if (!status) throw new QemunetError('UNKNOWN_NIC', `${host} has no eth${nic}; it has ${this.host(host).nics.map((n) => n.eth).join(', ') || 'no lab NIC'}`);
    return status;
  }

  /** Records a change of one NIC (its link, faults, wirefilter, captures): written and pushed like any other. */
  updateNic(host: string, nic: number, patch: NicPatch): void {
    this.nic(host, nic);
    this.updateHost(host, { nics: this.host(host).nics.map((n, i) => (i === nic ? patchNic(n, patch) : n)) });
  }

  updateSwitch(name: string, patch: Partial<SwitchStatus>): void {
    Object.assign(this.switchStatus.get(name)!, patch);
    this.changed();
  }

  /** The lab checks' last run (lab-checks.ts), as a student may see it. */
  setChecks(checks: ChecksState): void {
    this.checks = checks;
    this.changed();
  }

  /** Settles once what changed so far is in the state file (never rejects). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Why the last write of the state file failed, if it did. */
  get writeError(): Error | undefined {
    return this.writer.lastError;
  }

  /**
   * Resolves when every host with a guest agent is ready (the others once running). Rejects when
   * one crashes, or at the timeout naming the hosts that are not ready with `describe`'s words for them.
   */
  async waitReady(timeoutMs: number, describe: (hosts: string[]) => Promise<string>, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hosts = this.hosts();
      const dead = hosts.filter((h) => FINAL_HOST_STATES.has(h.state) || h.state === 'stalled');
      if (dead.length) throw new QemunetError('HOST_FAILED', `${dead.map((h) => `${h.name} ${h.state}${h.detail ? ` (${h.detail})` : ''}`).join('; ')}`);
      const waiting = hosts.filter((h) => h.state !== (h.agent ? 'ready' : 'running'));
      if (!waiting.length) return;
      if (Date.now() > deadline) throw new QemunetError('NOT_READY', `not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.map((h) => h.name).join(', ')}\n${await describe(waiting.map((h) => h.name))}`);
      await this.nextChange(Math.max(0, Math.min(1000, deadline - Date.now())), signal);
    }
  }

  /** Settles at the next change, after `ms`, or rejects when `signal` aborts. */
  private async nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const wake = () => ac.abort();
    this.waiters.add(wake);
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await sleep(ms, undefined, { signal: ac.signal }).catch(() => {});
      signal?.throwIfAborted();
    } finally {
      this.waiters.delete(wake);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private changed(): void {
    void this.writer.changed().catch(() => {});
    for (const wake of this.waiters) wake();
  }
}
