import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { QemunetError } from '../errors.js';
import { classTableCsv, type ClassRow } from '../checks/index.js';
import { up } from '../lab/driver/up.js';
import type { UpSettings } from '../lab/driver/settings.js';
import type { RunningSession } from '../lab/driver/running-session.js';
import type { CheckReportFormat, ResultOf } from '../protocol/session-protocol.js';
import { SessionClient } from './session-client.js';

export interface GradeOptions {
  /** up's settings for a saved session restored into `sessionDir` (the caller's flags: --alias, -c, -v). */
  settingsFor(from: string, sessionDir: string): UpSettings;
  /** How long the lab may take to be ready. */
  readyTimeoutMs: number;
  /** A checks file to use instead of the archive's own. */
  checks?: { text: string; file: string };
  signal?: AbortSignal;
}

/**
 * Grades a saved session offline (`qemunet check --from`): restored into a throwaway session, the
 * checks run once every host is ready (the teacher's view), then it is stopped and removed, whatever
 * happened. Throws what kept it from being graded (not a session archive, a lab that would not start).
 */
export async function gradeSaved(from: string, student: string, formats: readonly CheckReportFormat[], o: GradeOptions): Promise<ResultOf<'check'>> {
  const tmp = await mkdtemp(join(tmpdir(), 'qemunet-grade-'));
  let lab: RunningSession | undefined;
  try {
    lab = await up({ ...o.settingsFor(resolve(from), join(tmp, 'session')), sessionLink: false, ...(o.signal ? { signal: o.signal } : {}) });
    await lab.waitReady(o.readyTimeoutMs, o.signal);
    const [format = 'text', ...also] = formats;
    return await SessionClient.at(lab.dir).check({ view: 'teacher', student, format, ...(also.length ? { also } : {}), ...(o.checks ? { checks: o.checks.text, file: o.checks.file } : {}) });
  } finally {
    await lab?.stop().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The student a saved session is of: its file's name (`alice.tgz` is alice). */
export function studentOf(file: string): string {
  return basename(file).replace(/\.(tgz|tar\.gz)$/, '');
}

interface JsonReport {
  checks: Array<{ name: string; points: number; status: 'pass' | 'fail' | 'error'; earned: number }>;
}

/**
 * Grades a class (`qemunet check --class DIR`): every .tgz in DIR, `jobs` at a time. Writes the class
 * table (CSV, one row per student; a file that is not a gradable session is a row saying why, not a
 * failure), its JSON twin and one JUnit file per student. Answers what it wrote.
 */
export async function gradeClass(dir: string, jobs: number, out: string | undefined, o: GradeOptions): Promise<{ csv: string; json: string; junit: string[]; rows: number; problems: number }> {
  const archives = (await readdir(dir)).filter((n) => n.endsWith('.tgz') || n.endsWith('.tar.gz')).sort();
  if (!archives.length) throw new QemunetError('CHECKS_MISSING', `${dir} holds no session archive (.tgz) to grade`);
  const graded: Array<{ student: string; result?: ResultOf<'check'>; problem?: string }> = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < archives.length; i = next++) {
      const student = studentOf(archives[i]!);
      graded[i] = await gradeSaved(join(dir, archives[i]!), student, ['json', 'junit'], o).then(
        (result) => ({ student, result }),
        (e: Error) => ({ student, problem: e.message }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, archives.length)) }, worker));
  const reports = graded.map((g) => (g.result ? (JSON.parse(g.result.report) as JsonReport) : undefined));
  const names = reports.find((r) => r)?.checks.map((c) => c.name) ?? [];
  const rows: ClassRow[] = graded.map((g, i) =>
    reports[i] ? { student: g.student, results: reports[i].checks.map((c) => ({ earned: c.earned, status: c.status, check: { points: c.points } })) } : { student: g.student, problem: g.problem ?? 'not graded' },
  );
  const csv = out ?? join(dir, 'results.csv');
  const json = csv.replace(/\.csv$/, '') + '.json';
  await writeFile(csv, classTableCsv(names, rows));
  await writeFile(json, `${JSON.stringify(graded.map((g, i) => ({ student: g.student, ...(reports[i] ? { report: reports[i] } : { problem: g.problem }) })), null, 2)}\n`);
  const junit: string[] = [];
  for (const g of graded) {
    const xml = g.result?.reports?.junit;
    if (!xml) continue;
    const file = join(dir, `${g.student}.junit.xml`);
    await writeFile(file, xml);
    junit.push(file);
  }
  return { csv, json, junit, rows: rows.length, problems: rows.filter((r) => 'problem' in r).length };
}
