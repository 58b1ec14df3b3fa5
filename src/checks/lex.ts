import type { Part, Template } from './types.js';

/** A word of a checks line; for a quoted string, `text` is what stands between the quotes, as written. */
export interface Token {
  text: string;
  quoted: boolean;
  /** Where the word (or its opening quote) starts, from 1. */
  column: number;
}

export type Fail = (column: number, message: string) => never;

/** Parameter names are shell variable names in the hosts' `params` file; lower case, so none is PATH or HOME. */
export const PARAM_NAME = /^[a-z][a-z0-9_]*$/;
const FIELD = /^[a-z0-9]+$/;

/**
 * Splits a line into words and double-quoted strings; a word starting with `#` begins a comment.
 * A backslash inside quotes keeps the next character in the string (so `\"` does not close it).
 */
export function tokenizeLine(line: string, fail: Fail): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    const column = i + 1;
    if (line[i] === '#') break;
    if (line[i] === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) fail(column, 'this string has no closing " on its line (write \\" for a quote inside a string)');
      if (j + 1 < line.length && !/\s/.test(line[j + 1]!)) fail(j + 2, 'a space must follow the closing " of a string');
      tokens.push({ text: line.slice(i + 1, j), quoted: true, column });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/\s/.test(line[j]!)) j++;
    const text = line.slice(i, j);
    const quote = text.indexOf('"');
    if (quote >= 0) fail(column + quote, 'a quote may only open a string: put the whole string in "..."');
    tokens.push({ text, quoted: false, column });
    i = j;
  }
  return tokens;
}

/**
 * How a string's backslashes read. `text` (names, commands): `\"` is a quote and `\\` a backslash,
 * any other backslash stays (the shell reading a command sees it). `regex`: exactly as written, so
 * `192\.168` is the regex it looks like (`\"` is a quote to the regex engine too). `bare` (an
 * unquoted word): no escapes.
 */
export type StringMode = 'text' | 'regex' | 'bare';

/** The string a token stands for, with `{{name}}` and `{{name.field}}` taken out as parameters. */
export function templateOf(tok: Token, mode: StringMode, fail: Fail): Template {
  const start = tok.quoted ? tok.column + 1 : tok.column;
  const raw = tok.text;
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === '\\' && mode !== 'bare' && i + 1 < raw.length) {
      const next = raw[i + 1]!;
      literal += mode === 'text' && (next === '"' || next === '\\') ? next : raw.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (raw.startsWith('{{', i)) {
      const end = raw.indexOf('}}', i + 2);
      if (end < 0) fail(start + i, '"{{" opens a parameter: close it with "}}", like {{flag}} (write \\{{ for the characters themselves)');
      const [name, field, more] = raw.slice(i + 2, end).trim().split('.');
      if (!PARAM_NAME.test(name!) || (field !== undefined && !FIELD.test(field)) || more !== undefined) {
        fail(start + i, `"${raw.slice(i, end + 2)}" is not a parameter: write {{name}} or {{name.field}} with a PARAM name (lower-case letters, digits, _)`);
      }
      if (literal) parts.push({ text: literal });
      literal = '';
      parts.push({ param: name!, ...(field !== undefined ? { field } : {}), column: start + i });
      i = end + 2;
      continue;
    }
    literal += raw[i];
    i++;
  }
  if (literal || !parts.length) parts.push({ text: literal });
  return { parts, column: tok.column };
}

/** A string that takes no parameters (a check's name, the secret): its text, `{{` included. */
export function plainText(tok: Token): string {
  return tok.quoted ? tok.text.replace(/\\(["\\])/g, '$1') : tok.text;
}

/** The template's text with each parameter replaced by `value(part)`. */
export function fillTemplate(t: Template, value: (p: Extract<Part, { param: string }>) => string): string {
  return t.parts.map((p) => ('text' in p ? p.text : value(p))).join('');
}

export function hasParams(t: Template): boolean {
  return t.parts.some((p) => 'param' in p);
}
