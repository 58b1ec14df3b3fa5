import type { Check } from './types.js';

/** What a guest command gave, as the executor reports it. */
export interface ExecOutcome {
  status: number;
  stdout: string;
  stderr: string;
}

export type Verdict = 'pass' | 'fail' | 'error';

/** One try of a check: the guest command, how long to let it run, and how to read what it gave. */
export interface Probe {
  argv: string[];
  timeoutMs: number;
  judge(o: ExecOutcome): { verdict: Verdict; why?: string };
}

/** Exit statuses of a shell or `timeout` that could not run the program at all. */
const NOT_RUN: Readonly<Record<number, string>> = { 126: 'the command could not be executed (exit 126)', 127: 'the command is not in this guest (exit 127)' };
/** How long the host waits beyond the guest's own bound, for the agent to notice the command's end. */
export const AGENT_SLACK_MS = 2000;

const notRun = (o: ExecOutcome) => (NOT_RUN[o.status] ? { verdict: 'error' as const, why: NOT_RUN[o.status]! } : undefined);

/** Passes on an exit status; `failing` statuses fail; anything else could not test. */
function byStatus(passing: readonly number[], failing: readonly number[]): Probe['judge'] {
  return (o) => notRun(o) ?? (passing.includes(o.status) ? { verdict: 'pass' } : failing.includes(o.status) ? { verdict: 'fail' } : { verdict: 'error', why: `unexpected exit status ${o.status}` });
}

function byRegex(c: Extract<Check, { regex: unknown }>): Probe['judge'] {
  return (o) => {
    // A line end between the two, so that no match spans the end of stdout and the start of stderr.
    const all = o.stdout && o.stderr && !o.stdout.endsWith('\n') ? `${o.stdout}\n${o.stderr}` : `${o.stdout}${o.stderr}`;
    const matched = c.regex.regex.test(all);
    return { verdict: matched === (c.match === '~') ? 'pass' : 'fail' };
  };
}

/**
 * A check as the guest command that tests it, with the tools both built-in images have (iputils
 * ping, OpenBSD netcat, coreutils; tiny-recipe.ts, debian-recipe.ts). The guest agent runs argv
 * directly, with no shell, except `exec`'s own command, which is `sh -c`'s.
 * - ping: one echo (`-n`: no reverse lookups, which wait seconds in a lab without DNS). 0 is a
 *   reply; 1 no reply, 2 no route or no such name: both fail.
 * - noping: three echoes 0.2 s apart, so one lost packet does not pass it; passes on no reply at all.
 * - tcp/notcp: `nc -z -v`, a connect and nothing sent; -v says what happened, for "seen". UDP has no
 *   kind: a UDP probe "passes" whenever no ICMP error comes back, whether anything listens or not.
 * - exec: `sh -c COMMAND` under `timeout`, since the agent cannot kill what it started; the regex is
 *   matched against everything it printed (stdout then stderr), whatever its exit status (a
 *   `nc -w 3` that printed the flag and then timed out has done its job).
 * - file: `cat -- PATH`; a file that cannot be read fails, whatever the regex.
 */
export function probeOf(c: Check, remainingMs: number): Probe {
  switch (c.kind) {
    case 'ping':
      return { argv: ['ping', '-n', '-c', '1', '-W', '1', c.address], timeoutMs: 2000 + AGENT_SLACK_MS, judge: byStatus([0], [1, 2]) };
    case 'noping':
      return { argv: ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', c.address], timeoutMs: 2000 + AGENT_SLACK_MS, judge: byStatus([1, 2], [0]) };
    case 'tcp':
    case 'notcp': {
      const argv = ['nc', '-z', '-v', '-w', '2', c.address, String(c.port)];
      return { argv, timeoutMs: 3000 + AGENT_SLACK_MS, judge: c.kind === 'tcp' ? byStatus([0], [1]) : byStatus([1], [0]) };
    }
    case 'exec': {
      const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
      const argv = ['timeout', '-k', '1', String(seconds), 'sh', '-c', c.command];
      return { argv, timeoutMs: (seconds + 1) * 1000 + AGENT_SLACK_MS, judge: (o) => notRun(o) ?? byRegex(c)(o) };
    }
    case 'file':
      return { argv: ['cat', '--', c.path], timeoutMs: 2000 + AGENT_SLACK_MS, judge: (o) => notRun(o) ?? (o.status !== 0 ? { verdict: 'fail', why: 'the file cannot be read' } : byRegex(c)(o)) };
  }
}

const MAX_SEEN_LINES = 8;
const MAX_SEEN_CHARS = 600;

/** What a try showed, for the report: its output's last lines, trimmed, and a non-zero exit status. */
export function seenOf(o: ExecOutcome): string {
  let text = `${o.stdout.trimEnd()}\n${o.stderr.trimEnd()}`.trim().replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  if (lines.length > MAX_SEEN_LINES) text = `…\n${lines.slice(-MAX_SEEN_LINES).join('\n')}`;
  if (text.length > MAX_SEEN_CHARS) text = `…${text.slice(-MAX_SEEN_CHARS)}`;
  const status = o.status !== 0 ? `(exit ${o.status})` : '';
  return [text, status].filter(Boolean).join(text.includes('\n') ? '\n' : ' ');
}
