import { scoreOf, type CheckResult, type Score } from './run.js';

/**
 * Who reads a report. The teacher sees every check, hidden ones marked; a student sees only the
 * checks that are not hidden, and a score over those alone, so nothing in it tells that hidden
 * checks exist (not their names, not their number, not their points).
 */
export type View = 'teacher' | 'student';

export interface ReportInfo {
  view: View;
  /** The lab's name (the JUnit suite's name), when known. */
  lab?: string;
  student?: string;
}

/** The results a view shows, and its score. */
export function shownResults(results: readonly CheckResult[], view: View): { results: CheckResult[]; score: Score } {
  const shown = view === 'teacher' ? [...results] : results.filter((r) => !r.check.hidden);
  return { results: shown, score: scoreOf(shown) };
}

export function scoreLine(s: Score): string {
  return `score: ${s.earned}/${s.possible} point${s.possible === 1 ? '' : 's'}, ${s.passed} of ${s.total} check${s.total === 1 ? '' : 's'} passed`;
}

/** A check's name as a report lists it: with its points when not 1, and (hidden) for the teacher. */
export function label(r: CheckResult, view: View): string {
  const points = r.check.points === 1 ? '' : ` (${r.check.points} points)`;
  return `${view === 'teacher' && r.check.hidden ? '[hidden] ' : ''}${r.check.name}${points}`;
}

/** What was seen, on one line: its lines joined by " | ". */
export function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
}

/** One line per check (PASS, FAIL or ERROR, its name, what was seen when it did not pass), then the score. */
export function reportText(all: readonly CheckResult[], info: ReportInfo): string {
  const { results, score } = shownResults(all, info.view);
  const lines = results.map((r) => {
    const word = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR' }[r.status];
    return `${word} ${label(r, info.view)}${r.status === 'pass' ? '' : ` — seen: ${oneLine(r.seen) || '(nothing)'}`}`;
  });
  return `${[...lines, scoreLine(score)].join('\n')}\n`;
}

export const JSON_REPORT_VERSION = 1;

/** The results as data (the web panel's and the class table's source). A student's has no hidden check nor any trace of one. */
export function reportJson(all: readonly CheckResult[], info: ReportInfo): string {
  const { results, score } = shownResults(all, info.view);
  return `${JSON.stringify(
    {
      format: 'qemunet-checks',
      version: JSON_REPORT_VERSION,
      view: info.view,
      ...(info.lab !== undefined ? { lab: info.lab } : {}),
      ...(info.student !== undefined ? { student: info.student } : {}),
      score,
      checks: results.map((r) => ({
        name: r.check.name,
        host: r.check.host,
        kind: r.check.kind,
        ...(info.view === 'teacher' ? { hidden: r.check.hidden } : {}),
        status: r.status,
        points: r.check.points,
        earned: r.earned,
        attempts: r.attempts,
        elapsedMs: r.elapsedMs,
        seen: r.seen,
      })),
    },
    null,
    2,
  )}\n`;
}

/** The wall time of a run: hosts run side by side, each one's checks one after the other. */
export function wallTimeMs(results: readonly CheckResult[]): number {
  const perHost = new Map<string, number>();
  for (const r of results) perHost.set(r.check.host, (perHost.get(r.check.host) ?? 0) + r.elapsedMs);
  return Math.max(0, ...perHost.values());
}
