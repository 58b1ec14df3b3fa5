import { z } from 'zod';
import { QemunetError } from '../errors.js';
import { isErrorCode } from './error-codes.js';
import { linkFaultsSchema } from './faults.js';
import { checkScoreSchema, sessionStateSchema } from './session-state.js';

/**
 * The control protocol of a running session (`<session>/qemunet.ctl`), declared once: every
 * command with its arguments and its result, and what the session pushes. The types are inferred
 * from these schemas and the session checks each request against them before anything acts on it.
 *
 * One JSON object per line each way. A request is `{"v":1,"cmd":NAME,...arguments}`, answered by
 * `{"ok":true,"result":...}` or `{"ok":false,"code":...,"message":...}`.
 *
 * The version is carried by every request, not by a hello exchange: almost every connection carries
 * a single request (`qemunet link`, `restart`, `down`...), so a hello would add a round trip to each
 * and a per-connection state to the server; a version on the line keeps each request checkable on
 * its own. A request of another version (or none) is refused with PROTOCOL_VERSION naming both.
 */
export const PROTOCOL_VERSION = 1;

/** How `check` gives its report. */
export const CHECK_REPORT_FORMATS = ['text', 'tap', 'junit', 'json'] as const;
export type CheckReportFormat = (typeof CHECK_REPORT_FORMATS)[number];

/** Requests are small (the longest field is a capture's file path): a longer line closes the connection. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const host = z.string().min(1).describe('a host name');
const nic = z.number().int().min(0).describe('a NIC index, 0 for eth0');

function command<P extends z.ZodRawShape, R extends z.ZodType>(params: P, result: R, about: string) {
  return { params: z.strictObject(params), result, about };
}

export const COMMANDS = {
  freeze: command({}, z.array(z.string()), 'pauses every running VM for a consistent save; answers the hosts paused'),
  thaw: command({}, z.array(z.string()), 'resumes the VMs `freeze` paused'),
  restart: command({ host }, z.string(), 'starts a stopped or crashed host again, on the same switch ports'),
  link: command({ host, nic, up: z.boolean().describe('true or false') }, z.boolean(), "sets a NIC's link up or down"),
  faults: command(
    { host, nic, faults: linkFaultsSchema.describe(`an object with any of ${Object.keys(linkFaultsSchema.shape).join(', ')}`) },
    z.strictObject({ faults: linkFaultsSchema, wirefilter: z.array(z.string()) }),
    "sets a NIC's faults in its wirefilter, putting one in live if it has none (a given fault replaces its kind, 0 clears it); answers the NIC's faults now and the wirefilter's own summary",
  ),
  capture: command({ host, nic, file: z.string().min(1).describe('a file path') }, z.string(), "writes a NIC's frames to a pcap file while the connection lasts; answers its id"),
  'capture-stop': command({ id: z.string().min(1).describe('a capture id') }, z.string(), 'ends a capture'),
  stop: command({}, z.number().int(), "stops the session; answers the pid of its process, which lets the session's lock go once it has stopped"),
  'power-off': command({ host }, z.string(), 'powers one host off (ACPI, then quit); `restart` starts it again'),
  check: command(
    {
      checks: z.string().max(512 * 1024).optional().describe("a checks file's text (default: the session's own checks file)"),
      file: z.string().min(1).max(4096).optional().describe('the name its errors give (default: the file it came from)'),
      student: z.string().min(1).max(64).optional().describe("whose parameters (default: the lab's user=)"),
      view: z.enum(['student', 'teacher']).optional().describe('student (the default: hidden checks left out) or teacher'),
      format: z.enum(CHECK_REPORT_FORMATS).optional().describe(`one of ${CHECK_REPORT_FORMATS.join(', ')}`),
      also: z.array(z.enum(CHECK_REPORT_FORMATS)).max(CHECK_REPORT_FORMATS.length).optional().describe('more formats of the same run'),
    },
    z.strictObject({ report: z.string(), reports: z.partialRecord(z.enum(CHECK_REPORT_FORMATS), z.string()).optional(), score: checkScoreSchema, passed: z.boolean() }),
    "runs the lab checks in the guests (each retried until it passes or its time is up), records the student's view in the state as results come, and answers the report in the format asked",
  ),
  subscribe: command({}, sessionStateSchema, "answers the session's state, then pushes each change as a notification until the connection closes"),
} as const;

type Commands = typeof COMMANDS;
export type CommandName = keyof Commands;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
/** One request, as the session's handler gets it (the version checked and taken off). */
export type ControlCommand = { [K in CommandName]: { cmd: K } & ArgsOf<K> }[CommandName];
/** A command's arguments (zod infers `Record<string, never>` for none, which no object with `cmd` fits). */
type ArgsOf<K extends CommandName> = z.infer<Commands[K]['params']> extends Record<string, never> ? object : z.infer<Commands[K]['params']>;
export type CommandOf<K extends CommandName> = Extract<ControlCommand, { cmd: K }>;
export type ResultOf<K extends CommandName> = z.infer<Commands[K]['result']>;

/** What the session pushes to a subscribed connection. */
export const notificationSchema = z.discriminatedUnion('event', [z.strictObject({ event: z.literal('state'), state: sessionStateSchema })]);
export type ControlNotification = z.infer<typeof notificationSchema>;

export const replySchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ ok: z.literal(false), code: z.string().min(1), message: z.string() }),
]);
export type Reply = z.infer<typeof replySchema>;

