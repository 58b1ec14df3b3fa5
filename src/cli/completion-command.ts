import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { homedir } from 'node:os';
import { catalogSettings } from './lab-settings.js';
import { demoTopologies, isLive, listImages, listSessions, type SessionState } from '../api/index.js';
import { UsageError } from '../errors.js';
import { completionCandidates, completionTarget, splitCommandLine, type CompletionContext, type CompletionTarget } from './completion.js';
import { BASH_COMPLETION, ZSH_COMPLETION } from './completion-scripts.js';

/** `qemunet completion bash|zsh`: the script to source. */
export function completionCommand(args: string[]): Promise<number> {
  const script = args.length === 1 ? { bash: BASH_COMPLETION, zsh: ZSH_COMPLETION }[args[0]!] : undefined;
  if (script === undefined) throw new UsageError('usage: qemunet completion bash|zsh   (then: source <(qemunet completion bash))');
  process.stdout.write(script);
  return Promise.resolve(0);
}

/**
 * `qemunet __complete bash LINE` or `qemunet __complete zsh WORDS...`, the scripts' call back: the
 * kind, the current word, then the candidates, a line each. It never fails loudly: a completion that
 * cannot read a session offers nothing rather than an error in the middle of a command line.
 */
export async function completeCommand(args: string[]): Promise<number> {
  const [shell, ...rest] = args;
  const words = (shell === 'bash' ? splitCommandLine(rest[0] ?? '') : rest).slice(shell === 'bash' ? 1 : 0);
  if (!words.length) words.push('');
  const current = words[words.length - 1]!;
  const target = completionTarget(words);
  const ctx = await contextFor(target, words).catch(() => ({}));
  process.stdout.write([target.kind, current, ...completionCandidates(target, current, ctx)].join('\n') + '\n');
  return 0;
}

/** Reads only what the target needs: a running session's names, the systems, the demos. */
async function contextFor(target: CompletionTarget, words: readonly string[]): Promise<CompletionContext> {
  if (target.kind === 'topology') return { demos: [...demoTopologies().keys()] };
  if (target.kind === 'systems') return { systems: (await listImages(catalogSettings(undefined, { env: process.env, home: homedir() }))).rows.map((r) => r.name) };
  if (target.kind !== 'hosts' && target.kind !== 'nics' && target.kind !== 'switches') return {};
  const sessions = await sessionsNamed(words);
  return {
    hosts: sessions.flatMap((s) => s.hosts.map((h) => h.name)),
    nics: sessions.flatMap((s) => s.hosts.flatMap((h) => h.nics.map((n) => `${h.name}:${n.eth}`))),
    switches: sessions.flatMap((s) => s.switches.map((w) => w.name)),
  };
}

/** The session of --session DIR when the line gives one, else every running one (a command then asks which). */
async function sessionsNamed(words: readonly string[]): Promise<SessionState[]> {
  const at = words.indexOf('--session');
  // The `session` link up leaves in a folder names the same session as its target.
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  const dir = at >= 0 && at + 1 < words.length - 1 ? await real(words[at + 1]!) : undefined;
  const all = await listSessions();
  if (!dir) return all.filter(isLive);
  const dirs = await Promise.all(all.map((s) => real(s.dir)));
  return all.filter((_, i) => dirs[i] === dir);
}
