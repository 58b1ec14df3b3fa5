import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isQemunetError, UsageError } from '../errors.js';
import { SessionClient, type CheckOptions } from '../api/index.js';
import { CHECK_REPORT_FORMATS, type CheckReportFormat } from '../protocol/session-protocol.js';

export const CHECK_USAGE = `usage: qemunet check [--session DIR] [--checks FILE] [--student NAME] [--format ${CHECK_REPORT_FORMATS.join('|')}] [--out FILE] [--teacher]
  runs the lab checks in the running session's guests: its own checks file (from the lab archive,
  or up --checks FILE), or FILE. One line per check, then the score; exit 0 when all passed,
  1 when some failed, 2 when the checks could not run. --teacher also lists hidden checks.`;

/** `qemunet check`: the session runs the checks; this prints (or writes) the report it answers. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { session: { type: 'string' }, checks: { type: 'string' }, student: { type: 'string' }, format: { type: 'string' }, out: { type: 'string', short: 'o' }, teacher: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"\n${CHECK_USAGE}`);
  const format = values.format ?? 'text';
  if (!isReportFormat(format)) throw new UsageError(`--format ${format} is not one of ${CHECK_REPORT_FORMATS.join(', ')}`);
  try {
    const session = await SessionClient.find(values.session);
    const options: CheckOptions = { format, ...(values.teacher ? { view: 'teacher' } : {}), ...(values.student ? { student: values.student } : {}) };
    if (values.checks) {
      const file = resolve(values.checks);
      options.checks = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read the checks file ${file}: ${e.code ?? e.message}`);
      });
      options.file = file;
    }
    const result = await session.check(options);
    if (values.out) await writeFile(values.out, result.report);
    else process.stdout.write(result.report);
    return result.passed ? 0 : 1;
  } catch (e) {
    // Could not run: a checks file it cannot use, no session, a file it cannot read.
    if (!isQemunetError(e) && (e as NodeJS.ErrnoException).code === undefined) throw e;
    process.stderr.write(`qemunet: ${(e as Error).message}\n`);
    return 2;
  }
}

function isReportFormat(f: string): f is CheckReportFormat {
  return (CHECK_REPORT_FORMATS as readonly string[]).includes(f);
}
