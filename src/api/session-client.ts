import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { homedir } from 'node:os';
import type { AttachIo } from '../console/attach.js';
import { openResumable, type ConsoleCursor, type ResumedConsole } from '../console/cursor.js';
import { QemunetError } from '../errors.js';
import { parseTopology } from '../topology/parse.js';
import { resolveTopology } from '../topology/resolve.js';
import type { Topology } from '../topology/types.js';
import { attachHostConsole, attachSwitchConsole } from '../lab/client/attach.js';
import { controlRequest, controlSubscribe } from '../lab/client/control-client.js';
import { openCaptureStream, type CaptureStream } from '../lab/client/capture-stream.js';
import { saveSession } from '../lab/client/save.js';
import { labEnvironment } from './lab-environment.js';
import { listSessions as listRegistered } from '../lab/client/sessions.js';
import { openHostScreen } from '../lab/client/screens.js';
import { virtualBoxScript } from '../export/virtualbox.js';
import {
  down, execInHost, findSession, linkFaultsInfo, parseNicRef, restartHost, sessionStatus, setLink, setLinkFaults, startCapture, switchCommand,
} from '../lab/client/sessions.js';
import type { SessionState } from '../lab/state.js';
import { checkLabSwitchCommand } from '../switch/mgmt-commands.js';
import type { MgmtReply } from '../switch/mgmt-protocol.js';
import { readLayout, writeLayout, type GraphLayout } from '../session/layout.js';
import { sessionPaths } from '../session/paths.js';
import type { CommandOf, ResultOf } from '../protocol/session-protocol.js';

/** What `check` may be told: the checks' text and name, the student, the view and the report's format. */
export type CheckOptions = Omit<CommandOf<'check'>, 'cmd'>;
/** A run's longest wait: each check retries for its own time (at most 10 minutes), a host's one after the other. */
const CHECK_TIMEOUT_MS = 3600 * 1000;

export interface ExecIo {
  onStdout(d: Buffer): void;
  onStderr(d: Buffer): void;
  timeoutMs?: number;
}

/** A live subscription to a session's state: `closed` resolves when the session (or `close()`) ends it. */
export interface StateSubscription {
  /** The state when the subscription started. */
  state: SessionState;
  close(): void;
  closed: Promise<void>;
}

/**
 * Everything a client does to one session, whoever runs it (the CLI, the web server, a script).
 * It talks to the session's driving qemunet process over the session's private control socket, to
 * its guests through their agents, and to its switches through their management sockets.
 */
export class SessionClient {
  private constructor(readonly dir: string) {}

