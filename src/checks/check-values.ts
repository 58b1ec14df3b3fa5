import { parseIpv4 } from './ipv4.js';

/**
 * What a check's address, ADDRESS:PORT and path may be, once parameters are in. Each is put as one
 * argument after a guest command's options, so none may start with '-' (it would read as an option).
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$/;

export function checkAddress(text: string): Checked<string> {
  const ok = /^[\d.]+$/.test(text) ? parseIpv4(text) !== undefined : HOSTNAME.test(text) || IPV6.test(text);
  return ok ? { ok: true, value: text } : { ok: false, problem: `"${text}" is not an address: write an IPv4 or IPv6 address or a host name` };
}

/** `ADDRESS:PORT`, or `[IPV6]:PORT`. */
export function checkTarget(text: string): Checked<{ address: string; port: number }> {
  const m = /^\[([^\]]*)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  const usage = 'write ADDRESS:PORT, like 10.0.0.1:80 or [2001:db8::1]:80';
  if (!m) return { ok: false, problem: `"${text}" is not an address and a port: ${usage}` };
  const address = checkAddress(m[1]!);
  if (!address.ok) return { ok: false, problem: `${address.problem} (${usage})` };
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) return { ok: false, problem: `port ${m[2]} is not between 1 and 65535` };
  return { ok: true, value: { address: address.value, port } };
}

export function checkPath(text: string): Checked<string> {
  if (!text.startsWith('/')) return { ok: false, problem: `"${text}" is not an absolute path: the file's path in the guest starts with /` };
  if (/[\x00-\x1f]/.test(text)) return { ok: false, problem: 'a path cannot hold control characters' };
  return { ok: true, value: text };
}

/** Regexes match a command's output line by line (^ and $ at each line), as grep does. */
export const REGEX_FLAGS = 'm';

/** The regex a pattern compiles to, or why it does not. */
export function compileRegex(source: string): Checked<RegExp> {
  try {
    return { ok: true, value: new RegExp(source, REGEX_FLAGS) };
  } catch (e) {
    // V8 says "Invalid regular expression: /(/m: Unterminated group": keep what is wrong.
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { ok: false, problem: `"${source}" is not a regular expression: ${why}` };
  }
}

/** A parameter's value, matched as its exact text inside a regex. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
