import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { qemunet } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';
import { startWebLab, stopWebLab, type WebLab } from '../helpers/web.js';

/**
 * The page's Checks panel in Debian's chromium, on a real two-host session with a checks file in
 * its session folder: Run checks runs them in the session, the rows go from pending to pass as the
 * session pushes its state; with a link down, the pings fail saying what was seen.
 */
describe('the Checks panel of qemunet web', { timeout: 900000 }, () => {
  const tmp = suiteDir('webchecks');
  const dir = join(tmp.path, 's');
  const lab: Partial<WebLab> = {};
  let page: Page;
  const checks = [
    '# the first one takes 2 s, so the page shows the run going',
    'CHECK "a answers slowly"           exec a "sleep 2; echo ready" ~ "ready"',
    'CHECK "a reaches b" within 3s      ping a 10.0.0.2',
    'CHECK "b reaches a" 2 points within 3s ping b 10.0.0.1',
    'CHECK "b is named b"               exec b "hostname" ~ "^b$"',
    '',
  ].join('\n');
  /** Each row of the panel: its status badge, name, and what was seen. */
  const rows = () => page.$$eval('#checks-table tr', (trs) => trs.map((tr) => [tr.getAttribute('data-status'), tr.querySelector('.check-name')?.firstChild?.textContent ?? '', tr.querySelector('.seen')?.textContent ?? '']));
  const runChecks = async () => {
    await page.click('#act-checks');
    // The session says it runs: the button waits, the rows are pending until their results come.
    await page.waitForSelector('#act-checks:disabled');
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('checks-state').textContent === 'running…');
    await page.waitForSelector('#checks-table tr[data-status="pending"]');
    await page.waitForSelector('#act-checks:enabled', { timeout: 60000 });
  };

  before(async () => {
    await tinyImage();
    Object.assign(lab, await startWebLab(dir, join(tmp.path, 'two.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n'));
    for (const [host, address] of [['a', '10.0.0.1'], ['b', '10.0.0.2']] as const) {
      const set = await qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', `ip addr add ${address}/24 dev eth0 && ip link set eth0 up`]);
      assert.equal(set.code, 0, set.stderr);
    }
    // The session reads its own checks file when a run starts.
    await writeFile(join(dir, 'checks'), checks);
    page = await lab.browser!.newPage();
    await page.goto(lab.url!);
    await page.waitForSelector('#act-checks');
  });
  after(async () => {
    await stopWebLab(lab, dir);
    await tmp.remove();
  });

  test('Run checks: the rows go from pending to pass live, then the score', async () => {
    assert.equal(await page.textContent('#checks-score'), 'not run yet');
    await runChecks();
    assert.deepEqual(await rows(), [
      ['pass', 'a answers slowly', ''],
      ['pass', 'a reaches b', ''],
      ['pass', 'b reaches a', ''],
      ['pass', 'b is named b', ''],
    ]);
    assert.equal(await page.textContent('#checks-score'), 'score: 5/5 points, 4 of 4 checks passed');
    assert.equal(await page.textContent('#checks-error'), '');
  });

  test('with a link down from the command line, the pings fail saying what was seen', async () => {
    assert.equal((await qemunet(['link', 'a:eth0', 'down', '--session', dir])).code, 0);
    try {
      await runChecks();
      const [slow, ab, ba, named] = await rows();
      assert.deepEqual([slow, named], [['pass', 'a answers slowly', ''], ['pass', 'b is named b', '']]);
      assert.deepEqual([ab![0], ab![1], ba![0], ba![1]], ['fail', 'a reaches b', 'fail', 'b reaches a']);
      assert.match(ab![2]!, /^seen: PING 10\.0\.0\.2 .*(100% packet loss|Network unreachable|0 received)/s);
      assert.equal(await page.textContent('#checks-score'), 'score: 2/5 points, 2 of 4 checks passed');
      // QEMUNET_WEB_SCREENSHOTS=DIR keeps a picture of the panel, to look at.
      if (process.env.QEMUNET_WEB_SCREENSHOTS) await page.screenshot({ path: join(process.env.QEMUNET_WEB_SCREENSHOTS, 'checks.png') });
    } finally {
      assert.equal((await qemunet(['link', 'a:eth0', 'up', '--session', dir])).code, 0);
    }
  });

  test("without a checks file, the session's refusal is said in the panel", async () => {
    await rm(join(dir, 'checks'));
    await page.click('#act-checks');
    await page.waitForFunction(() => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('checks-error').textContent ?? '') !== '');
    assert.equal(await page.textContent('#checks-error'), `this session has no checks file (${join(dir, 'checks')}: ENOENT); give one with qemunet check --checks FILE, or put it in the lab archive as "checks"`);
    assert.equal(await page.isEnabled('#act-checks'), true);
  });
});
