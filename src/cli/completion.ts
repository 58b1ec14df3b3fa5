import { DISPLAY_MODES } from '../protocol/session-state.js';
import { synopses, USAGE } from './help.js';
import { UP_USAGE } from './up-command.js';

/**
 * Shell completion, pure: the words typed so far in, what the current word can be out. Commands,
 * options and what each argument is come from the help text itself (USAGE, `up --help`), so a
 * command or option added there completes without a second list.
 */
export type ArgumentKind = 'hosts' | 'nics' | 'switches' | 'systems' | 'displays' | 'file' | 'dir' | 'topology' | 'none';

export interface CompletionTarget {
  kind: ArgumentKind | 'words';
  /** Literal words that fit here (commands, options, up|down). */
  words: string[];
}

/** What a running session and this machine offer, filled in by the caller for the kind asked. */
export interface CompletionContext {
  hosts?: readonly string[];
  /** `HOST:ethN` of every NIC. */
  nics?: readonly string[];
  switches?: readonly string[];
  systems?: readonly string[];
  demos?: readonly string[];
}

interface CommandSpec {
  /** Option -> the kind of its value, or undefined for a flag. */
  options: Map<string, ArgumentKind | undefined>;
  /** Positional arguments in order; a literal alternative list (up|down) is words. */
  positionals: Array<ArgumentKind | string[]>;
}

/** The kind of argument a placeholder of the help text stands for. */
export function placeholderKind(p: string): ArgumentKind | string[] {
  if (p === 'HOST') return 'hosts';
  if (p.startsWith('HOST:')) return 'nics';
  if (p === 'SW') return 'switches';
  if (p === 'DIR' || p === 'SESSION_DIR') return 'dir';
  if (p.startsWith('TOPOLOGY')) return 'topology';
  if (/^(FILE|ARCHIVE|OUT\.)/.test(p)) return 'file';
  if (p === 'NAME' || p === 'SYSTEM' || p === 'SYS') return 'systems';
  if (p === 'MODE') return 'displays';
  if (/^[a-z]+(\|[a-z]+)+$/.test(p)) return p.split('|');
  return 'none';
}

const valueOf = (p: string | undefined): ArgumentKind | undefined => {
  if (p === undefined) return undefined;
  const k = placeholderKind(p);
  return Array.isArray(k) ? 'none' : k;
};

/** A command's options and positionals from its synopsis: `HOST:ethN [up|down] [--delay 40ms] [--session DIR]`. */
function specOf(args: string): CommandSpec {
  const tokens = args.replace(/[[\]]/g, ' ').split(/\s+/).filter(Boolean);
  const spec: CommandSpec = { options: new Map(), positionals: [] };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '--' || t === '...' || t === 'options') break;
    if (t.startsWith('-')) {
      const next = tokens[i + 1];
      const takes = next !== undefined && !next.startsWith('-') && next !== '...';
      spec.options.set(t, takes ? valueOf(next) : undefined);
      if (takes) i++;
    } else spec.positionals.push(placeholderKind(t));
  }
  return spec;
}

/**
 * `up`'s options from its help: those of each line's option column (`--session DIR, -S DIR`, also
 * after a `;`: `-z ARGS`), with the placeholder after each, and a letter given in brackets (`xterm (-x)`);
 * options a description only mentions (`qemunet web --labs`) are another command's.
 */
function upSpec(): CommandSpec {
  const options = new Map<string, ArgumentKind | undefined>();
  const add = (name: string, value: string | undefined) => {
    if (!options.has(name) || (value !== undefined && options.get(name) === undefined)) options.set(name, valueOf(value));
  };
  for (const line of UP_USAGE.split('\n').slice(1)) {
    for (const segment of line.trim().split(/;\s+/)) {
      if (!segment.startsWith('-')) continue;
      const column = segment.split(/\s{2,}/)[0]!;
      for (const m of column.matchAll(/(?:^|[\s,/])(--?[a-zA-Z][a-zA-Z-]*)(?: ([A-Z][A-Za-z|:.=]*))?/g)) add(m[1]!, m[2]);
    }
    for (const m of line.matchAll(/\((-[a-zA-Z])\)/g)) add(m[1]!, undefined);
  }
  return { options, positionals: ['topology'] };
}

function commandSpecs(): Map<string, CommandSpec> {
  const specs = new Map<string, CommandSpec>([['up', upSpec()]]);
  for (const s of synopses(USAGE)) if (s.name !== 'up' && s.name !== '-t') specs.set(s.name, specOf(s.args));
  return specs;
}

/** What the last word of `words` (the words after `qemunet`; the last one being typed) can be. */
export function completionTarget(words: readonly string[]): CompletionTarget {
  const specs = commandSpecs();
  const top = [...new Set([...specs.keys()].map((n) => n.split(' ')[0]!)), 'help', '--help', '--version'];
  if (words.length <= 1) return { kind: 'words', words: top };
  let name = words[0]!;
  let rest = words.slice(1);
  // QemuNet's form (`qemunet -t lan.topo -x`) is up's options.
  if (name.startsWith('-')) {
    name = 'up';
    rest = words.slice(0);
  }
  const subcommands = [...specs.keys()].filter((n) => n.startsWith(`${name} `));
  if (subcommands.length) {
    if (rest.length === 1) return { kind: 'words', words: subcommands.map((n) => n.slice(name.length + 1)) };
    name = `${name} ${rest[0]}`;
    rest = rest.slice(1);
  }
  const spec = specs.get(name);
  if (!spec) return { kind: 'none', words: [] };
  const done = rest.slice(0, -1);
  const current = rest[rest.length - 1]!;
  // After `--` come the guest's or the switch's own words.
  if (done.includes('--')) return { kind: 'none', words: [] };
  const previous = done[done.length - 1];
  if (previous !== undefined && spec.options.get(previous) !== undefined) return { kind: spec.options.get(previous)!, words: [] };
  if (current.startsWith('-')) return { kind: 'words', words: [...spec.options.keys()] };
  let positional = 0;
  for (let i = 0; i < done.length; i++) {
    if (done[i]!.startsWith('-')) {
      if (spec.options.get(done[i]!) !== undefined) i++;
    } else positional++;
  }
  const here = spec.positionals[positional];
  if (here === undefined) return { kind: 'none', words: [] };
  return Array.isArray(here) ? { kind: 'words', words: here } : { kind: here, words: [] };
}

/** The candidates for the current word: the target's words or the context's names, by prefix. */
export function completionCandidates(target: CompletionTarget, current: string, ctx: CompletionContext): string[] {
  const pool: readonly string[] =
    target.kind === 'words' ? target.words
      : target.kind === 'hosts' ? ctx.hosts ?? []
        : target.kind === 'nics' ? ctx.nics ?? []
          : target.kind === 'switches' ? ctx.switches ?? []
            : target.kind === 'systems' ? ctx.systems ?? []
              : target.kind === 'displays' ? DISPLAY_MODES
                : target.kind === 'topology' ? ctx.demos ?? []
                  : [];
  return [...new Set(pool)].filter((w) => w.startsWith(current));
}

/**
 * The words of a bash command line up to the cursor, as the shell splits them (quotes and
 * backslashes); a line ending in a space has an empty current word.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  words.push(inWord ? word : '');
  return words;
}
