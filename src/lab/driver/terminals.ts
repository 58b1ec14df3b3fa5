import type { ChildProcess } from 'node:child_process';
import { run } from '../../process/run.js';
import { shellCommand } from '../../process/shell-quote.js';
import { spawnProcess } from '../../process/start.js';
import type { TerminalDisplay } from '../plan.js';

export interface TerminalWindow {
  title: string;
  /** What runs in the window: a console attach, which ends when the session does. */
  argv: readonly string[];
}

/**
 * One tmux window per host, in a detached tmux session the user attaches to with `tmux attach`.
 * Each window runs a console client, which exits when qemunet's console socket closes; so even after
 * a SIGKILL of qemunet the windows, and then the tmux session, go away by themselves.
 */
export async function openTmuxWindows(session: string, windows: readonly TerminalWindow[]): Promise<void> {
  const [first, ...rest] = windows;
  if (!first) return;
  await run('tmux', ['new-session', '-d', '-s', session, '-n', first.title, shellCommand(first.argv)]);
  for (const w of rest) await run('tmux', ['new-window', '-d', '-t', `${session}:`, '-n', w.title, shellCommand(w.argv)]);
}

export async function closeTmuxSession(session: string): Promise<void> {
  await run('tmux', ['kill-session', '-t', session]).catch(() => {});
}

/**
 * One GNU screen session with a window per host (QemuNet's `screen` mode, as tmux above):
 * `screen -r SESSION` attaches. The windows run console clients, so the session ends by itself with
 * qemunet's sockets, even after a SIGKILL of qemunet.
 */
export async function openScreenWindows(session: string, windows: readonly TerminalWindow[]): Promise<void> {
  const [first, ...rest] = windows;
  if (!first) return;
  await run('screen', ['-dmS', session, '-t', first.title, ...first.argv]);
  // `-X screen` passes its argv to the new window without a shell.
  for (const w of rest) await run('screen', ['-S', session, '-X', 'screen', '-t', w.title, ...w.argv]);
}

export async function closeScreenSession(session: string): Promise<void> {
  await run('screen', ['-S', session, '-X', 'quit']).catch(() => {});
}

/**
 * The terminal programs of the window modes and how each takes a title and a command. Each runs the
 * command as its own child, except gnome-terminal: its tab belongs to gnome-terminal-server (started
 * by D-Bus), and `--wait` only keeps the client until the command ends. The command is a console
 * client, which ends when the session's console socket closes; the tab then closes with it.
 */
export function terminalArgv(kind: TerminalDisplay, window: TerminalWindow): string[] {
  switch (kind) {
    case 'xterm':
      return ['xterm', '-T', window.title, '-e', ...window.argv];
    case 'rxvt':
      return ['urxvt', '-title', window.title, '-e', ...window.argv];
    case 'xfce4':
      // Without --disable-server the window would belong to a running xfce4-terminal, not to this process.
      return ['xfce4-terminal', '--disable-server', '-T', window.title, '-x', ...window.argv];
    case 'gnome':
      return ['gnome-terminal', '--wait', `--title=${window.title}`, '--', ...window.argv];
  }
}


/** A terminal window on the host's console; it closes when the console client ends, or with qemunet. */
export function openTerminal(kind: TerminalDisplay, window: TerminalWindow): void {
  // Tied to qemunet's life as the VMs are (TERM: the terminal closes cleanly).
  const [program, ...args] = terminalArgv(kind, window);
  const { child, started } = spawnProcess(program!, args, { stdio: 'ignore', tiedTo: 'TERM' });
  started.catch(() => {});
  child.unref();
}

/** An xterm on the host's console (also the -y switch consoles with the xterm display). */
export function openXterm(window: TerminalWindow): void {
  openTerminal('xterm', window);
}

/** Where a host's VNC or SPICE server listens, and its password on TCP. */
export type RemoteScreen = { protocol: 'vnc' | 'spice'; socket: string } | { protocol: 'vnc' | 'spice'; port: number; password: string; viewerFile: string };

/**
 * The viewer of `-V` for a host's screen. A VNC unix socket: TigerVNC (remote-viewer 11 cannot open
 * one). A SPICE unix socket: remote-viewer. TCP: remote-viewer with a connection file, which holds the
 * password (never on a command line, where `ps` would show it).
 */
export function viewerArgv(host: string, screen: RemoteScreen): string[] {
  if ('socket' in screen) {
    return screen.protocol === 'vnc' ? ['xtigervncviewer', screen.socket] : ['remote-viewer', '--title', host, `spice+unix://${screen.socket}`];
  }
  return ['remote-viewer', screen.viewerFile];
}

/** remote-viewer's connection file (virt-viewer's .vv format) for a screen on TCP. */
export function viewerFile(host: string, screen: { protocol: 'vnc' | 'spice'; port: number; password: string }): string {
  return `[virt-viewer]\ntype=${screen.protocol}\nhost=127.0.0.1\nport=${screen.port}\npassword=${screen.password}\ntitle=${host}\ndelete-this-file=0\n`;
}

/** A viewer, tied to qemunet's life; the teardown also ends it. */
export function openViewer(argv: readonly string[], onExit?: () => void): ChildProcess {
  const [program, ...args] = argv;
  const { child, started } = spawnProcess(program!, args, { stdio: 'ignore', tiedTo: 'TERM' });
  started.catch(() => {});
  if (onExit) child.once('exit', onExit);
  return child;
}
