import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { eventually, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';
import { startWebLab, stopWebLab } from '../helpers/web.js';


/** The bits of the page and its DOM these tests use: this file is compiled without the DOM lib. */
interface PageHooks {
  qemunet?: { screen(host: string): { connected: boolean; connects: number } | undefined };
  document: {
    querySelector(selector: string): {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    } | null;
  };
}

/** End to end in Debian's chromium: a vnc host's screen in the page through noVNC, next to a host with only a serial console. */
describe('graphic consoles in the browser (noVNC)', { timeout: 420000 }, () => {
  const tmp = suiteDir('web-screen');
  const dir = join(tmp.path, 's');
  let web: ChildProcess;
  let url: string;
  let browser: Browser;
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    ({ web, url, browser } = await startWebLab(dir, join(tmp.path, 'w.topo'), 'SWITCH s1\nHOST tiny/vnc v s1\nHOST tiny c s1\n'));
  });
  after(async () => {
    await stopWebLab({ web, url, browser }, dir);
    await tmp.remove();
  });

  /** Pixels of the noVNC canvas that are not the black of the guest's console: its text (the prompt alone lights about 240 of them; a blank canvas none). */
  const litPixels = (page: Page) =>
    page.evaluate(() => {
      const canvas = (globalThis as unknown as PageHooks).document.querySelector('[data-screen="v"] canvas');
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx || !canvas.width || !canvas.height) return 0;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let lit = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 200) lit++;
      return lit;
    });
  const connectedAfter = (page: Page, connects: number) => page.waitForFunction((n) => ((globalThis as unknown as PageHooks).qemunet?.screen('v')?.connects ?? 0) > n && (globalThis as unknown as PageHooks).qemunet?.screen('v')?.connected === true, connects, { timeout: 120000 });
  /** Types a command line into the screen as a person would: `>` is Shift and the period key (noVNC sends QEMU the keys, not the characters). */
  const typeLine = async (page: Page, before: string, after: string) => {
    await page.click('[data-screen="v"] canvas');
    await page.keyboard.type(before, { delay: 30 });
    await page.keyboard.press('Shift+Period');
    await page.keyboard.type(after, { delay: 30 });
    await page.keyboard.press('Enter');
  };
  const guestFile = (host: string, file: string) =>
    eventually(async () => {
      const r = await exec(host, `cat ${file}`);
      return r.code === 0 ? r.stdout : undefined;
    }, 30000, `${file} in ${host}`);

  test('the vnc host has a screen tab (the serial host has none): noVNC connects, shows the guest screen, and keys typed there run in the guest', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    // noVNC runs under the page's CSP (no eval, no inline script): a violation or an error would show here.
    const problems: string[] = [];
    page.on('console', (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForSelector('.tab[data-screen="v"]');
    assert.equal(await page.locator('.tab[data-screen="c"]').count(), 0);
    assert.equal(await page.textContent('.tab[data-screen="v"]'), 'v screen');
    await page.click('.tab[data-screen="v"]');
    await connectedAfter(page, 0);
    await eventually(async () => ((await litPixels(page)) > 100 ? true : undefined), 30000, 'the guest screen drawn on the noVNC canvas');
    await typeLine(page, 'echo hi ', ' /tmp/novnc-typed');
    assert.equal(await guestFile('v', '/tmp/novnc-typed'), 'hi\n');
    await page.screenshot({ path: join(tmp.path, 'web-screen.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the screen websocket refuses without the token, from a foreign Origin, and for hosts without a VNC screen, saying why', async () => {
    const { port } = new URL(url);
    const token = /#token=(.+)$/.exec(url)![1]!;
    const upgrade = (host: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/screen/${host}`, { headers });
        ws.on('open', () => {
          ws.close();
          resolve({ status: 101, body: '' });
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        ws.on('error', () => {});
      });
    const bearer = { Authorization: `Bearer ${token}` };
    assert.equal((await upgrade('v', { Origin: `http://127.0.0.1:${port}` })).status, 401);
    assert.equal((await upgrade('v', { ...bearer, Origin: 'http://evil.example' })).status, 403);
    assert.equal((await upgrade('v', { ...bearer, Origin: `http://127.0.0.1:${Number(port) + 1}` })).status, 403);
    assert.equal((await upgrade('v', bearer)).status, 101);
    const serial = await upgrade('c', bearer);
    assert.deepEqual([serial.status, JSON.parse(serial.body)], [404, { ok: false, message: 'host c has no screen, only its serial console (display none), not a VNC server; display vnc (HOST tiny/vnc c ...) serves it to VNC clients and the browser' }]);
    const unknown = await upgrade('zz', bearer);
    assert.deepEqual([unknown.status, JSON.parse(unknown.body)], [404, { ok: false, message: `session ${dir} has no host zz; hosts: v, c` }]);
  });

  test('the page reconnects to the screen after the VM is killed and restarted', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    await page.goto(url);
    await page.click('.tab[data-screen="v"]');
    await connectedAfter(page, 0);
    const pid = (await stateOf(dir))!.hosts.find((h) => h.name === 'v')!.pid!;
    process.kill(pid, 'SIGKILL');
    await page.waitForFunction(() => (globalThis as unknown as PageHooks).qemunet?.screen('v')?.connected === false, undefined, { timeout: 30000 });
    await eventually(async () => ((await stateOf(dir))?.hosts.find((h) => h.name === 'v')?.state === 'crashed' ? true : undefined), 30000, 'v crashed');
    const restart = await qemunet(['restart', 'v', '--session', dir]);
    assert.equal(restart.code, 0, restart.stderr);
    await connectedAfter(page, 1);
    await eventually(async () => ((await stateOf(dir))?.hosts.find((h) => h.name === 'v')?.state === 'ready' ? true : undefined), 240000, 'v ready again');
    await eventually(async () => ((await litPixels(page)) > 100 ? true : undefined), 30000, 'the restarted guest screen on the canvas');
    await typeLine(page, 'echo again ', ' /tmp/novnc-again');
    assert.equal(await guestFile('v', '/tmp/novnc-again'), 'again\n');
    await page.close();
  });
});
