import { InputError } from '../errors.js';
import { checkName } from '../topology/parse.js';
import { checkAddress, checkPath, checkTarget, compileRegex, escapeRegex, type Checked } from './check-values.js';
import { fillTemplate, hasParams, plainText, templateOf, tokenizeLine, type Fail, type StringMode, type Token } from './lex.js';
import { parseParamLine } from './param-syntax.js';
import { fieldAllowed, fieldsAllowed } from './params.js';
import { CHECK_KINDS, type CheckKind, type ChecksFile, type Match, type ParamDef, type RawCheck, type Template } from './types.js';

export const STATEMENTS = ['CHECK', 'PARAM', 'SECRET'] as const;
export const DEFAULT_WITHIN_MS = 10_000;
const MAX_WITHIN_MS = 600_000;
const MAX_POINTS = 1000;
/** Long enough that nobody guesses it: 16 characters of `openssl rand -base64 12`. */
export const MIN_SECRET_LENGTH = 16;
const OPTIONS = 'N points, within DURATION (like 30s), hidden';
const USAGE: Record<CheckKind, string> = {
  ping: 'ping HOST ADDRESS',
  noping: 'noping HOST ADDRESS',
  tcp: 'tcp HOST ADDRESS:PORT',
  notcp: 'notcp HOST ADDRESS:PORT',
  exec: 'exec HOST "COMMAND" ~ "REGEX" (or !~)',
  file: 'file HOST /PATH ~ "REGEX" (or !~)',
};

type Options = Pick<RawCheck, 'points' | 'withinMs' | 'hidden'>;

/**
 * Reads a lab's checks file as data (nothing in it is run by a shell on this machine):
 * `CHECK "name" [options] KIND HOST ARGS [options]`, `PARAM name = generator(args)`,
 * `SECRET "text"`, comments and blank lines. Anything else is an error at its file:line:column
 * saying what is allowed. Parameters are checked here too: every `{{name}}` names a PARAM.
 */
export function parseChecks(text: string, file: string): ChecksFile {
  const checks: RawCheck[] = [];
  const params: ParamDef[] = [];
  let secret: ChecksFile['secret'];
  const names = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.replace(/\r$/, '');
    const fail: Fail = (column, msg) => {
      throw new InputError('CHECKS_SYNTAX', file, lineNo, column, msg);
    };
    const head = /^\s*(\S+)/.exec(line);
    if (!head || head[1]!.startsWith('#')) return;
    const headColumn = line.indexOf(head[1]!) + 1;
    if (head[1] === 'PARAM') {
      const p = parseParamLine(line, headColumn + 'PARAM'.length - 1, lineNo, fail);
      const before = params.find((q) => q.name === p.name);
      if (before) fail(p.column, `parameter "${p.name}" is already defined at line ${before.line}`);
      params.push(p);
      return;
    }
    const [first, ...args] = tokenizeLine(line, fail) as [Token, ...Token[]];
    switch (first.text) {
      case 'SECRET': {
        const t = args[0];
        if (!t) return fail(endOf(first), `SECRET needs the lab's secret: SECRET "at least ${MIN_SECRET_LENGTH} characters"`);
        if (args[1]) fail(args[1].column, 'SECRET takes one string: put it in "..." if it has spaces');
        if (secret) fail(first.column, `the secret is already given at line ${secret.line}`);
        const value = plainText(t);
        if (value.length < MIN_SECRET_LENGTH) fail(t.column, `the secret is too short (${value.length} characters): it needs at least ${MIN_SECRET_LENGTH}, e.g. the output of openssl rand -base64 12`);
        secret = { value, line: lineNo, column: t.column };
        return;
      }
      case 'CHECK': {
        const c = parseCheck(first, args, lineNo, fail);
        const before = names.get(c.name);
        if (before !== undefined) fail(args[0]!.column, `a check named "${c.name}" is already at line ${before}: each check needs its own name (it is a column of the class table)`);
        names.set(c.name, lineNo);
        checks.push(c);
        return;
      }
      default:
        fail(first.column, `unknown statement "${first.text}"; allowed: ${STATEMENTS.join(', ')}, and # comments`);
    }
  });
  if (!checks.length) throw new InputError('CHECKS_EMPTY', file, 1, 1, 'this checks file has no CHECK line: CHECK "name" KIND HOST ARGS, with KIND one of ' + CHECK_KINDS.join(', '));
  checkParamNames(params, file);
  for (const c of checks) checkTemplates(c, params, file);
  return { file, ...(secret ? { secret } : {}), params, checks };
}

