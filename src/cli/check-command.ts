import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isQemunetError, UsageError } from '../errors.js';
import { gradeClass, gradeSaved, SessionClient, studentOf, type CheckOptions, type GradeOptions } from '../api/index.js';
import { QEMUNET_MAIN } from '../api/background.js';
import { CHECK_REPORT_FORMATS, type CheckReportFormat } from '../protocol/session-protocol.js';
import { upSettings } from './lab-settings.js';
import { parseUpOptions } from './up-options.js';

export const CHECK_USAGE = `usage: qemunet check [--session DIR] [--checks FILE] [--student NAME] [--format ${CHECK_REPORT_FORMATS.join('|')}] [--out FILE] [--teacher]
       qemunet check --from ARCHIVE|DIR [--checks FILE] [--student NAME] [--format F] [--out FILE] [--alias A=B] [-c CFG] [-v]
       qemunet check --class DIR [--jobs N] [--out FILE.csv] [--checks FILE] [--alias A=B] [-c CFG] [-v]
  runs the lab checks in the running session's guests: its own checks file (from the lab archive,
  or up --checks FILE), or FILE. One line per check, then the score; exit 0 when all passed,
  1 when some failed, 2 when the checks could not run. --teacher also lists hidden checks.
  --from grades a saved session: restored in a throwaway session, checked (teacher's view), stopped, removed.
  --class grades every .tgz of DIR (alice.tgz is alice), N at a time (default 2): DIR/results.csv
  (or --out), its JSON twin and one STUDENT.junit.xml each; an archive that cannot be graded is a row saying why.`;

const OPTIONS = {
  session: { type: 'string' }, checks: { type: 'string' }, student: { type: 'string' }, format: { type: 'string' }, out: { type: 'string', short: 'o' },
  teacher: { type: 'boolean' }, from: { type: 'string' }, class: { type: 'string' }, jobs: { type: 'string' }, timeout: { type: 'string' },
  alias: { type: 'string', multiple: true }, config: { type: 'string', short: 'c' }, vlan: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** `qemunet check`: the session runs the checks; this prints (or writes) the report it answers. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"\n${CHECK_USAGE}`);
  const format = values.format ?? 'text';
  if (!isReportFormat(format)) throw new UsageError(`--format ${format} is not one of ${CHECK_REPORT_FORMATS.join(', ')}`);
  if ([values.session, values.from, values.class].filter(Boolean).length > 1) throw new UsageError('give one of --session, --from and --class');
  try {
    const checks = values.checks ? await checksFile(values.checks) : undefined;
    if (values.class) return await gradeClassCommand(values.class, values, checks);
    const result = values.from
      ? await gradeSaved(values.from, values.student ?? studentOf(values.from), [format], gradeOptions(values, checks))
      : await (await SessionClient.find(values.session)).check({ format, ...(values.teacher ? { view: 'teacher' } : {}), ...(values.student ? { student: values.student } : {}), ...(checks ? { checks: checks.text, file: checks.file } : {}) } satisfies CheckOptions);
    if (values.out) await writeFile(values.out, result.report);
    else process.stdout.write(result.report);
    return result.passed ? 0 : 1;
  } catch (e) {
    // Could not run: a checks file it cannot use, no session, a saved session that would not start.
    if (!isQemunetError(e) && (e as NodeJS.ErrnoException).code === undefined) throw e;
    process.stderr.write(`qemunet: ${(e as Error).message}\n`);
    return 2;
  }
}

async function gradeClassCommand(dir: string, values: Values, checks: GradeOptions['checks']): Promise<number> {
  const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs ${values.jobs} is not allowed: give a number of labs at a time from 1 to 64`);
  const r = await gradeClass(resolve(dir), jobs, values.out && resolve(values.out), gradeOptions(values, checks));
  process.stdout.write(`graded ${r.rows - r.problems} of ${r.rows} archives${r.problems ? ` (${r.problems} could not be graded: see the note column)` : ''}\n${r.csv}\n${r.json}\n${r.junit.length} JUnit files beside them\n`);
  return 0;
}

/** up's flags a grading takes (--alias, -c, -v), for each saved session restored. */
function gradeOptions(values: Values, checks: GradeOptions['checks']): GradeOptions {
  const upArgs = [...(values.alias ?? []).flatMap((a) => ['--alias', a]), ...(values.config ? ['-c', values.config] : []), ...(values.vlan ? ['-v'] : [])];
  const timeout = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout needs a number of seconds, got "${values.timeout}"`);
  return {
    settingsFor: (from, sessionDir) => upSettings(parseUpOptions(['--from', from, '--session', sessionDir, '--display', 'none', ...upArgs]), { env: process.env, home: homedir(), qemunetCommand: [process.execPath, QEMUNET_MAIN] }),
    readyTimeoutMs: timeout * 1000,
    ...(checks ? { checks } : {}),
  };
}

async function checksFile(given: string): Promise<{ text: string; file: string }> {
  const file = resolve(given);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the checks file ${file}: ${e.code ?? e.message}`);
  });
  return { text, file };
}

function isReportFormat(f: string): f is CheckReportFormat {
  return (CHECK_REPORT_FORMATS as readonly string[]).includes(f);
}
