/**
 * A lab's checks (issue 20): what a teacher says a working lab must do, read from a `checks` file as
 * data. A file is first read into raw checks (exactly what it says, with `{{name}}` templates left
 * in), then resolved once for one student (their parameters substituted, regexes compiled) into
 * concrete checks that the runner turns into guest commands.
 */

/** A piece of a string as written: literal text, or a `{{name}}` / `{{name.field}}` at its column. */
export type Part = { text: string } | { param: string; field?: string; column: number };

/** A string of the checks file that may hold parameters; `column` is where it starts. */
export interface Template {
  parts: readonly Part[];
  column: number;
}

export type Match = '~' | '!~';

export const CHECK_KINDS = ['ping', 'noping', 'tcp', 'notcp', 'exec', 'file'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** What every check has, whatever it tests. */
export interface CheckCommon {
  name: string;
  host: string;
  /** Where the host name stands, for "no such host in the topology". */
  hostColumn: number;
  /** Points it is worth when it passes (`N points`, default 1). */
  points: number;
  /** How long it may retry before it counts as failed (`within 30s`, default 10 s). */
  withinMs: number;
  /** Counted in the teacher's grade, never named to the student. */
  hidden: boolean;
  line: number;
}

/** The kinds and their arguments, with `T` a template (raw) or a string (resolved). */
export type KindArgs<T, R> =
  | { kind: 'ping' | 'noping'; address: T }
  | { kind: 'tcp' | 'notcp'; target: T }
  | { kind: 'exec'; command: T; match: Match; regex: R }
  | { kind: 'file'; path: T; match: Match; regex: R };

export type RawCheck = CheckCommon & KindArgs<Template, Template>;

/** A regex as the runner uses it: its source after substitution, compiled. */
export interface Pattern {
  source: string;
  regex: RegExp;
}

/** A check for one student: no template left, addresses and ports checked, regexes compiled. */
export type Check = CheckCommon &
  (
    | { kind: 'ping' | 'noping'; address: string }
    | { kind: 'tcp' | 'notcp'; address: string; port: number }
    | { kind: 'exec'; command: string; match: Match; regex: Pattern }
    | { kind: 'file'; path: string; match: Match; regex: Pattern }
  );

export const PARAM_GENERATORS = ['token', 'int', 'choice', 'subnet'] as const;

/** How a parameter's value is drawn from the lab secret and the student. */
export type Generator =
  | { kind: 'token'; length: number }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'choice'; options: readonly string[] }
  /** `base` is the IPv4 network as an unsigned 32-bit number. */
  | { kind: 'subnet'; base: number; baseLength: number; length: number };

export interface ParamDef {
  name: string;
  generator: Generator;
  line: number;
  column: number;
}

/** One student's value of a parameter. */
export type ParamValue = { kind: 'text'; value: string } | { kind: 'subnet'; network: number; length: number };

export type ParamValues = ReadonlyMap<string, ParamValue>;

/** A checks file as written. */
export interface ChecksFile {
  file: string;
  /** The lab secret (`SECRET "..."`) per-student parameters are derived from. */
  secret?: { value: string; line: number; column: number };
  params: readonly ParamDef[];
  checks: readonly RawCheck[];
}
