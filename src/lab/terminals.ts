import { spawn } from 'node:child_process';
import { run } from '../process/run.js';
import { shellCommand } from '../process/shell-quote.js';

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

/** An xterm on the host's console; tied to qemunet's life like the VMs are. */
export function openXterm(window: TerminalWindow): void {
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'xterm', '-T', window.title, '-e', ...window.argv], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}