function parseCheck(head: Token, args: Token[], line: number, fail: Fail): RawCheck {
  const nameTok = args[0];
  if (!nameTok) return fail(endOf(head), 'CHECK needs a name, shown to the student: CHECK "name" KIND HOST ARGS');
  const name = plainText(nameTok);
  if (!name.trim()) fail(nameTok.column, 'a check needs a name that is not blank');
  // A name is one line of every report.
  if (/[\x00-\x1f\x7f]/.test(name)) fail(nameTok.column, 'a check name cannot hold control characters');
  let at = 1;
  const options: Options = { points: 1, withinMs: DEFAULT_WITHIN_MS, hidden: false };
  const seen = new Set<string>();
  /** Reads the option at `at` if there is one; false at a word that is not an option. */
  const option = (): boolean => {
    const t = args[at]!;
    const once = (what: string) => {
      if (seen.has(what)) fail(t.column, `${what} is given twice`);
      seen.add(what);
    };
    if (t.quoted) return false;
    if (t.text === 'hidden') {
      once('hidden');
      options.hidden = true;
      at += 1;
      return true;
    }
    if (/^\d+$/.test(t.text)) {
      const unit = args[at + 1];
      if (unit?.text !== 'points' && unit?.text !== 'point') fail(unit?.column ?? t.column + t.text.length, `expected "points" after ${t.text} (${OPTIONS})`);
      if (Number(t.text) > MAX_POINTS) fail(t.column, `at most ${MAX_POINTS} points a check`);
      once('points');
      options.points = Number(t.text);
      at += 2;
      return true;
    }
    if (t.text === 'within') {
      const d = args[at + 1];
      const m = d && /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d.text);
      if (!m) return fail(d?.column ?? t.column + t.text.length, `within needs a duration, like 30s, 500ms or 2m`);
      const ms = Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm']);
      if (ms > MAX_WITHIN_MS) fail(d.column, `within is at most ${MAX_WITHIN_MS / 60_000} minutes`);
      once('within');
      options.withinMs = ms;
      at += 2;
      return true;
    }
    return false;
  };
  while (at < args.length && option());
  const kindTok = args[at];
  if (!kindTok) return fail(endOf(args[at - 1]!), `this check needs a kind and its host: ${CHECK_KINDS.join(', ')}`);
  if (kindTok.quoted && (CHECK_KINDS as readonly string[]).includes(kindTok.text)) fail(kindTok.column, `the kind is a word, not a string: write ${kindTok.text} without quotes`);
  if (kindTok.quoted || !(CHECK_KINDS as readonly string[]).includes(kindTok.text)) {
    fail(kindTok.column, `unknown check kind "${kindTok.text}"; allowed: ${CHECK_KINDS.join(', ')} (and before it: ${OPTIONS})`);
  }
  const kind = kindTok.text as CheckKind;
  const usage = `${kindTok.text} needs: ${USAGE[kind]}`;
  const need = (n: number): Token => args[at + n] ?? fail(endOf(args[args.length - 1]!), usage);
  const hostTok = need(1);
  checkName(hostTok.text, 'a host name', (msg) => fail(hostTok.column, msg));
  const value = (t: Token, check: (text: string) => Checked<unknown>): Template => {
    const tpl = templateOf(t, t.quoted ? 'text' : 'bare', fail);
    if (!hasParams(tpl)) {
      const r = check(fillTemplate(tpl, () => ''));
      if (!r.ok) fail(t.column, r.problem);
    }
    return tpl;
  };
  const common = { name, host: hostTok.text, hostColumn: hostTok.column, ...options, line };
  let used: number;
  let check: RawCheck;
  if (kind === 'ping' || kind === 'noping') {
    check = { ...common, kind, address: value(need(2), checkAddress) };
    used = 3;
  } else if (kind === 'tcp' || kind === 'notcp') {
    check = { ...common, kind, target: value(need(2), checkTarget) };
    used = 3;
  } else {
    const subject = need(2);
    const opTok = need(3);
    if (opTok.quoted || (opTok.text !== '~' && opTok.text !== '!~')) fail(opTok.column, `expected ~ (matches) or !~ (does not match) before the regex: ${USAGE[kind]}`);
    const regex = regexOf(need(4), fail);
    const match = opTok.text as Match;
    if (kind === 'exec') {
      const command = templateOf(subject, subject.quoted ? 'text' : 'bare', fail);
      if (!fillTemplate(command, () => 'x').trim()) fail(subject.column, 'the command is empty');
      check = { ...common, kind, command, match, regex };
    } else {
      check = { ...common, kind, path: value(subject, checkPath), match, regex };
    }
    used = 5;
  }
  at += used;
  while (at < args.length) if (!option()) fail(args[at]!.column, `unexpected "${args[at]!.text}" after ${USAGE[kind]}; what may follow: ${OPTIONS}`);
  return { ...check, ...options };
}