/** A request the session refuses before acting: not JSON, another protocol version, an unknown command or bad arguments. */
export class ProtocolError extends QemunetError {}

/** The line a client sends for `command`. */
export function encodeRequest(command: ControlCommand): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, ...command })}\n`;
}

/** Checks one request line; throws ProtocolError naming what is wrong and what is allowed. */
export function parseRequest(line: string): ControlCommand {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new ProtocolError('CONTROL_NOT_JSON', `the request is not JSON (${(e as Error).message}); send one JSON object per line, like {"v":${PROTOCOL_VERSION},"cmd":"subscribe"}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('CONTROL_NOT_JSON', `the request is ${kindOf(value)}, not a JSON object; send one per line, like {"v":${PROTOCOL_VERSION},"cmd":"subscribe"}`);
  }
  const { v, cmd, ...args } = value as Record<string, unknown>;
  if (v !== PROTOCOL_VERSION) {
    const given = v === undefined ? 'carries no version "v"' : `is for version ${JSON.stringify(v)}`;
    throw new ProtocolError('PROTOCOL_VERSION', `this session speaks control protocol ${PROTOCOL_VERSION} and the request ${given}: use the qemunet that started the session`);
  }
  if (typeof cmd !== 'string' || !Object.hasOwn(COMMANDS, cmd)) {
    const given = cmd === undefined ? 'the request has no "cmd"' : `unknown command ${JSON.stringify(cmd)}`;
    throw new ProtocolError('UNKNOWN_COMMAND', `${given}; commands: ${COMMAND_NAMES.join(', ')}`);
  }
  const spec = COMMANDS[cmd as CommandName];
  const parsed = spec.params.safeParse(args, { reportInput: true });
  if (!parsed.success) throw new ProtocolError('BAD_COMMAND', `bad "${cmd}" request: ${parsed.error.issues.map((i) => describeIssue(i)).join('; ')}; ${signature(cmd as CommandName)}`);
  return { cmd, ...parsed.data } as ControlCommand;
}

/** What a command takes, in words: `link takes host (a host name), nic (...), up (true or false)`. */
export function signature(name: CommandName): string {
  const fields = Object.entries(COMMANDS[name].params.shape as Record<string, z.ZodType>);
  if (!fields.length) return `${name} takes no arguments`;
  return `${name} takes ${fields.map(([key, schema]) => `${key} (${schema.description ?? 'a value'})`).join(', ')}`;
}

/** One schema problem in a person's words, the field first (the web server words its refusals with it too). */
export function describeIssue(issue: z.core.$ZodIssue & { input?: unknown }, whole = 'the request'): string {
  const field = issue.path.length ? issue.path.join('.') : whole;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `${field} is missing`;
      return `${field} must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}`;
    case 'unrecognized_keys':
      return `${issue.path.length ? `${field} has ` : ''}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string' ? `${field} must not be empty` : `${field} must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' ? `${field} must be at most ${issue.maximum} characters` : `${field} must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `${field} must be ${issue.values.map((x) => JSON.stringify(x)).join(' or ')}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

const EXPECTED: Readonly<Record<string, string>> = { string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', object: 'an object', array: 'an array' };

/** A JSON value's kind, and the value itself when it is short: `"0" (a string)`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  const shown = text.length <= 40 ? `${text} ` : '';
  if (typeof value === 'number') return `${shown}(${Number.isInteger(value) ? 'an integer' : 'a number'})`.trim();
  return `${shown}(${typeof value === 'string' ? 'a string' : typeof value === 'boolean' ? 'a boolean' : typeof value})`;
}

/**
 * The session's answer to `cmd`, checked: its shape, then its result against the command's
 * declaration. A refusal becomes the QemunetError the session threw (its code and message).
 */
export function parseReply<K extends CommandName>(line: string, cmd: K): ResultOf<K> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new QemunetError('CONTROL_FAILED', `the session's answer to "${cmd}" is not JSON: ${(e as Error).message}`);
  }
  const reply = replySchema.safeParse(value, { reportInput: true });
  if (!reply.success) throw new QemunetError('CONTROL_FAILED', `the session's answer to "${cmd}" is not a reply of control protocol ${PROTOCOL_VERSION}: ${reply.error.issues.map((i) => describeIssue(i, 'the reply')).join('; ')}`);
  if (!reply.data.ok) {
    // A code this qemunet does not know is the session's failure all the same, its message kept.
    throw new QemunetError(isErrorCode(reply.data.code) ? reply.data.code : 'CONTROL_FAILED', reply.data.message);
  }
  return checkResult(cmd, reply.data.result);
}

/** A command's result against its declaration (the session checks what it sends, the client what it gets). */
export function checkResult<K extends CommandName>(cmd: K, result: unknown): ResultOf<K> {
  const checked = COMMANDS[cmd].result.safeParse(result, { reportInput: true });
  if (!checked.success) throw new QemunetError('CONTROL_FAILED', `the answer to "${cmd}" does not fit control protocol ${PROTOCOL_VERSION}: ${checked.error.issues.map((i) => describeIssue(i, 'the result')).join('; ')}`);
  return checked.data as ResultOf<K>;
}

/** A pushed line, checked; undefined for one that is not a notification of this protocol. */
export function parseNotification(line: string): ControlNotification | undefined {
  try {
    const checked = notificationSchema.safeParse(JSON.parse(line));
    return checked.success ? checked.data : undefined;
  } catch {
    return undefined;
  }
}
