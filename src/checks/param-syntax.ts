import { maskOf, parseIpv4 } from './ipv4.js';
import { PARAM_NAME, type Fail } from './lex.js';
import { PARAM_GENERATORS, type Generator, type ParamDef } from './types.js';

/**
 * What a value may hold: it is written unquoted into the hosts' `params` file (sourced by sh) and
 * put into commands run by `sh -c`, so no character a shell gives a meaning to (no space, quote,
 * `$`, `;`, `~`, glob or redirection), and it cannot read as an option to a command.
 */
export const SAFE_VALUE = /^[A-Za-z0-9_.:/@%+=][A-Za-z0-9_.:/@%+=-]*$/;
const MAX_TOKEN = 64;
const MAX_INT = 2 ** 32 - 1;
const USAGE = 'PARAM name = token(N) | int(MIN, MAX) | choice(a, b, ...) | subnet(A.B.C.D/LEN, NEWLEN)';

interface Arg {
  text: string;
  column: number;
}

/** Reads `PARAM name = generator(args)` from `line`, whose `PARAM` ends at index `from`. */
export function parseParamLine(line: string, from: number, lineNo: number, fail: Fail): ParamDef {
  let i = from;
  const skip = () => {
    while (i < line.length && /\s/.test(line[i]!)) i++;
  };
  const read = (re: RegExp): Arg => {
    const start = i;
    while (i < line.length && re.test(line[i]!)) i++;
    return { text: line.slice(start, i), column: start + 1 };
  };
  skip();
  const name = read(/[^\s=(#]/);
  if (!name.text) fail(name.column, `PARAM needs a name: ${USAGE}`);
  if (!PARAM_NAME.test(name.text)) fail(name.column, `"${name.text}" is not valid as a parameter name: use lower-case letters, digits and _, starting with a letter (it becomes a shell variable in the hosts' params file)`);
  skip();
  if (line[i] !== '=') fail(i + 1, `expected "=" after the parameter name: ${USAGE}`);
  i++;
  skip();
  const gen = read(/[A-Za-z0-9_]/);
  if (!(PARAM_GENERATORS as readonly string[]).includes(gen.text)) {
    fail(gen.column, `${gen.text ? `unknown generator "${gen.text}"` : 'PARAM needs a generator'}; allowed: ${PARAM_GENERATORS.join(', ')} (${USAGE})`);
  }
  if (line[i] !== '(') fail(i + 1, `expected "(" after ${gen.text}: ${USAGE}`);
  const close = line.indexOf(')', i);
  if (close < 0) fail(i + 1, `this "(" has no ")": ${USAGE}`);
  const args: Arg[] = [];
  let start = i + 1;
  for (let j = i + 1; j <= close; j++) {
    if (line[j] !== ',' && j !== close) continue;
    const raw = line.slice(start, j);
    const lead = raw.length - raw.trimStart().length;
    args.push({ text: raw.trim(), column: start + lead + 1 });
    start = j + 1;
  }
  i = close + 1;
  skip();
  if (i < line.length && line[i] !== '#') fail(i + 1, `unexpected "${line.slice(i).trim()}" after the PARAM's ")"`);
  const generator = generatorOf(gen.text as Generator['kind'], args.length === 1 && args[0]!.text === '' ? [] : args, close + 1, fail);
  return { name: name.text, generator, line: lineNo, column: name.column };
}

function generatorOf(kind: Generator['kind'], args: Arg[], closeColumn: number, fail: Fail): Generator {
  const count = (n: number, usage: string) => {
    if (args.length < n) fail(args[args.length - 1]?.column ?? closeColumn, `${kind} takes ${n === 1 ? 'one argument' : `${n} arguments`}: ${usage}`);
    if (args.length > n) fail(args[n]!.column, `${kind} takes ${n === 1 ? 'one argument' : `${n} arguments`}: ${usage}`);
  };
  const integer = (a: Arg, min: number, max: number, what: string): number => {
    if (!/^\d+$/.test(a.text) || Number(a.text) < min || Number(a.text) > max) fail(a.column, `"${a.text}" is not ${what} (a whole number from ${min} to ${max})`);
    return Number(a.text);
  };
  for (const a of args) if (!a.text) fail(a.column, `an argument is missing here: ${USAGE}`);
  switch (kind) {
    case 'token':
      count(1, 'token(N), N characters from a-z and 2-9 (no l, o, 0, 1)');
      return { kind, length: integer(args[0]!, 1, MAX_TOKEN, 'a token length') };
    case 'int': {
      count(2, 'int(MIN, MAX), a whole number from MIN to MAX');
      const min = integer(args[0]!, 0, MAX_INT, 'a lower bound');
      const max = integer(args[1]!, 0, MAX_INT, 'an upper bound');
      if (max < min) fail(args[1]!.column, `the upper bound ${max} is below the lower bound ${min}`);
      return { kind, min, max };
    }
    case 'choice': {
      if (args.length < 2) fail(args[0]?.column ?? closeColumn, 'choice needs at least two values: choice(red, green, blue)');
      for (const a of args) if (!SAFE_VALUE.test(a.text)) fail(a.column, `"${a.text}" cannot be a value: use letters, digits and _ . : / @ % + = - (not first), no spaces or shell characters`);
      return { kind, options: args.map((a) => a.text) };
    }
    case 'subnet': {
      count(2, 'subnet(A.B.C.D/LEN, NEWLEN), one /NEWLEN network inside A.B.C.D/LEN');
      const [baseText, lenText] = args[0]!.text.split('/');
      const base = parseIpv4(baseText!);
      if (base === undefined || lenText === undefined || !/^\d+$/.test(lenText) || Number(lenText) > 32) fail(args[0]!.column, `"${args[0]!.text}" is not an IPv4 network like 10.0.0.0/8`);
      const baseLength = Number(lenText);
      if ((base & ~maskOf(baseLength)) !== 0) fail(args[0]!.column, `"${args[0]!.text}" has host bits set: write the network itself, like 10.0.0.0/8`);
      const length = integer(args[1]!, baseLength, 32, `a prefix length inside /${baseLength}`);
      return { kind, base, baseLength, length };
    }
  }
}
