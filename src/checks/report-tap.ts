import { label, scoreLine, shownResults, type ReportInfo } from './report.js';
import type { CheckResult } from './run.js';

/** A TAP description: `#` would start a directive (SKIP, TODO) and `\` escapes it, so both are escaped. */
function description(text: string): string {
  return text.replace(/[\\#]/g, '\\$&');
}

/** A YAML scalar that any YAML reader takes as this exact string: JSON's double-quoted form is YAML's too. */
const yaml = (s: string | number) => (typeof s === 'number' ? String(s) : JSON.stringify(s));

/**
 * TAP version 13: a plan, one test line per check, and for a check that did not pass a YAML block
 * (host, kind, status, points, attempts, what was seen), then the score as a comment.
 */
export function reportTap(all: readonly CheckResult[], info: ReportInfo): string {
  const { results, score } = shownResults(all, info.view);
  const out = ['TAP version 13', `1..${results.length}`];
  results.forEach((r, i) => {
    out.push(`${r.status === 'pass' ? 'ok' : 'not ok'} ${i + 1} - ${description(label(r, info.view))}`);
    if (r.status === 'pass') return;
    out.push(
      '  ---',
      `  host: ${yaml(r.check.host)}`,
      `  kind: ${yaml(r.check.kind)}`,
      `  status: ${yaml(r.status)}`,
      `  points: ${yaml(r.check.points)}`,
      `  attempts: ${yaml(r.attempts)}`,
      `  seen: ${yaml(r.seen)}`,
      '  ...',
    );
  });
  out.push(`# ${scoreLine(score)}`);
  return `${out.join('\n')}\n`;
}
