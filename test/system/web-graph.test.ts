import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';
import { startWebLab, stopWebLab } from '../helpers/web.js';


/** What the page gives tests (window.qemunet); this file is compiled without the DOM lib. */
interface Pos {
  x: number;
  y: number;
}
interface PageHooks {
  qemunet: {
    graph: { $id(id: string): { position(): Pos; renderedPosition(): Pos }; nodes(): { map<T>(f: (n: { id(): string }) => T): T[] } };
    consoleText(host: string): string | undefined;
    consoles: { view(host: string): { size(): { cols: number; rows: number }; selectAll(): void } | undefined };
    files: { saved: Promise<void> };
  };
  document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number; width: number } } | null; querySelector(s: string): { getBoundingClientRect(): { left: number; top: number; width: number; height: number } } | null };
  DOMParser: new () => { parseFromString(text: string, type: string): { querySelector(s: string): unknown; querySelectorAll(s: string): { length: number; forEach(f: (e: { textContent: string | null }) => void): void } } };
  navigator: { clipboard: { writeText(t: string): Promise<void>; readText(): Promise<string> } };
}

/** The graph's files and the consoles' split view, flow control and size, in Debian's chromium on two tiny VMs. */
describe('qemunet web: graph files and consoles', { timeout: 420000 }, () => {
  const tmp = suiteDir('web-graph');
  const dir = join(tmp.path, 's');
  let web: ChildProcess;
  let url: string;
  let browser: Browser;

  before(async () => {
    ({ web, url, browser } = await startWebLab(dir, join(tmp.path, 'g.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n'));
  });
  after(async () => {
    await stopWebLab({ web, url, browser }, dir);
    await tmp.remove();
  });

  /** Opens the page (logging in with the URL's token: a new context has no cookie). */
  const open = async (page: Page) => {
    await page.goto(url);
    await page.waitForFunction(() => ((globalThis as unknown as PageHooks).qemunet?.graph.nodes().map((n) => n.id()).length ?? 0) >= 3);
  };
  const nodePos = (page: Page, id: string) => page.evaluate((i) => (globalThis as unknown as PageHooks).qemunet.graph.$id(i).position(), id);
  const consoleText = (page: Page, host: string) => page.evaluate((h) => (globalThis as unknown as PageHooks).qemunet.consoleText(h) ?? '', host);
  const waitText = (page: Page, host: string, re: RegExp, timeout = 30000) =>
    page.waitForFunction(([h, src, flags]) => new RegExp(src!, flags).test((globalThis as unknown as PageHooks).qemunet.consoleText(h!) ?? ''), [host, re.source, re.flags] as const, { timeout });
  const typeIn = async (page: Page, host: string, text: string) => {
    await page.click(`.terminal-box[data-host="${host}"] .terminal-screen`);
    await page.keyboard.type(text);
  };
  const sideBySide = async (page: Page) => {
    await page.click('#split');
    await page.click('#open-all');
    for (const h of ['a', 'b']) await waitText(page, h, /#/);
  };

  test('a dragged node keeps its position after a reload and in a second browser context', async () => {
    const page = await browser.newPage();
    await open(page);
    const before = await nodePos(page, 'host:a');
    const at = await page.evaluate(() => {
      const p = (globalThis as unknown as PageHooks).qemunet.graph.$id('host:a').renderedPosition();
      const r = (globalThis as unknown as PageHooks).document.getElementById('graph')!.getBoundingClientRect();
      return { x: p.x + r.left, y: p.y + r.top };
    });
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(at.x + 6 * i, at.y + 4 * i);
    await page.mouse.up();
    const moved = await nodePos(page, 'host:a');
    assert.ok(Math.hypot(moved.x - before.x, moved.y - before.y) > 20, `host:a moved from ${JSON.stringify(before)} to ${JSON.stringify(moved)}`);
    const kept = await eventually(async () => {
      const text = await readFile(join(dir, 'qemunet-layout.json'), 'utf8').catch(() => '');
      const p = text ? (JSON.parse(text) as { positions: Record<string, Pos> }).positions['host:a'] : undefined;
      return p && Math.abs(p.x - moved.x) < 1 && Math.abs(p.y - moved.y) < 1 ? p : undefined;
    }, 10000, 'the layout file holding the new position');
    await page.reload();
    await page.waitForFunction(() => ((globalThis as unknown as PageHooks).qemunet?.graph.nodes().map((n) => n.id()).length ?? 0) >= 3);
    const reloaded = await nodePos(page, 'host:a');
    assert.deepEqual([Math.round(reloaded.x), Math.round(reloaded.y)], [Math.round(kept.x), Math.round(kept.y)]);
    const other = await browser.newContext();
    const second = await other.newPage();
    await open(second);
    const there = await nodePos(second, 'host:a');
    assert.deepEqual([Math.round(there.x), Math.round(there.y)], [Math.round(kept.x), Math.round(kept.y)]);
    await other.close();
    await page.close();
  });

  test('PNG and SVG exports download and are valid', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await open(page);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
    const pngBytes = await readFile((await png.path())!);
    assert.deepEqual([...pngBytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(pngBytes.length > 1000, `${pngBytes.length} bytes`);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
    assert.equal(svg.suggestedFilename(), 'qemunet-graph.svg');
    const svgText = await readFile((await svg.path())!, 'utf8');
    const parsed = await page.evaluate((text) => {
      const doc = new (globalThis as unknown as PageHooks).DOMParser().parseFromString(text, 'image/svg+xml');
      const labels: string[] = [];
      doc.querySelectorAll('text').forEach((t) => labels.push(t.textContent ?? ''));
      return { error: doc.querySelector('parsererror') !== null, root: doc.querySelector('svg') !== null, labels };
    }, svgText);
    assert.deepEqual([parsed.error, parsed.root], [false, true]);
    for (const name of ['a', 'b', 's1']) assert.ok(parsed.labels.some((l) => l === name || l.startsWith(`${name} ·`)), `${name} in ${JSON.stringify(parsed.labels)}`);
    await context.close();
  });

  test('two consoles side by side both receive typed text; copy and paste work', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    await open(page);
    await sideBySide(page);
    const boxes = await page.evaluate(() => ['a', 'b'].map((h) => (globalThis as unknown as PageHooks).document.querySelector(`.terminal-box[data-host="${h}"]`)!.getBoundingClientRect()));
    assert.ok(boxes.every((b) => b.width > 100 && b.height > 100), JSON.stringify(boxes));
    assert.ok(boxes[0]!.left + boxes[0]!.width <= boxes[1]!.left + 1, `a left of b: ${JSON.stringify(boxes)}`);
    await typeIn(page, 'a', 'echo one-$((20+1))\n');
    await typeIn(page, 'b', 'echo two-$((20+2))\n');
    await waitText(page, 'a', /^one-21$/m);
    await waitText(page, 'b', /^two-22$/m);
    assert.doesNotMatch(await consoleText(page, 'a'), /two-/);
    await page.evaluate(() => (globalThis as unknown as PageHooks).navigator.clipboard.writeText('echo pasted-$((5*5))'));
    await page.click('.terminal-box[data-host="b"] .terminal-screen');
    await page.keyboard.press('Control+V');
    await page.keyboard.press('Enter');
    await waitText(page, 'b', /^pasted-25$/m);
    await page.evaluate(() => (globalThis as unknown as PageHooks).qemunet.consoles.view('b')!.selectAll());
    await page.keyboard.press('Control+Shift+C');
    const copied = await page.evaluate(() => (globalThis as unknown as PageHooks).navigator.clipboard.readText());
    assert.match(copied, /^pasted-25$/m);
    await context.close();
  });

  test('yes flooding one console leaves another one echoing; Ctrl-C stops the flood', async () => {
    const page = await browser.newPage();
    await open(page);
    await sideBySide(page);
    await typeIn(page, 'a', 'yes flood-line\n');
    await waitText(page, 'a', /(^flood-line\n){20}/m);
    await typeIn(page, 'b', 'echo alive-$((3*5))\n');
    await waitText(page, 'b', /^alive-15$/m);
    await page.click('.terminal-box[data-host="a"] .terminal-screen');
    await page.keyboard.press('Control+C');
    await typeIn(page, 'a', 'echo stopped-$((4*4))\n');
    await waitText(page, 'a', /^stopped-16$/m, 120000);
    const text = await consoleText(page, 'a');
    const after = text.slice(text.search(/^stopped-16$/m));
    assert.doesNotMatch(after, /^flood-line$/m, 'no flood after the command that followed Ctrl-C');
    await page.close();
  });

  test('the guest learns the terminal size: stty size matches the xterm.js columns and rows', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    await open(page);
    await page.click('#open-all');
    await page.click('.tab[data-host="b"]');
    await waitText(page, 'b', /#/);
    const sttyMatches = async () => {
      const size = await page.evaluate(() => (globalThis as unknown as PageHooks).qemunet.consoles.view('b')!.size());
      // The size reaches the guest through its agent, a moment after the terminal changed: ask until it is there.
      return eventually(async () => {
        const marker = `sz${Math.random().toString(36).slice(2, 8)}`;
        await typeIn(page, 'b', `echo ${marker} $(stty size)\n`);
        await waitText(page, 'b', new RegExp(`^${marker} \\d+ \\d+$`, 'm'));
        const m = new RegExp(`^${marker} (\\d+) (\\d+)$`, 'm').exec(await consoleText(page, 'b'))!;
        return Number(m[1]) === size.rows && Number(m[2]) === size.cols ? size : undefined;
      }, 60000, `stty size in the guest to be ${size.rows} ${size.cols}`);
    };
    const first = await sttyMatches();
    await page.setViewportSize({ width: 1000, height: 600 });
    await page.waitForFunction((c) => (globalThis as unknown as PageHooks).qemunet.consoles.view('b')!.size().cols !== c, first.cols);
    const second = await sttyMatches();
    assert.notDeepEqual(second, first);
    await page.close();
  });
});
