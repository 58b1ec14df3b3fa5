import type { Duplex } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { QemunetError } from '../../src/errors.js';
import type { CaptureStream, CheckOptions, ExecIo, MgmtReply, SessionState } from '../../src/api/index.js';
import type { SessionView } from '../../src/web/protocol.js';
import type { ActionClient } from '../../src/web/server/actions-routes.js';
import type { ConsoleStream, WebSession } from '../../src/web/server/session-source.js';
import type { GraphLayout } from '../../src/session/layout.js';

/**
 * A session with no VMs behind it, for tests of the web server's doors: every host is unknown, the
 * layout is accepted and kept nowhere. Tests extend it and override what they exercise, so a new
 * WebSession method is added here once.
 */
export class FakeWebSession implements WebSession {
  readonly dir: string = '/nowhere';
  sample: SessionView = { dir: '/nowhere', topology: 't.topo', phase: 'running', hosts: [], switches: [{ name: 's1', hub: false, state: 'running' }], trunks: [], taps: [] };
  view(): Promise<SessionView> {
    return Promise.resolve(this.sample);
  }
  subscribe(onView: (v: SessionView) => void): () => void {
    onView(this.sample);
    return () => {};
  }
  openConsole(_host: string): Promise<ConsoleStream> {
    return Promise.reject(new QemunetError('UNKNOWN_HOST', 'no such host'));
  }
  openScreen(_host: string): Promise<Duplex> {
    return Promise.reject(new QemunetError('UNKNOWN_HOST', 'no such host'));
  }
  layout(): Promise<GraphLayout | undefined> {
    return Promise.resolve(undefined);
  }
  saveLayout(_layout: unknown): Promise<void> {
    return Promise.resolve();
  }
  resizeConsole(_host: string, _cols: number, _rows: number): void {}
  close(): void {}
}

/** The first bytes of a pcap stream (little-endian, microseconds, Ethernet), as QEMU's filter-dump writes them. */
export const PCAP_HEADER = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');

/**
 * The session API as the web routes use it, with no session behind it: each call is recorded (what
 * reached the session), and names are refused as a session refuses them: the one host `a` with
 * eth0, the one switch `s1`.
 */
export class RecordingClient implements ActionClient {
  readonly calls: unknown[][] = [];
  constructor(readonly dir = '/nowhere') {}

  private host(name: string): void {
    if (name !== 'a') throw new QemunetError('UNKNOWN_HOST', `session ${this.dir} has no host ${name}; hosts: a`);
  }
  private nic(ref: string): void {
    const [host, eth] = ref.split(':');
    this.host(host!);
    if (eth !== 'eth0') throw new QemunetError('UNKNOWN_NIC', `a has no ${eth}; it has eth0`);
  }
  private switch(name: string): void {
    if (name !== 's1') throw new QemunetError('UNKNOWN_SWITCH', `session ${this.dir} has no switch ${name}; switches: s1`);
  }
  private record(...call: unknown[]): Promise<void> {
    this.calls.push(call);
    return Promise.resolve();
  }

  status(): Promise<SessionState> {
    return Promise.resolve({ version: 1, dir: this.dir, topology: 't.topo', pid: 1, phase: 'running', accel: 'tcg', startedAt: '', hosts: [], switches: [] });
  }
  async setLink(nic: string, up: boolean): Promise<void> {
    await this.record('setLink', nic, up);
    this.nic(nic);
  }
  async setFaults(nic: string, settings: ReadonlyArray<[string, string]>): Promise<string[]> {
    await this.record('setFaults', nic, settings);
    this.nic(nic);
    return [];
  }
  async powerOffHost(host: string): Promise<void> {
    await this.record('powerOffHost', host);
    this.host(host);
  }
  async powerOnHost(host: string): Promise<void> {
    await this.record('powerOnHost', host);
    this.host(host);
  }
  async exec(host: string, argv: readonly string[], io: ExecIo): Promise<number> {
    await this.record('exec', host, argv);
    this.host(host);
    io.onStdout(Buffer.from('out\n'));
    return 0;
  }
  async captureStream(nic: string, onChunk: (chunk: Buffer) => void): Promise<CaptureStream> {
    await this.record('captureStream', nic);
    this.nic(nic);
    onChunk(PCAP_HEADER);
    return { ended: new Promise(() => {}), stop: () => this.record('captureStop', nic) };
  }
  async labSwitchCommand(name: string, command: string): Promise<MgmtReply> {
    await this.record('labSwitchCommand', name, command);
    this.switch(name);
    return { code: 1000, message: 'Success', data: [] };
  }
  async switchCommand(name: string, command: string): Promise<MgmtReply> {
    await this.record('switchCommand', name, command);
    this.switch(name);
    return { code: 1000, message: 'Success', data: ['VLAN 0001'] };
  }
  async save(out: string): Promise<{ file: string; live: boolean }> {
    await this.record('save');
    await writeFile(out, 'tgz');
    return { file: out, live: true };
  }
  async check(options: CheckOptions): Promise<{ report: string; score: { earned: number; possible: number; passed: number; total: number }; passed: boolean }> {
    await this.record('check', options);
    return { report: '{}', score: { earned: 2, possible: 3, passed: 1, total: 2 }, passed: false };
  }
  async stop(): Promise<SessionState> {
    await this.record('stop');
    return this.status();
  }
}
