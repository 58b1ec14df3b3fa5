import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { Parser as TapParser } from 'tap-parser';
import type { SessionState } from '../../src/lab/state.js';
import { run } from '../../src/process/run.js';
import { qemunet } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/**
 * Lab checks run by a real session in real guests (issue 20): a correct lab passes every check; the
 * same lab broken on purpose (a link down) fails exactly the checks it should, saying what was seen.
 */
describe('qemunet check on a running lab', { timeout: 900000 }, () => {
  const tmp = suiteDir('checks');
  const dir = join(tmp.path, 's');
  const checksFile = join(tmp.path, 'lab.checks');
  const checks = [
    '# a two-host LAN: each reaches the other, nothing answers at .99',
    'CHECK "a reaches b" within 5s     ping a 10.0.0.2',
    'CHECK "b reaches a" 2 points      ping b 10.0.0.1',
    'CHECK "nobody at .99" within 3s   noping a 10.0.0.99',
    'CHECK "b is named b"              exec b "hostname" ~ "^b$"',
    'CHECK "a has its address"         file a /proc/net/fib_trie ~ "10\\.0\\.0\\.1"',
    'CHECK "teacher only" hidden       exec a "ip -4 addr show eth0" ~ "10\\.0\\.0\\.1/24"',
    '',
  ].join('\n');
  const check = (...args: string[]) => qemunet(['check', '--session', dir, ...args]);

  before(async () => {
    await tinyImage();
    await writeFile(join(tmp.path, 'two.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    await writeFile(checksFile, checks);
    // up --checks: kept in the session, run once every host is ready (no addresses yet: the pings fail).
    const r = await qemunet(['up', join(tmp.path, 'two.topo'), '--wait', '--session', dir, '--checks', checksFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FAIL  a reaches b — seen: /m);
    assert.match(r.stdout, /^PASS  b is named b$/m);
    assert.match(r.stdout, /^score: 2\/6 points, 2 of 5 checks passed$/m);
    assert.equal(await readFile(join(dir, 'checks'), 'utf8'), checks);
    for (const [host, address] of [['a', '10.0.0.1'], ['b', '10.0.0.2']] as const) {
      const set = await qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', `ip addr add ${address}/24 dev eth0 && ip link set eth0 up`]);
      assert.equal(set.code, 0, set.stderr);
    }
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a correct lab passes every check; the student sees no hidden one, the teacher does', async () => {
    const r = await check('--checks', checksFile);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, ['PASS  a reaches b', 'PASS  b reaches a (2 points)', 'PASS  nobody at .99', 'PASS  b is named b', 'PASS  a has its address', 'score: 6/6 points, 5 of 5 checks passed', ''].join('\n'));
    const teacher = await check('--checks', checksFile, '--teacher');
    assert.match(teacher.stdout, /^PASS  \[hidden\] teacher only$/m);
    assert.match(teacher.stdout, /^score: 7\/7 points, 6 of 6 checks passed$/m);
    // The state the student reads has the student's view only.
    const status = JSON.parse((await qemunet(['status', '--session', dir, '--json'])).stdout) as SessionState;
    assert.deepEqual(status.checks?.checks.map((c) => [c.name, c.status]), [['a reaches b', 'pass'], ['b reaches a', 'pass'], ['nobody at .99', 'pass'], ['b is named b', 'pass'], ['a has its address', 'pass']]);
    assert.deepEqual([status.checks?.running, status.checks?.score], [false, { earned: 6, possible: 6, passed: 5, total: 5 }]);
    assert.ok(!JSON.stringify(status).includes('teacher only'));
  });

  test('TAP and JUnit reports are read back by a TAP parser and an XML parser', async () => {
    const tap = await check('--checks', checksFile, '--format', 'tap');
    assert.equal(tap.code, 0);
    const parser = new TapParser();
    const done = new Promise<{ ok: boolean; count: number; pass: number }>((resolve) => parser.on('complete', resolve));
    parser.end(tap.stdout);
    const summary = await done;
    assert.deepEqual([summary.ok, summary.count, summary.pass], [true, 5, 5]);
    const out = join(tmp.path, 'junit.xml');
    assert.equal((await check('--checks', checksFile, '--format', 'junit', '--out', out)).code, 0);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(out, 'utf8')) as { testsuites: { testsuite: { '@_tests': string; '@_failures': string; testcase: unknown[] } } };
    assert.deepEqual([xml.testsuites.testsuite['@_tests'], xml.testsuites.testsuite['@_failures'], xml.testsuites.testsuite.testcase.length], ['5', '0', 5]);
  });

  test("the session's own checks file (from up --checks, or a lab archive) is what check runs by default", async () => {
    const r = await check();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^score: 6\/6 points, 5 of 5 checks passed$/m);
  });

  test('with a link down, exactly the checks that need it fail, saying what was seen; up again, all pass', async () => {
    assert.equal((await qemunet(['link', 'a:eth0', 'down', '--session', dir])).code, 0);
    try {
      const r = await check('--checks', checksFile);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.split('\n');
      assert.match(lines[0]!, /^FAIL  a reaches b — seen: .*(100% packet loss|Network unreachable|0 received)/);
      assert.match(lines[1]!, /^FAIL  b reaches a \(2 points\) — seen: /);
      assert.deepEqual(lines.slice(2), ['PASS  nobody at .99', 'PASS  b is named b', 'PASS  a has its address', 'score: 3/6 points, 3 of 5 checks passed', '']);
    } finally {
      assert.equal((await qemunet(['link', 'a:eth0', 'up', '--session', dir])).code, 0);
    }
    assert.equal((await check('--checks', checksFile)).code, 0);
  });

  test("a checks file it cannot use is said at file:line:column (exit 2), and nothing runs", async () => {
    const bad = join(tmp.path, 'bad.checks');
    await writeFile(bad, 'CHECK "x" ping a 10.0.0.2\nCHECK "y" traceroute a 10.0.0.2\n');
    const r = await check('--checks', bad);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^qemunet: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:11: `));
    const broken = await qemunet(['up', join(tmp.path, 'two.topo'), '--wait', '--session', join(tmp.path, 'never'), '--checks', bad]);
    assert.equal(broken.code, 1, 'up refuses bad input as it does a bad topology');
    assert.match(broken.stderr, new RegExp(`^qemunet: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:11: `));
    await assert.rejects(readFile(join(tmp.path, 'never', 'topology')), { code: 'ENOENT' }, 'nothing was made');
    const missing = await check('--checks', join(tmp.path, 'nosuch'));
    assert.deepEqual([missing.code, missing.stderr], [2, `qemunet: cannot read the checks file ${join(tmp.path, 'nosuch')}: ENOENT\n`]);
    assert.deepEqual([(await check('--format', 'xml')).code], [2]);
  });
});

/** Grading saved sessions offline (issue 20): each restored in a throwaway session, checked, stopped, removed. */
describe('qemunet check --from and --class grade saved sessions', { timeout: 900000 }, () => {
  const tmp = suiteDir('grading');
  const dir = join(tmp.path, 's');
  const klass = join(tmp.path, 'class');
  const checks = ['CHECK "a is named a" exec a "hostname" ~ "^a$"', 'CHECK "the answer" 3 points within 3s file a /root/answer ~ "^42$"', 'CHECK "kept quiet" hidden exec a "cat /proc/version" ~ "Linux"', ''].join('\n');
  const exec = (command: string) => qemunet(['exec', 'a', '--session', dir, '--', 'sh', '-c', command]);
  const qemuOf = async (folder: string) => (await run('pgrep', ['-af', 'qemu-system']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter((l) => l.includes(folder));

  before(async () => {
    await tinyImage();
    await mkdir(klass);
    await writeFile(join(tmp.path, 'one.topo'), 'SWITCH s1\nHOST tiny a s1\n');
    await writeFile(join(tmp.path, 'lab.checks'), checks);
    const r = await qemunet(['up', join(tmp.path, 'one.topo'), '--wait', '--session', dir, '--checks', join(tmp.path, 'lab.checks')]);
    assert.equal(r.code, 0, r.stderr);
    // bob saves before answering; alice and carol after.
    assert.equal((await qemunet(['save', '--session', dir, join(klass, 'bob.tgz')])).code, 0);
    assert.equal((await exec('echo 42 > /root/answer && sync')).code, 0);
    assert.equal((await qemunet(['save', '--session', dir, join(klass, 'alice.tgz')])).code, 0);
    await copyFile(join(klass, 'alice.tgz'), join(klass, 'carol.tgz'));
    await writeFile(join(tmp.path, 'notes.txt'), 'not a lab');
    await run('tar', ['-czf', join(klass, 'dave.tgz'), '-C', tmp.path, 'notes.txt']);
    assert.equal((await qemunet(['down', '--session', dir])).code, 0);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('--from: the teacher report of one saved session, and nothing left running', async () => {
    const r = await qemunet(['check', '--from', join(klass, 'alice.tgz')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, ['PASS  a is named a', 'PASS  the answer (3 points)', 'PASS  [hidden] kept quiet', 'score: 5/5 points, 3 of 3 checks passed', ''].join('\n'));
    const bob = await qemunet(['check', '--from', join(klass, 'bob.tgz')]);
    assert.equal(bob.code, 1);
    assert.match(bob.stdout, /^FAIL  the answer \(3 points\) — seen: .*No such file/m);
    assert.deepEqual(await qemuOf(join(tmpdir(), 'qemunet-grade-')), [], 'no VM of a throwaway session is left');
    assert.deepEqual((await readdir(tmpdir())).filter((n) => n.startsWith('qemunet-grade-')), [], 'its folder is removed');
    const notLab = await qemunet(['check', '--from', join(klass, 'dave.tgz')]);
    assert.equal(notLab.code, 2);
    assert.match(notLab.stderr, /holds no "topology" file/);
  });

  test('--class: a CSV row per student (one not a session: a row saying so), its JSON twin and a JUnit file each', async () => {
    const r = await qemunet(['check', '--class', klass, '--jobs', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^graded 3 of 4 archives \(1 could not be graded: see the note column\)$/m);
    const csv = (await readFile(join(klass, 'results.csv'), 'utf8')).split('\r\n');
    assert.equal(csv[0], 'student,a is named a,the answer,kept quiet,total,possible,note');
    assert.deepEqual(csv.slice(1, 4), ['alice,1,3,1,5,5,', 'bob,1,0,1,2,5,', 'carol,1,3,1,5,5,']);
    assert.match(csv[4]!, /^dave,,,,,,.*holds no ""topology"" file/);
    const json = JSON.parse(await readFile(join(klass, 'results.json'), 'utf8')) as Array<{ student: string; problem?: string }>;
    assert.deepEqual(json.map((s) => [s.student, s.problem === undefined]), [['alice', true], ['bob', true], ['carol', true], ['dave', false]]);
    const junit = new XMLParser({ ignoreAttributes: false }).parse(await readFile(join(klass, 'bob.junit.xml'), 'utf8')) as { testsuites: { testsuite: { '@_tests': string; '@_failures': string } } };
    assert.deepEqual([junit.testsuites.testsuite['@_tests'], junit.testsuites.testsuite['@_failures']], ['3', '1']);
    assert.deepEqual(await qemuOf(join(tmpdir(), 'qemunet-grade-')), []);
  });
});

/** Per-student parameters (issue 20): the hosts' start scripts and the checks compute the same values from the lab secret and the student. */
describe('a per-student flag', { timeout: 600000 }, () => {
  const tmp = suiteDir('flag');
  const lab = join(tmp.path, 'lab');
  const checks = ['SECRET "networks-2026-bordeaux"', 'PARAM flag = token(8)', 'CHECK "my flag" exec a "cat /root/flag" ~ "^{{flag}}$"', ''].join('\n');

  before(async () => {
    await tinyImage();
    await mkdir(join(lab, 'a'), { recursive: true });
    await writeFile(join(lab, 'topology'), 'SWITCH s1\nHOST tiny a s1\n');
    await writeFile(join(lab, 'checks'), checks);
    // The lab's start script: the flag of whoever runs the lab, from the params file qemunet writes.
    await writeFile(join(lab, 'a', 'start.sh'), '. /mnt/host/params\necho "$flag" > /root/flag\n');
    const r = await qemunet(['up', '--from', lab, '-u', 'alice', '--wait']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', lab]);
    await tmp.remove();
  });

  test('the student running the lab passes with their own flag; another student does not', async () => {
    const params = await readFile(join(lab, 'a', 'params'), 'utf8');
    const flag = /^flag=([a-z2-9]{8})$/m.exec(params)?.[1];
    assert.ok(flag, params);
    const alice = await qemunet(['check', '--session', lab]);
    assert.equal(alice.code, 0, alice.stdout + alice.stderr);
    assert.equal(alice.stdout, 'PASS  my flag\nscore: 1/1 point, 1 of 1 check passed\n');
    const bob = await qemunet(['check', '--session', lab, '--student', 'bob']);
    assert.equal(bob.code, 1);
    assert.match(bob.stdout, new RegExp(`^FAIL  my flag — seen: ${flag}`));
  });
});

/** The README's first lab (demo/lab), as a newcomer runs it: the task's checks fail, the fix makes them pass. */
describe('the demo lab with checks', { timeout: 600000 }, () => {
  const tmp = suiteDir('demo-lab');
  const dir = join(tmp.path, 'first-lab');
  const demo = fileURLToPath(new URL('../../../demo/lab', import.meta.url));
  before(() => tinyImage());
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test("grave's two checks fail until grave has its address, then all pass", async () => {
    const r = await qemunet(['up', '--from', demo, '--session', dir, '--wait'], { cwd: tmp.path });
    assert.equal(r.code, 0, r.stderr);
    const before = await qemunet(['check', '--session', dir]);
    assert.equal(before.code, 1, before.stdout + before.stderr);
    const lines = before.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['PASS  immortal reaches opeth', 'PASS  opeth reaches syl', 'PASS  nobody answers at .99']);
    assert.match(lines[3]!, /^FAIL  grave has 10\.0\.0\.4\/24 — seen: /);
    assert.match(lines[4]!, /^FAIL  grave reaches immortal \(2 points\) — seen: /);
    assert.equal(lines[5], 'score: 3/6 points, 3 of 5 checks passed');
    const fix = await qemunet(['exec', 'grave', '--session', dir, '--', 'sh', '-c', 'ip addr add 10.0.0.4/24 dev eth0 && ip link set eth0 up']);
    assert.equal(fix.code, 0, fix.stderr);
    const after = await qemunet(['check', '--session', dir]);
    assert.equal(after.code, 0, after.stdout);
    assert.match(after.stdout, /^score: 6\/6 points, 5 of 5 checks passed$/m);
  });
});
