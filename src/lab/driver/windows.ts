import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { SessionPaths } from '../../session/paths.js';
import { TERMINAL_DISPLAYS, type HostPlan, type LabPlan, type TerminalDisplay } from '../plan.js';
import { kindOf } from '../kinds/index.js';
import type { SessionStatus } from './session-status.js';
import type { ScreenAccess } from '../state.js';
import { closeScreenSession, closeTmuxSession, openScreenWindows, openTerminal, openTmuxWindows, openViewer, openXterm, viewerArgv, type RemoteScreen, type TerminalWindow } from './terminals.js';

export interface WindowOptions {
  /** The command a terminal window runs to show a host's console (tmux and xterm display modes). */
  consoleCommand: (host: string) => string[];
  /** -y: a window per switch with its management console, and the command it runs. */
  switchWindows?: { kind: 'tmux' | 'xterm'; command: (sw: string) => string[] };
  /** -V: a viewer window per vnc/spice host, for the session's life. */
  viewers?: boolean;
  /** The X display QEMU windows, terminals and viewers open on (for status). */
  xDisplay?: string;
}

/**
 * What a person looks at: tmux and screen sessions and terminal windows on the consoles, switch
 * consoles (-y), and the vnc/spice screens of hosts with their passwords and viewers (-V).
 */
export class LabWindows {
  private tmuxSession?: string;
  private screenSession?: string;
  /** -V viewers, ended at teardown (and by their parent-death signal if qemunet is killed). */
  private readonly viewers = new Set<ChildProcess>();
  /** Passwords of screens on TCP, one per host for the session's life (kept across restarts). */
  private readonly passwords = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly plan: LabPlan,
    private readonly paths: SessionPaths,
    private readonly status: SessionStatus,
    private readonly options: WindowOptions,
  ) {}

  /** A vnc/spice host's server: its unix socket, or its TCP port with the password qemunet sets. */
  remoteScreen(h: HostPlan): RemoteScreen | undefined {
    const d = kindOf(h).screen?.display(h);
    if (!d) return undefined;
    if (d.kind !== 'vnc' && d.kind !== 'spice') return undefined;
    if ('socket' in d.listen) return { protocol: d.kind, socket: d.listen.socket };
    let password = this.passwords.get(h.name);
    // VNC authentication uses 8 characters at most.
    if (!password) this.passwords.set(h.name, (password = randomBytes(d.kind === 'vnc' ? 6 : 12).toString('base64url')));
    return { protocol: d.kind, port: d.listen.port, password, viewerFile: h.paths.viewerFile };
  }

  /** How to reach a host's screen, for its status; undefined when it has none. */
  screenAccess(h: HostPlan): ScreenAccess | undefined {
    const d = kindOf(h).screen?.display(h);
    if (!d || d.kind === 'none') return undefined;
    const screen = this.remoteScreen(h);
    if (!screen) return { kind: 'window', connect: `QEMU's window "QEMU (${h.name})" on X display ${this.options.xDisplay ?? '$DISPLAY'}` };
    const connect = viewerArgv(h.name, screen).join(' ');
    if ('socket' in screen) return { kind: screen.protocol, socket: screen.socket, connect };
    return { kind: screen.protocol, address: '127.0.0.1', port: screen.port, password: screen.password, connect: `${connect} (or any ${screen.protocol.toUpperCase()} client: 127.0.0.1 port ${screen.port}, password ${screen.password})` };
  }

  /** Once every host has started: the windows of the session's display modes. */
  async open(): Promise<void> {
    const windowOf = (h: HostPlan): TerminalWindow => ({ title: h.name, argv: this.options.consoleCommand(h.name) });
    const sw = this.options.switchWindows;
    const switchWindows = (sw ? this.plan.switches.filter((s) => !s.hub) : []).map((s) => ({ title: `[${s.name}]`, argv: sw!.command(s.name) }));
    const sessionName = `qemunet-${this.paths.dir.split('/').pop()}`.replace(/[.:]/g, '_');
    const tmux = [...this.plan.hosts.filter((h) => h.display === 'tmux').map(windowOf), ...(sw?.kind === 'tmux' ? switchWindows : [])];
    if (tmux.length) {
      this.tmuxSession = sessionName;
      await openTmuxWindows(sessionName, tmux);
      this.status.setWindows({ tmuxSession: sessionName });
    }
    const screen = this.plan.hosts.filter((h) => h.display === 'screen').map(windowOf);
    if (screen.length) {
      this.screenSession = sessionName;
      await openScreenWindows(sessionName, screen);
      this.status.setWindows({ screenSession: sessionName });
    }
    for (const h of this.plan.hosts) if ((TERMINAL_DISPLAYS as readonly string[]).includes(h.display)) openTerminal(h.display as TerminalDisplay, windowOf(h));
    if (sw?.kind === 'xterm') switchWindows.forEach((w) => openXterm(w));
    if (this.options.viewers) for (const h of this.plan.hosts) this.openViewerOf(h);
  }

  /** -V: a viewer on a vnc/spice host's screen, until the session ends. */
  private openViewerOf(h: HostPlan): void {
    const screen = this.remoteScreen(h);
    if (!screen || this.closed) return;
    const child = openViewer(viewerArgv(h.name, screen), () => this.viewers.delete(child));
    this.viewers.add(child);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tmuxSession) await closeTmuxSession(this.tmuxSession);
    if (this.screenSession) await closeScreenSession(this.screenSession);
    for (const v of this.viewers) v.kill('SIGTERM');
  }

  killNow(): void {
    this.closed = true;
    for (const v of this.viewers) v.kill('SIGKILL');
  }
}
