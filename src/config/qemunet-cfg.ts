import { InputError } from '../errors.js';

/** One system as qemunet.cfg declares it (QemuNet's SYS/FS/KERNEL/INITRD/URL/QEMUOPT arrays). */
export interface SystemDecl {
  name: string;
  sys?: string;
  fs?: string;
  kernel?: string;
  initrd?: string;
  url?: string;
  qemuopt?: string;
  /** file:line of the first line that named it, for messages. */
  declaredAt: string;
}

export interface ParsedConfig {
  file: string;
  imgdir?: string;
  systems: Map<string, SystemDecl>;
}

const ARRAYS = { SYS: 'sys', FS: 'fs', KERNEL: 'kernel', INITRD: 'initrd', URL: 'url', QEMUOPT: 'qemuopt' } as const;
const ALLOWED = 'IMGDIR=..., SYS[name]=..., FS[name]=..., KERNEL[name]=..., INITRD[name]=..., URL[name]=..., QEMUOPT[name]=..., declare -A NAME, comments';

export interface ConfigContext {
  /** Directory of QemuNet itself ($QEMUNETDIR); defaults to the config file's directory. */
  qemunetDir: string;
  /** Directory of the config file, for relative paths given to $(realpath ...). */
  configDir: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads qemunet.cfg as data. It is a bash file in QemuNet, but here nothing is ever evaluated: only
 * assignments of the forms QemuNet's own files use are understood, and anything else is an error
 * naming its line.
 */
export function parseQemunetCfg(text: string, file: string, ctx: ConfigContext): ParsedConfig {
  // A Map, not an object: names like constructor or __proto__ must not reach Object.prototype.
  const vars = new Map<string, string>([
    ['QEMUNETDIR', ctx.qemunetDir],
    ['HOME', ctx.env?.HOME ?? ''],
  ]);
  const systems = new Map<string, SystemDecl>();
  let imgdir: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (/^declare\s+-A\s+\w+(\s+\w+)*$/.test(line)) return;
    const m = /^([A-Za-z_]\w*)(?:\[([^\]]*)\])?=(.*)$/.exec(line);
    if (!m) throw new InputError('CONFIG_SYNTAX', file, lineNo, 1, `cannot read "${line}"; allowed: ${ALLOWED}`);
    const [, name, key, rest] = m as unknown as [string, string, string | undefined, string];
    const value = readValue(rest, file, lineNo, raw.indexOf('=') + 2, vars, ctx);
    if (key === undefined) {
      if (name === 'IMGDIR') imgdir = value;
      vars.set(name, value);
      return;
    }
    const field = ARRAYS[name as keyof typeof ARRAYS];
    if (!field) throw new InputError('CONFIG_SYNTAX', file, lineNo, 1, `unknown array ${name}; allowed: ${Object.keys(ARRAYS).join(', ')}`);
    const sysName = key.replace(/^["']|["']$/g, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(sysName)) {
      throw new InputError('CONFIG_NAME', file, lineNo, name.length + 2, `bad system name "${key}": use letters, digits, '.', '_', '+', '-'`);
    }
    const decl = systems.get(sysName) ?? { name: sysName, declaredAt: `${file}:${lineNo}` };
    decl[field] = value;
    systems.set(sysName, decl);
  });
  return { file, ...(imgdir !== undefined ? { imgdir } : {}), systems };
}

/** A shell word: "double" (with $VAR, ${VAR}, $(realpath X)), 'single', or bare; then an optional comment. */
function readValue(text: string, file: string, line: number, column: number, vars: ReadonlyMap<string, string>, ctx: ConfigContext): string {
  let out = '';
  let i = 0;
  const fail = (msg: string): never => {
    throw new InputError('CONFIG_SYNTAX', file, line, column + i, msg);
  };
  while (i < text.length && !/\s/.test(text[i]!)) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) fail('unterminated single quote');
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          out += text[i + 1];
          i += 2;
        } else if (text[i] === '$') {
          const [value, next] = expand(text, i);
          out += value;
          i = next;
        } else out += text[i++];
      }
      if (text[i] !== '"') fail('unterminated double quote');
      i++;
    } else if (c === '$') {
      const [value, next] = expand(text, i);
      out += value;
      i = next;
    } else if (/[;&|<>`(){}]/.test(c)) {
      fail(`"${c}" is shell syntax that qemunet does not run; write a plain value`);
    } else out += text[i++];
  }
  const tail = text.slice(i).trim();
  if (tail && !tail.startsWith('#')) fail(`unexpected "${tail}" after the value (quote values that contain spaces)`);
  return out;

  function expand(s: string, at: number): [string, number] {
    const realpath = /^\$\(realpath\s+("([^"]*)"|'([^']*)'|(\S+?))\s*\)/.exec(s.slice(at));
    if (realpath) {
      const arg = realpath[2] ?? realpath[3] ?? realpath[4]!;
      const expanded = arg.replace(/\$\{?(\w+)\}?/g, (_, v: string) => lookup(v));
      return [normalize(expanded.startsWith('/') ? expanded : `${ctx.configDir}/${expanded}`), at + realpath[0].length];
    }
    const braced = /^\$\{(\w+)\}/.exec(s.slice(at));
    if (braced) return [lookup(braced[1]!), at + braced[0].length];
    const plain = /^\$(\w+)/.exec(s.slice(at));
    if (plain) return [lookup(plain[1]!), at + plain[0].length];
    i = at;
    return fail('only $VAR, ${VAR} and $(realpath PATH) are understood here');
  }

  function lookup(v: string): string {
    const value = vars.get(v);
    if (value !== undefined) return value;
    throw new InputError('CONFIG_VARIABLE', file, line, column, `unknown variable $${v}; known: ${[...vars.keys()].join(', ')}`);
  }
}

/** Like realpath without touching the disk: resolves "." and ".." and doubled slashes. */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}
