import { z } from 'zod';
import { QemunetError } from '../../errors.js';
import { parseNicRef } from '../../api/index.js';
import { describeIssue } from '../../protocol/session-protocol.js';
import { CAPTURE_MAX_SECONDS, ROUTES, type PostRoute, type Requests } from '../actions-protocol.js';
import { FAULT_FIELDS, type FaultField } from '../protocol.js';
import { labFileProblem } from './actions-requests.js';

/**
 * The runtime checks of the web API's request bodies, one schema per POST route of
 * actions-protocol.ts (held to its types below, so the page and the server cannot drift apart).
 * Server-only: the page imports nothing of this module, so its bundle carries no schema library.
 * The shape is checked here, once; whether the session has the host, NIC or switch a request names
 * is the session's own check (SessionClient refuses it with UNKNOWN_HOST, UNKNOWN_NIC or
 * UNKNOWN_SWITCH), and so are values only the session can judge (fault values, switch commands).
 */

/** Names are short; the bound keeps a refusal's message short too. */
const name = (what: string) => z.string().min(1).max(64, { abort: true }).describe(what);

/** `host:ethN`, judged by the one NIC reference parser (the CLI's `qemunet link` and `capture` use it too). */
const nic = z
  .string()
  .max(128, { abort: true })
  .superRefine((ref, ctx) => {
    try {
      if (Number.isSafeInteger(parseNicRef(ref).nic)) return;
    } catch {
      // Worded below, without parseNicRef's advice for the command line.
    }
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(ref)} is not a NIC: write HOST:ethN, like a:eth0` });
  })
  .describe('a NIC, HOST:ethN');

const faultValue = z.string().max(64).describe('a fault value, as qemunet link takes it');
const faults = z.partialRecord(z.enum(FAULT_FIELDS as readonly [FaultField, ...FaultField[]]), faultValue);

const shellCommand = z
  .string()
  .max(4096)
  .refine((c) => c.trim() !== '', 'must not be blank')
  .refine((c) => !c.includes('\0'), 'must hold no NUL byte');

const labFile = z
  .string()
  .min(1)
  .max(255, { abort: true })
  .superRefine((file, ctx) => {
    const problem = labFileProblem(file);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const empty = z.strictObject({});

export const REQUEST_SCHEMAS = {
  // A layout's own reader (session/layout.ts, behind WebSession.saveLayout) checks it, once.
  saveLayout: z.unknown(),
  link: z.strictObject({ nic, up: z.boolean() }),
  faults: z.strictObject({ nic, faults }),
  capture: z.strictObject({ nic, seconds: z.number().positive().max(CAPTURE_MAX_SECONDS) }),
  captureLive: z.strictObject({ nic }),
  captureCommand: z.strictObject({ nic }),
  power: z.strictObject({ host: name('a host name'), power: z.enum(['off', 'on', 'restart']) }),
  exec: z.strictObject({ host: name('a host name'), command: shellCommand }),
  // What the command may do is the session API's check (SessionClient.labSwitchCommand).
  switchCommand: z.strictObject({ switch: name('a switch name'), command: z.string().max(4096) }),
  vlans: z.strictObject({ switch: name('a switch name') }),
  save: empty,
  stop: empty,
  checks: empty,
  labStart: z.strictObject({ file: labFile }),
} satisfies { [K in PostRoute]: z.ZodType<Requests[K]> };

// And the other way: every request the page's types allow is one the schema takes.
type Takes<K extends PostRoute> = Requests[K] extends z.input<(typeof REQUEST_SCHEMAS)[K]> ? true : false;
const TAKES: { [K in PostRoute]: Takes<K> } = { saveLayout: true, link: true, faults: true, capture: true, captureLive: true, captureCommand: true, power: true, exec: true, switchCommand: true, vlans: true, save: true, stop: true, checks: true, labStart: true };
void TAKES;

/** A route's body, checked; a BAD_REQUEST naming each bad field, what it may be, and a body that works. */
export function parseRequest<K extends PostRoute>(route: K, body: unknown): Requests[K] {
  const schema: z.ZodType = REQUEST_SCHEMAS[route];
  const checked = schema.safeParse(body, { reportInput: true });
  if (checked.success) return checked.data as Requests[K];
  const problems = checked.error.issues.map((i) => {
    const said = describeIssue(i, 'the body');
    const allowed = i.code === 'unrecognized_keys' ? keysAt(schema, i.path) : undefined;
    return allowed ? `${said} (allowed: ${allowed.join(', ') || 'none'})` : said;
  });
  throw new QemunetError('BAD_REQUEST', `bad ${route} request: ${problems.join('; ')}; send a body like ${ROUTES[route].example}`);
}

/** The fields an object of `schema` takes at `path`, for a refusal of unknown ones. */
function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let at: unknown = schema;
  for (const key of path) at = at instanceof z.ZodObject ? (at.shape as Record<PropertyKey, unknown>)[key] : undefined;
  if (at instanceof z.ZodObject) return Object.keys(at.shape);
  if (at instanceof z.ZodRecord && at.keyType instanceof z.ZodEnum) return at.keyType.options.map(String);
  return undefined;
}

/**
 * The fault dialog's fields as `qemunet link` settings: delay and jitter make one setting, empty
 * fields are left alone. What a value may be is the session API's check (SessionClient.setFaults
 * refuses a bad one with LINK_SETTING, naming it).
 */
export function faultSettings(fields: Partial<Record<FaultField, string>>): Array<[string, string]> {
  const get = (k: FaultField) => fields[k]?.trim() || undefined;
  const delay = get('delay');
  const jitter = get('jitter');
  if (jitter && !delay) throw new QemunetError('LINK_SETTING', 'jitter needs a delay');
  const out: Array<[string, string]> = delay ? [['delay', jitter ? `${delay}+${jitter}` : delay]] : [];
  for (const k of FAULT_FIELDS) {
    const v = k === 'delay' || k === 'jitter' ? undefined : get(k);
    if (v) out.push([k, v]);
  }
  if (!out.length) throw new QemunetError('LINK_SETTING', `no fault given: fill in at least one of ${FAULT_FIELDS.join(', ')}`);
  return out;
}
