import { scoreOf, type Graded } from './run.js';

/** One student of a class: their results, or why their archive could not be graded. */
export type ClassRow = { student: string; results: readonly Graded[] } | { student: string; problem: string };

/**
 * A CSV cell (RFC 4180: quoted when it holds a comma, quote or line end, quotes doubled). A cell
 * that a spreadsheet would read as a formula (=, +, -, @, tab or CR first) gets a leading
 * apostrophe, since student names come from file names and outputs from students' machines.
 */
export function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The class table of `qemunet check --class`, the teacher's: one row per student, a column per
 * check (the points earned, hidden checks too), then the total, the points possible and a note (why a
 * row has no results, or how many checks could not run). `names` are the checks file's, in order.
 */
export function classTableCsv(names: readonly string[], rows: readonly ClassRow[]): string {
  const lines = [['student', ...names, 'total', 'possible', 'note']];
  for (const row of rows) {
    if ('problem' in row) {
      lines.push([row.student, ...names.map(() => ''), '', '', row.problem]);
      continue;
    }
    const s = scoreOf(row.results);
    const errors = row.results.filter((r) => r.status === 'error').length;
    lines.push([row.student, ...row.results.map((r) => String(r.earned)), String(s.earned), String(s.possible), errors ? `${errors} check${errors === 1 ? '' : 's'} could not run` : '']);
  }
  return lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
