/**
 * How qemunet names things: hosts, switches and hubs (a topology's names, also used in file names of
 * the session), and a NIC as `HOST:ethN`. Declared once, for the topology parser, the session's
 * commands, the CLI and the web server; free of any library, so the web page may use it too.
 */

export const MAX_NAME_LENGTH = 32;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** `HOST:ethN`; the host part is checked as a name on its own, so its error can say what is wrong with it. */
const NIC_REF = /^(.+):eth(\d{1,3})$/;

/** What is wrong with `text` as `what` (like "a host name"), or undefined for a good name. */
export function nameProblem(text: string, what: string): string | undefined {
  if (text.length > MAX_NAME_LENGTH) return `"${text}" is too long for ${what} (at most ${MAX_NAME_LENGTH} characters)`;
  if (!NAME.test(text) || text.includes('..')) return `"${text}" is not valid as ${what}: use letters, digits, '.', '_' and '-', starting with a letter or digit`;
  return undefined;
}

export function isName(text: string): boolean {
  return nameProblem(text, '') === undefined;
}

/** `HOST:ethN` split in two, the host not checked yet; undefined when it is not of that shape. */
export function splitNicRef(text: string): { host: string; nic: number } | undefined {
  const m = NIC_REF.exec(text);
  return m ? { host: m[1]!, nic: Number(m[2]) } : undefined;
}

/** `HOST:ethN` with a valid host name, or undefined. */
export function nicRefOf(text: string): { host: string; nic: number } | undefined {
  const ref = splitNicRef(text);
  return ref && isName(ref.host) ? ref : undefined;
}
