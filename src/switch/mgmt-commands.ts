import { QemunetError } from '../errors.js';

/**
 * Which command vde_switch runs for a line of its management console, decided as vde_switch 2.3.2
 * decides it (vde-2 src/vde_switch/consmgmt.c, handle_cmd and handle_io), and which of them a lab's
 * console (the web page's, a student's) may run. Pure.
 *
 * vde_switch does not split a line into words: it skips leading blanks and runs the first command,
 * in its menu's order, whose path is a *prefix* of the line (`load/etc/x` runs `load` with the
 * argument `/etc/x`, `shutdown-please` runs `shutdown`). A line starting with `#` is a comment.
 * And it reads its socket 128 bytes at a time, each read one command: a longer line is two.
 */

/** Bytes vde_switch reads from a management connection at once; each read is handled as one command line. */
export const MGMT_READ_SIZE = 128;
/** The longest command line sent, so that it and its newline fit in one of vde_switch's reads. */
export const MAX_MGMT_COMMAND = MGMT_READ_SIZE - 2;

/**
 * vde_switch 2.3.2's commands in the order `help` lists them, which is the order handle_cmd tries
 * them. Menu headers (`port`, `vlan`, ...) are in the list but run nothing, so they are left out.
 * A unit test compares this list with a real switch's `help`.
 */
export const VDE_SWITCH_COMMANDS: readonly string[] = [
  'ds/showinfo', 'help', 'logout', 'shutdown', 'showinfo', 'load',
  'debug/list', 'debug/add', 'debug/del',
  'plugin/list', 'plugin/add', 'plugin/del',
  'hash/showinfo', 'hash/setsize', 'hash/setgcint', 'hash/setexpire', 'hash/setminper', 'hash/print', 'hash/find',
  'fstp/showinfo', 'fstp/setfstp', 'fstp/setedge', 'fstp/bonus', 'fstp/print',
  'port/showinfo', 'port/setnumports', 'port/sethub', 'port/setvlan', 'port/createauto', 'port/create', 'port/remove',
  'port/allocatable', 'port/setuser', 'port/setgroup', 'port/epclose', 'port/resetcounter', 'port/print', 'port/allprint',
  'vlan/create', 'vlan/remove', 'vlan/addport', 'vlan/delport', 'vlan/print', 'vlan/allprint',
];

export type ResolvedMgmtLine =
  /** Nothing runs: a blank line or a comment. */
  | { kind: 'nothing' }
  /** No command's path starts the line: the switch answers 1038 (ENOSYS). */
  | { kind: 'unknown' }
  /** `command` runs with `args` (what follows its path, leading blanks skipped); `glued`: the path is followed by neither a blank nor the end (`vlan/printx`). */
  | { kind: 'command'; command: string; args: string; glued: boolean };

/** What vde_switch does with one line (without its newline) that fits in one read. */
export function resolveMgmtLine(line: string, commands: readonly string[] = VDE_SWITCH_COMMANDS): ResolvedMgmtLine {
  const text = line.replace(/^[ \t]+/, '');
  if (text === '' || text.startsWith('#')) return { kind: 'nothing' };
  const command = commands.find((path) => text.startsWith(path));
  if (command === undefined) return { kind: 'unknown' };
  const rest = text.slice(command.length);
  return { kind: 'command', command, args: rest.replace(/^[ \t]+/, ''), glued: rest !== '' && !/^[ \t]/.test(rest) };
}

/**
 * What a lab's console may run: read-only commands, and those that change the lab's VLANs and ports
 * (what QemuNet's .cmd files do). vde_switch runs as root and its other commands act on the
 * machine, not the lab: `load` runs a file as a script, `plugin/add` loads a shared object into
 * the switch, `debug/add` streams its internals, `shutdown` ends the switch under the session.
 */
export const LAB_SWITCH_COMMANDS: readonly string[] = [
  'help', 'showinfo', 'ds/showinfo',
  'port/showinfo', 'port/print', 'port/allprint', 'port/create', 'port/setvlan', 'port/resetcounter',
  'vlan/create', 'vlan/remove', 'vlan/addport', 'vlan/delport', 'vlan/print', 'vlan/allprint',
  'hash/showinfo', 'hash/print', 'hash/find',
  'fstp/showinfo', 'fstp/print', 'fstp/setfstp', 'fstp/setedge', 'fstp/bonus',
];
const LAB_ALLOWED = new Set(LAB_SWITCH_COMMANDS);

/**
 * Checks a management command for a lab's console, by the command vde_switch would run for it (not
 * by its first word); returns it trimmed, or throws SWITCH_COMMAND_REFUSED saying why and what is allowed.
 */
export function checkLabSwitchCommand(command: string): string {
  const refuse = (why: string) => new QemunetError('SWITCH_COMMAND_REFUSED', why);
  const c = command.trim();
  if (!c) throw refuse('the management command is empty; try "help" or "vlan/print"');
  if (c.length > MAX_MGMT_COMMAND) throw refuse(`the management command is over ${MAX_MGMT_COMMAND} characters (vde_switch reads ${MGMT_READ_SIZE} bytes at a time and would run the rest as a command of its own)`);
  if (/[^\x20-\x7e]/.test(c)) throw refuse('the management command is one line of printable ASCII');
  const word = JSON.stringify(c.split(' ')[0]);
  const allowed = `a lab's console may send ${LAB_SWITCH_COMMANDS.join(', ')}`;
  const resolved = resolveMgmtLine(c);
  if (resolved.kind === 'nothing') throw refuse('the management command is a comment; try "help" or "vlan/print"');
  if (resolved.kind === 'unknown') throw refuse(`${word} is not a vde_switch command; ${allowed}`);
  if (!LAB_ALLOWED.has(resolved.command)) throw refuse(`${word} runs vde_switch's "${resolved.command}", which acts on the machine, not the lab; ${allowed} (qemunet switch on the machine itself sends any)`);
  if (resolved.glued) throw refuse(`${word} is not a command: write "${resolved.command}" and a space before its arguments`);
  return c;
}
