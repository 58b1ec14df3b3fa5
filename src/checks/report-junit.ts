import { oneLine, scoreLine, shownResults, wallTimeMs, type ReportInfo } from './report.js';
import type { CheckResult } from './run.js';

/**
 * Characters XML 1.0 cannot hold at all, even escaped (most C0 controls, U+FFFE, U+FFFF, lone
 * surrogates): a command's output may have them, so they become U+FFFD.
 */
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function xmlText(s: string): string {
  return s.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value: its quote escaped, and line ends and tabs as references (a parser would turn them into spaces). */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML as CI servers read it (Ant's format, which Jenkins' and GitLab's readers take): one
 * testsuite, one testcase per check with the host as its classname; a check that failed has a
 * <failure>, one that could not run an <error>, each with what was seen. The student, the score
 * and the points possible are properties of the suite.
 */
export function reportJunit(all: readonly CheckResult[], info: ReportInfo): string {
  const { results, score } = shownResults(all, info.view);
  const failures = results.filter((r) => r.status === 'fail').length;
  const errors = results.filter((r) => r.status === 'error').length;
  const time = seconds(wallTimeMs(results));
  const name = info.lab ?? 'qemunet checks';
  const counts = `tests="${results.length}" failures="${failures}" errors="${errors}"`;
  const props: Array<[string, string]> = [
    ...(info.student !== undefined ? ([['student', info.student]] as Array<[string, string]>) : []),
    ['view', info.view],
    ['points', String(score.earned)],
    ['points.possible', String(score.possible)],
    ['score', scoreLine(score)],
  ];
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(name)}" ${counts} time="${time}">`,
    `  <testsuite name="${xmlAttr(name)}" ${counts} skipped="0" time="${time}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`),
    '    </properties>',
  ];
  for (const r of results) {
    const hidden = info.view === 'teacher' && r.check.hidden ? ' [hidden]' : '';
    const open = `    <testcase classname="${xmlAttr(r.check.host)}" name="${xmlAttr(r.check.name + hidden)}" time="${seconds(r.elapsedMs)}"`;
    if (r.status === 'pass') {
      out.push(`${open}/>`);
      continue;
    }
    const tag = r.status === 'fail' ? 'failure' : 'error';
    out.push(`${open}>`, `      <${tag} message="${xmlAttr(oneLine(r.seen))}" type="${r.check.kind}">${xmlText(r.seen)}</${tag}>`, '    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}
