import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Parser, type FinalResults } from 'tap-parser';
import { classTableCsv, csvCell, parseChecks, reportJson, reportJunit, reportTap, reportText, resolveChecks, type CheckResult } from '../../src/checks/index.js';

const NASTY = String.raw`a <b> & "c" # d \ e`;
const checks = resolveChecks(
  parseChecks(
    `CHECK "opeth reaches the router" ping opeth 147.210.15.2
CHECK "grave is cut off from the DMZ" noping grave 172.16.0.2
CHECK "web server is up" tcp syl 147.210.15.2:80
CHECK "the teacher's own" 2 points hidden exec immortal "ip route" ~ "default"
CHECK "${NASTY.replace(/[\\"]/g, '\\$&')}" exec syl "printf x" ~ "y"
`,
    'checks',
  ),
).checks;

const result = (index: number, status: CheckResult['status'], elapsedMs: number, seen: string, attempts = 1): CheckResult => ({
  index,
  check: checks[index]!,
  status,
  earned: status === 'pass' ? checks[index]!.points : 0,
  attempts,
  elapsedMs,
  seen,
});

const RESULTS: CheckResult[] = [
  result(0, 'pass', 120, '1 packets transmitted, 1 received, 0% packet loss'),
  result(1, 'fail', 10_100, '64 bytes from 172.16.0.2: icmp_seq=1 ttl=63\n3 packets transmitted, 3 received, 0% packet loss', 17),
  result(2, 'error', 100, 'host syl is not running'),
  result(3, 'pass', 300, 'default via 147.210.12.2 dev eth0'),
  result(4, 'fail', 10_050, 'bell\x07 <tag> ]]> & "q"\n\tend (exit 1)', 16),
];

function parseTap(text: string): { asserts: Array<{ ok: boolean; id: number; name: string; diag: unknown }>; comments: string[]; final: FinalResults; errors: unknown[] } {
  const asserts: Array<{ ok: boolean; id: number; name: string; diag: unknown }> = [];
  const comments: string[] = [];
  let final: FinalResults | undefined;
  const p = new Parser((r) => (final = r));
  p.on('assert', (a: { ok: boolean; id: number; name: string; diag: unknown }) => asserts.push({ ok: a.ok, id: a.id, name: a.name, diag: a.diag }));
  p.on('comment', (c: string) => comments.push(c));
  p.end(text);
  return { asserts, comments, final: final!, errors: final!.failures.filter((f) => f.tapError) };
}