  /** `--session DIR`, else the only running session (an error says what to do otherwise). */
  static async find(requested?: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; allowStopped?: boolean } = {}): Promise<SessionClient> {
    const { registryDir } = labEnvironment(options.env ?? process.env, homedir());
    return new SessionClient(await findSession(requested, { ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.allowStopped ? { allowStopped: true } : {}), registryDir }));
  }

  /** A session directory as it is, even one whose session has not written its state yet. */
  static at(dir: string): SessionClient {
    return new SessionClient(dir);
  }

  status(): Promise<SessionState> {
    return sessionStatus(this.dir);
  }

  /** Every change of the session's state, pushed by the session as it happens (no polling). */
  async subscribe(onState: (state: SessionState) => void): Promise<StateSubscription> {
    const held = await controlSubscribe(sessionPaths(this.dir).control, (n) => {
      if (n.event === 'state') onState(n.state);
    });
    return { state: held.result, close: held.close, closed: held.closed };
  }

  /** Stops the session (as Ctrl-C in its terminal would) and waits until it has stopped. */
  stop(options: { timeoutMs?: number } = {}): Promise<SessionState> {
    return down(this.dir, options);
  }

  exec(host: string, argv: readonly string[], io: ExecIo): Promise<number> {
    return execInHost(this.dir, host, argv, io);
  }

  /** Starts a stopped or crashed host again, on the same switch ports. */
  restartHost(host: string): Promise<void> {
    return restartHost(this.dir, host);
  }

  /**
   * Runs the lab checks in the session (its own `checks` file, or the text given), each retried
   * until it passes or its time is up; the student's view of the results goes into the state as
   * they come. Answers the report in the format asked. Throws CHECKS_* for a checks file it cannot
   * use (at file:line:column) and CHECKS_RUNNING while another run goes on.
   */
  check(options: CheckOptions = {}): Promise<ResultOf<'check'>> {
    return controlRequest(sessionPaths(this.dir).control, { cmd: 'check', ...options }, CHECK_TIMEOUT_MS);
  }

  /** The host's power button: it shuts down and stays off until `restartHost`. */
  async powerOffHost(host: string): Promise<void> {
    await controlRequest(sessionPaths(this.dir).control, { cmd: 'power-off', host });
  }

  /**
   * The power button pressed again: starts a host that was powered off (or crashed) on the same
   * switch ports. Refused (HOST_RUNNING) while the host runs.
   */
  powerOnHost(host: string): Promise<void> {
    return restartHost(this.dir, host);
  }

  /** `HOST:ethN` cable out (down) or in (up). */
  setLink(nic: string, up: boolean): Promise<void> {
    return setLink(this.dir, nic, up);
  }

  /** Changes a NIC's faults (delay, loss, dup, bandwidth, mtu); returns the wirefilter's summary. */
  setFaults(nic: string, settings: ReadonlyArray<[string, string]>): Promise<string[]> {
    return setLinkFaults(this.dir, nic, settings);
  }

  /** A NIC's faults as its wirefilter reports them; undefined when it has none. */
  faults(nic: string): Promise<string[] | undefined> {
    return linkFaultsInfo(this.dir, nic);
  }

  /** Writes a NIC's frames to a pcap file until `stop()` or this process ends. */
  capture(nic: string, file: string): Promise<{ stop(): Promise<void> }> {
    return startCapture(this.dir, nic, file);
  }

  /** A NIC's frames as a live pcap byte stream (header first) until `stop()`; throws, handing over nothing, when the capture cannot start. */
  captureStream(nic: string, onChunk: (chunk: Buffer) => void): Promise<CaptureStream> {
    return openCaptureStream(this.dir, nic, onChunk);
  }

  /** `env`: where the image store is (the base images' identities go into the archive); default this process's. */
  save(out: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ file: string; live: boolean }> {
    const { imageStore } = labEnvironment(options.env ?? process.env, homedir());
    return saveSession(this.dir, out, { ...(options.cwd ? { cwd: options.cwd } : {}), imageStore });
  }

  /** `qemunet export virtualbox HOST`: VBoxManage commands for a VM standing in for the host on this session's switches (untested here). */
  async exportVirtualBox(host: string): Promise<string> {
    const state = await this.status();
    const h = state.hosts.find((x) => x.name === host);
    if (!h) throw new QemunetError('UNKNOWN_HOST', `session ${this.dir} has no host ${host}; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
    const paths = sessionPaths(this.dir);
    return virtualBoxScript({
      host,
      session: this.dir,
      memoryMiB: 256,
      nics: h.nics.map((n) => ({ eth: n.eth, switchSocket: paths.switch(n.switch).socket, port: n.port, mac: n.mac })),
      serialSocket: `${paths.host(host).serial}.vbox`,
    });
  }

  /** Any management command, as `qemunet switch SW -- CMD` sends it (the machine's owner at its own terminal). */
  switchCommand(name: string, command: string): Promise<MgmtReply> {
    return switchCommand(this.dir, name, command);
  }

  /**
   * A management command from someone who may change the lab but not the machine (the web page, a
   * student): only read-only and VLAN/port commands, judged as vde_switch will read the line.
   */
  labSwitchCommand(name: string, command: string): Promise<MgmtReply> {
    return switchCommand(this.dir, name, checkLabSwitchCommand(command));
  }

  attachConsole(host: string, io: AttachIo): Promise<'detached' | 'closed'> {
    return attachHostConsole(this.dir, host, io);
  }

  attachSwitchConsole(name: string, io: AttachIo): Promise<void> {
    return attachSwitchConsole(this.dir, name, io);
  }

  /** The session's topology, resolved (undefined when its file is gone or unreadable). */
  async topology(): Promise<Topology | undefined> {
    const file = sessionPaths(this.dir).topology;
    return readFile(file, 'utf8').then(
      (text) => resolveTopology(parseTopology(text, file)),
      () => undefined,
    );
  }

  /** Where the graph's nodes were dragged to (undefined when nobody did, or the file is not a valid layout). */
  layout(): Promise<GraphLayout | undefined> {
    return readLayout(sessionPaths(this.dir).layout);
  }

  /** Keeps the graph's node positions in the session directory; throws LAYOUT for a layout that is not valid. */
  saveLayout(layout: GraphLayout): Promise<void> {
    return writeLayout(sessionPaths(this.dir).layout, layout);
  }

  /** A host's console bytes from just after `cursor` (epoch and offset), or its whole kept history without one. */
  async openConsoleStream(host: string, cursor?: ConsoleCursor): Promise<ResumedConsole> {
    const state = await this.status();
    if (!state.hosts.some((h) => h.name === host)) throw new QemunetError('UNKNOWN_HOST', `session ${this.dir} has no host ${host}; hosts: ${state.hosts.map((h) => h.name).join(', ')}`);
    return openResumable(sessionPaths(this.dir).host(host).consoleResume, cursor);
  }

  /**
   * A connection to a `vnc` host's VNC server on its private unix socket: RFB bytes both ways (the
   * web server bridges it to noVNC). Throws UNKNOWN_HOST, NO_VNC_SCREEN (what the host has instead),
   * HOST_NOT_RUNNING or SCREEN_UNAVAILABLE.
   */
  openScreen(host: string): Promise<Socket> {
    return openHostScreen(this.dir, host);
  }

  /** The unix socket that serves a host's serial console to any number of clients. */
  consoleSocket(host: string): string {
    return sessionPaths(this.dir).host(host).console;
  }

  /** The log of the session's driving process (a detached session writes its notices there). */
  get logFile(): string {
    return sessionPaths(this.dir).log;
  }

  /** A host's serial console log. */
  consoleLog(host: string): string {
    return sessionPaths(this.dir).host(host).log;
  }
}

export { parseNicRef };

/** Every session qemunet remembers (in the registry of `env`, default this process's), newest state first; directories that are gone are forgotten. */
export function listSessions(env: NodeJS.ProcessEnv = process.env): Promise<SessionState[]> {
  return listRegistered(labEnvironment(env, homedir()).registryDir);
}