/** The column just after a token (after its closing quote), where what is missing would stand. */
function endOf(t: Token): number {
  return t.column + t.text.length + (t.quoted ? 2 : 0);
}

function regexOf(t: Token, fail: Fail): Template {
  const mode: StringMode = t.quoted ? 'regex' : 'bare';
  const tpl = templateOf(t, mode, fail);
  // A parameter is matched as its literal text: any value compiles the same as this stand-in.
  const r = compileRegex(fillTemplate(tpl, () => escapeRegex('x')));
  if (!r.ok) fail(t.column, r.problem);
  return tpl;
}

/** A subnet `net` also gives net_network... in the params file: no other parameter may take those names. */
function checkParamNames(params: readonly ParamDef[], file: string): void {
  const derived = new Map<string, ParamDef>();
  for (const p of params) if (p.generator.kind === 'subnet') for (const f of ['network', 'prefix', 'netmask', 'broadcast']) derived.set(`${p.name}_${f}`, p);
  for (const p of params) {
    const owner = derived.get(p.name);
    if (owner) throw new InputError('CHECKS_SYNTAX', file, p.line, p.column, `"${p.name}" is already a variable of the params file, from the subnet "${owner.name}" at line ${owner.line}: choose another name`);
  }
}

/** The strings of a check that may hold parameters. */
export function templatesOf(c: RawCheck): Template[] {
  switch (c.kind) {
    case 'ping':
    case 'noping':
      return [c.address];
    case 'tcp':
    case 'notcp':
      return [c.target];
    case 'exec':
      return [c.command, c.regex];
    case 'file':
      return [c.path, c.regex];
  }
}

function checkTemplates(c: RawCheck, params: readonly ParamDef[], file: string): void {
  const templates = templatesOf(c);
  for (const t of templates) {
    for (const part of t.parts) {
      if (!('param' in part)) continue;
      const p = params.find((q) => q.name === part.param);
      const fail = (msg: string): never => {
        throw new InputError('CHECKS_INVALID', file, c.line, part.column, msg);
      };
      if (!p) fail(`no parameter "${part.param}": ${params.length ? `defined: ${params.map((q) => q.name).join(', ')}` : 'this file has no PARAM line'} (PARAM ${part.param} = token(8))`);
      else if (!fieldAllowed(p.generator, part.field)) fail(`"${part.param}.${part.field}": a ${p.generator.kind} parameter's fields are ${fieldsAllowed(p.generator)}`);
    }
  }
}
