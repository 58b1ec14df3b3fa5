import { InputError } from '../errors.js';
import { checkAddress, checkPath, checkTarget, compileRegex, escapeRegex, type Checked } from './check-values.js';
import { fillTemplate } from './lex.js';
import { deriveParams, fieldValue } from './params.js';
import type { Check, ChecksFile, ParamValues, RawCheck, Template } from './types.js';

export interface ResolveOptions {
  /** Whose lab this is: their `user=` value, or `--student NAME`. Needed when the lab has parameters. */
  student?: string;
  /** The lab secret when it is kept out of the checks file; else the file's `SECRET` line. */
  secret?: string;
}

export interface ResolvedChecks {
  checks: readonly Check[];
  /** The student's parameter values (empty for a lab without parameters), for the hosts' params file. */
  values: ParamValues;
}

/**
 * A checks file for one student: their parameters derived, substituted into every address,
 * command and regex (into a regex as literal text), each result checked again, since a value can
 * make an address or a path that was fine as a template wrong (an error at the template's column).
 */
export function resolveChecks(file: ChecksFile, o: ResolveOptions = {}): ResolvedChecks {
  const secret = o.secret ?? file.secret?.value;
  const first = file.params[0];
  if (first && secret === undefined) {
    throw new InputError('CHECKS_NO_SECRET', file.file, first.line, first.column, 'a PARAM needs the lab secret its values are derived from: add a line SECRET "..." (at least 16 characters) to this file; a lab without a secret has no parameters');
  }
  const values = deriveParams(file.params, secret ?? '', o.student ?? '');
  return { checks: file.checks.map((c) => resolveCheck(c, values, file.file)), values };
}

function resolveCheck(c: RawCheck, values: ParamValues, file: string): Check {
  const fail = (column: number, msg: string): never => {
    throw new InputError('CHECKS_INVALID', file, c.line, column, msg);
  };
  const fill = (t: Template, escape: (s: string) => string = (s) => s): string =>
    fillTemplate(t, (p) => {
      const r = fieldValue(values.get(p.param)!, p.field);
      return r.ok ? escape(r.text) : fail(p.column, `{{${p.param}.${p.field}}}: ${r.problem}`);
    });
  const checked = <T>(t: Template, check: (s: string) => Checked<T>): T => {
    const text = fill(t);
    const r = check(text);
    return r.ok ? r.value : fail(t.column, `with this student's parameters, ${r.problem}`);
  };
  const pattern = (t: Template) => {
    const source = fill(t, escapeRegex);
    const r = compileRegex(source);
    return r.ok ? { source, regex: r.value } : fail(t.column, r.problem);
  };
  switch (c.kind) {
    case 'ping':
    case 'noping':
      return { ...c, address: checked(c.address, checkAddress) };
    case 'tcp':
    case 'notcp': {
      const { target, ...rest } = c;
      return { ...rest, ...checked(target, checkTarget) };
    }
    case 'exec':
      return { ...c, command: fill(c.command), regex: pattern(c.regex) };
    case 'file':
      return { ...c, path: checked(c.path, checkPath), regex: pattern(c.regex) };
  }
}