describe('checks: reports', () => {
  it('text: one line per check with what was seen when it did not pass, then the score; hidden checks marked for the teacher', () => {
    assert.equal(
      reportText(RESULTS, { view: 'teacher' }),
      `PASS  opeth reaches the router
FAIL  grave is cut off from the DMZ — seen: 64 bytes from 172.16.0.2: icmp_seq=1 ttl=63 | 3 packets transmitted, 3 received, 0% packet loss
ERROR web server is up — seen: host syl is not running
PASS  [hidden] the teacher's own (2 points)
FAIL  ${NASTY} — seen: bell\x07 <tag> ]]> & "q" | end (exit 1)
score: 3/6 points, 2 of 5 checks passed
`,
    );
  });

  it("a student's view leaves hidden checks out entirely: their names, their number and their points", () => {
    const student = { view: 'student' as const, student: 'alice' };
    assert.equal(
      reportText(RESULTS, student),
      `PASS  opeth reaches the router
FAIL  grave is cut off from the DMZ — seen: 64 bytes from 172.16.0.2: icmp_seq=1 ttl=63 | 3 packets transmitted, 3 received, 0% packet loss
ERROR web server is up — seen: host syl is not running
FAIL  ${NASTY} — seen: bell\x07 <tag> ]]> & "q" | end (exit 1)
score: 1/4 points, 1 of 4 checks passed
`,
    );
    for (const report of [reportText, reportTap, reportJunit, reportJson]) {
      const text = report(RESULTS, student);
      assert.ok(!text.includes("teacher's own") && !text.includes('teacher&apos;s own') && !text.includes('immortal') && !text.includes('hidden') && !text.includes('default via'), report.name);
    }
  });

  it('TAP version 13, read back by tap-parser: every check, its name (with # escaped) and a YAML block of what was seen', () => {
    const tap = reportTap(RESULTS, { view: 'teacher' });
    assert.equal(
      tap,
      `TAP version 13
1..5
ok 1 - opeth reaches the router
not ok 2 - grave is cut off from the DMZ
  ---
  host: "grave"
  kind: "noping"
  status: "fail"
  points: 1
  attempts: 17
  seen: "64 bytes from 172.16.0.2: icmp_seq=1 ttl=63\\n3 packets transmitted, 3 received, 0% packet loss"
  ...
not ok 3 - web server is up
  ---
  host: "syl"
  kind: "tcp"
  status: "error"
  points: 1
  attempts: 1
  seen: "host syl is not running"
  ...
ok 4 - [hidden] the teacher's own (2 points)
not ok 5 - a <b> & "c" \\# d \\\\ e
  ---
  host: "syl"
  kind: "exec"
  status: "fail"
  points: 1
  attempts: 16
  seen: "bell\\u0007 <tag> ]]> & \\"q\\"\\n\\tend (exit 1)"
  ...
# score: 3/6 points, 2 of 5 checks passed
`,
    );
    const parsed = parseTap(tap);
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(
      parsed.asserts.map((a) => [a.id, a.ok, a.name]),
      [[1, true, 'opeth reaches the router'], [2, false, 'grave is cut off from the DMZ'], [3, false, 'web server is up'], [4, true, "[hidden] the teacher's own (2 points)"], [5, false, NASTY]],
    );
    assert.deepEqual(parsed.asserts[4]!.diag, { host: 'syl', kind: 'exec', status: 'fail', points: 1, attempts: 16, seen: 'bell\x07 <tag> ]]> & "q"\n\tend (exit 1)' });
    assert.deepEqual([parsed.final.ok, parsed.final.count, parsed.final.pass, parsed.final.fail, parsed.final.plan.end], [false, 5, 2, 3, 5]);
    assert.deepEqual(parsed.comments, ['# score: 3/6 points, 2 of 5 checks passed\n']);
    const allPass = parseTap(reportTap([RESULTS[0]!], { view: 'student' }));
    assert.deepEqual([allPass.final.ok, allPass.final.count], [true, 1]);
  });

  it('JUnit XML, well-formed and read back: a testcase per check, failure and error with what was seen, escaped', () => {
    const xml = reportJunit(RESULTS, { view: 'teacher', lab: 'gw', student: 'alice' });
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="gw" tests="5" failures="2" errors="1" time="10.150">
  <testsuite name="gw" tests="5" failures="2" errors="1" skipped="0" time="10.150">
    <properties>
      <property name="student" value="alice"/>
      <property name="view" value="teacher"/>
      <property name="points" value="3"/>
      <property name="points.possible" value="6"/>
      <property name="score" value="score: 3/6 points, 2 of 5 checks passed"/>
    </properties>
    <testcase classname="opeth" name="opeth reaches the router" time="0.120"/>
    <testcase classname="grave" name="grave is cut off from the DMZ" time="10.100">
      <failure message="64 bytes from 172.16.0.2: icmp_seq=1 ttl=63 | 3 packets transmitted, 3 received, 0% packet loss" type="noping">64 bytes from 172.16.0.2: icmp_seq=1 ttl=63
3 packets transmitted, 3 received, 0% packet loss</failure>
    </testcase>
    <testcase classname="syl" name="web server is up" time="0.100">
      <error message="host syl is not running" type="tcp">host syl is not running</error>
    </testcase>
    <testcase classname="immortal" name="the teacher's own [hidden]" time="0.300"/>
    <testcase classname="syl" name="a &lt;b&gt; &amp; &quot;c&quot; # d \\ e" time="10.050">
      <failure message="bell\ufffd &lt;tag&gt; ]]&gt; &amp; &quot;q&quot; | end (exit 1)" type="exec">bell\ufffd &lt;tag&gt; ]]&gt; &amp; "q"
\tend (exit 1)</failure>
    </testcase>
  </testsuite>
</testsuites>
`,
    );
    assert.equal(XMLValidator.validate(xml), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', textNodeName: 'text', isArray: (name) => name === 'testcase' || name === 'property' }).parse(xml) as {
      testsuites: { testsuite: { tests: string; failures: string; errors: string; testcase: Array<{ name: string; classname: string; failure?: { message: string; type: string; text: string }; error?: { text: string } }> } };
    };
    const suite = doc.testsuites.testsuite;
    assert.deepEqual([suite.tests, suite.failures, suite.errors], ['5', '2', '1']);
    assert.deepEqual(suite.testcase.map((t) => t.name), ['opeth reaches the router', 'grave is cut off from the DMZ', 'web server is up', "the teacher's own [hidden]", NASTY]);
    assert.deepEqual(suite.testcase[4]!.failure, { message: 'bell\ufffd <tag> ]]> & "q" | end (exit 1)', type: 'exec', text: 'bell\ufffd <tag> ]]> & "q"\n\tend (exit 1)' });
    assert.equal(suite.testcase[2]!.error!.text, 'host syl is not running');
  });

  it('a JUnit attribute keeps line ends and tabs as references, so a reader does not turn them into spaces', () => {
    const [r] = [{ ...RESULTS[1]!, seen: 'a\tb\nc' }];
    const xml = reportJunit([r!], { view: 'student' });
    assert.match(xml, /<failure message="a&#9;b \| c" type="noping">a\tb\nc<\/failure>/);
    assert.match(xml, /<testsuites name="qemunet checks" tests="1" failures="1" errors="0" time="10\.100">/);
  });

  it('JSON: the results as data, with the score; hidden marked only in the teacher\'s', () => {
    const teacher = JSON.parse(reportJson(RESULTS, { view: 'teacher', lab: 'gw', student: 'alice' })) as { checks: unknown[] };
    assert.deepEqual({ ...teacher, checks: teacher.checks.slice(2, 4) }, {
      format: 'qemunet-checks',
      version: 1,
      view: 'teacher',
      lab: 'gw',
      student: 'alice',
      score: { earned: 3, possible: 6, passed: 2, total: 5 },
      checks: [
        { name: 'web server is up', host: 'syl', kind: 'tcp', hidden: false, status: 'error', points: 1, earned: 0, attempts: 1, elapsedMs: 100, seen: 'host syl is not running' },
        { name: "the teacher's own", host: 'immortal', kind: 'exec', hidden: true, status: 'pass', points: 2, earned: 2, attempts: 1, elapsedMs: 300, seen: 'default via 147.210.12.2 dev eth0' },
      ],
    });
    const student = JSON.parse(reportJson(RESULTS, { view: 'student' })) as { score: unknown; checks: Array<Record<string, unknown>> };
    assert.deepEqual(student.score, { earned: 1, possible: 4, passed: 1, total: 4 });
    assert.deepEqual(student.checks.map((c) => [c.name, 'hidden' in c]), [['opeth reaches the router', false], ['grave is cut off from the DMZ', false], ['web server is up', false], [NASTY, false]]);
  });
});

describe('checks: the class table', () => {
  it('is CSV with a row per student, a column per check (hidden ones too), the total and a note; cells escaped, no formula', () => {
    const names = checks.map((c) => c.name);
    const csv = classTableCsv(names, [
      { student: 'alice', results: RESULTS },
      { student: 'bob', results: RESULTS.map((r) => ({ ...r, status: 'pass' as const, earned: r.check.points })) },
      { student: '=cmd()', problem: 'not a session archive: no topology in it' },
    ]);
    assert.equal(
      csv,
      [
        `student,opeth reaches the router,grave is cut off from the DMZ,web server is up,the teacher's own,"a <b> & ""c"" # d \\ e",total,possible,note`,
        'alice,1,0,0,2,0,3,6,1 check could not run',
        'bob,1,1,1,2,1,6,6,',
        `'=cmd(),,,,,,,,not a session archive: no topology in it`,
        '',
      ].join('\r\n'),
    );
    assert.equal(csvCell('-1'), "'-1");
    assert.equal(csvCell('a\nb'), '"a\nb"');
  });
});
