import { FakeWebSession } from '../test/helpers/fake-web-session.js';
import { launchChromium, startQemunetWeb } from '../test/helpers/web.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { HostView, SessionView } from '../src/web/protocol.js';
import { startWebServer } from '../src/web/server/http-server.js';

const QEMUNET = fileURLToPath(new URL('../../bin/qemunet', import.meta.url));
const GOALS = { graph50Ms: 1000, echoOverMs: 5, minFps: 20 };
const CONSOLES = 20;
const ECHO_SAMPLES = 25;

type Print = (line: string) => void;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

/** What the page gives (window.qemunet); this file is compiled without the DOM lib. */
interface PageHooks {
  qemunet: {
    graph: { nodes(): { length: number }; $id(id: string): { hasClass(c: string): boolean } };
    drawTimes: number[];
    consoles: { view(host: string): { echoProbe(text: string, echo?: string): Promise<number> } | undefined; text(host: string): string | undefined };
    consoleText(host: string): string | undefined;
  };
  requestAnimationFrame(f: () => void): void;
}

/**
 * The web front end's figures: a 50-host graph laid out and drawn (no VMs: a view-only session),
 * keystroke-to-echo through the web console beside `qemunet console`, the page's frame rate with 20
 * consoles open while one floods, and the web server's memory with them.
 */
export async function benchWeb(print: Print): Promise<Record<string, unknown>> {
  const browser = await launchChromium();
  try {
    const graph = await benchGraph(browser, print);
    const consoles = await benchConsoles(browser, print);
    return { goals: GOALS, graph, ...consoles };
  } finally {
    await browser.close();
  }
}

/** A session of `hosts` hosts on hosts/10 switches in a chain of trunks, as the page gets it. */
export function bigView(hosts: number): SessionView {
  const switches = Math.ceil(hosts / 10);
  const hostViews: HostView[] = Array.from({ length: hosts }, (_, i) => ({
    name: `h${i + 1}`,
    system: 'tiny',
    state: (['ready', 'booting', 'ready', 'stalled', 'ready', 'crashed', 'ready', 'stopped'] as const)[i % 8]!,
    nics: [{ ref: `h${i + 1}:eth0`, eth: 'eth0', switch: `s${(i % switches) + 1}`, port: Math.floor(i / switches) + 1, mac: 'AA:AA:AA:AA:00:00', up: i % 7 !== 0, faultable: true, ...(i % 5 === 0 ? { faults: '40 ms, 10 % loss' } : {}) }],
  }));
  return {
    dir: '/bench',
    topology: 'bench.topo',
    phase: 'running',
    hosts: hostViews,
    switches: Array.from({ length: switches }, (_, i) => ({ name: `s${i + 1}`, hub: false, state: 'running' })),
    trunks: Array.from({ length: switches - 1 }, (_, i) => ({ a: { switch: `s${i + 1}`, port: 20 }, b: { switch: `s${i + 2}`, port: 21 } })),
    taps: [],
  };
}

/** A session with no VMs behind it: the server and page work on its view alone. */
class ViewOnlySession extends FakeWebSession {
  override readonly dir = '/bench';
  constructor(sample: SessionView) {
    super();
    this.sample = sample;
  }
}

async function benchGraph(browser: Browser, print: Print): Promise<Record<string, unknown>> {
  const view = bigView(50);
  const server = await startWebServer({ session: new ViewOnlySession(view), port: 0 });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const nodes = view.hosts.length + view.switches.length;
  const drawMs: number[] = [];
  const loadMs: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await page.goto(i === 0 ? server.url : server.url.replace(/#.*/, ''));
      await page.waitForFunction(() => (globalThis as unknown as PageHooks).qemunet?.drawTimes.length > 0);
      const [draw, total] = await page.evaluate(() => [(globalThis as unknown as PageHooks).qemunet.drawTimes[0]!, performance.now()]);
      drawMs.push(draw);
      loadMs.push(total);
    }
    const drawn = await page.evaluate(() => (globalThis as unknown as PageHooks).qemunet.graph.nodes().length);
    if (drawn !== nodes) throw new Error(`the page drew ${drawn} nodes, not ${nodes}`);
  } finally {
    await page.close();
    await server.close();
  }
  const r = { hosts: view.hosts.length, nodes, edges: view.hosts.length + view.trunks.length, layoutAndDrawMs: round(median(drawMs)), pageLoadToDrawnMs: round(median(loadMs)), runs: drawMs.map((x) => round(x)) };
  print(`graph of ${r.hosts} hosts (${r.nodes} nodes, ${r.edges} edges), cose layout, in chromium: laid out and drawn ${r.layoutAndDrawMs} ms after the view arrived (median of 5), ${r.pageLoadToDrawnMs} ms from page load; goal < ${GOALS.graph50Ms} ms: ${verdict(r.layoutAndDrawMs < GOALS.graph50Ms)}`);
  return r;
}

/** A real session of 20 tiny VMs and `qemunet web` on it. */
async function benchConsoles(browser: Browser, print: Print): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-bench-web-'));
  const session = join(dir, 's');
  const names = Array.from({ length: CONSOLES }, (_, i) => `h${i + 1}`);
  let web: ChildProcess | undefined;
  let cli: ChildProcess | undefined;
  try {
    await writeFile(join(dir, 'w.topo'), `SWITCH s1\n${names.map((n) => `HOST tiny ${n} s1`).join('\n')}\n`);
    const t0 = Date.now();
    // 20 VMs booting at once on 2 shared cores: generous limits (a stall here says nothing of the web server).
    const up = await runCli(['up', join(dir, 'w.topo'), '--wait', '-K', '--boot-silence', '300', '--boot-limit', '1200', '--timeout', '1500', '--session', session]);
    if (up.code !== 0) throw new Error(`qemunet up failed: ${up.stderr}`);
    print(`${CONSOLES} tiny VMs (TCG) ready in ${round((Date.now() - t0) / 1000)} s`);
    const started = await startQemunetWeb(['--session', session]);
    web = started.web;
    const url = started.url;
    const rssIdle = rssMiB(web.pid!);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.waitForFunction((n) => ((globalThis as unknown as PageHooks).qemunet?.graph.nodes().length ?? 0) >= n, CONSOLES + 1);
    await page.click('#split');
    await page.click('#open-all');
    for (const h of names) await page.waitForFunction((x) => /#/.test((globalThis as unknown as PageHooks).qemunet.consoleText(x) ?? ''), h, { timeout: 60000 });
    const rssOpen = rssMiB(web.pid!);

    // Keystroke to echo: the same host, through the page and through `qemunet console` (a pipe, no terminal).
    cli = spawn(process.execPath, [QEMUNET, 'console', 'h2', '--session', session], { stdio: ['pipe', 'pipe', 'inherit'] });
    let cliOut = '';
    let onCliOut = () => {};
    cli.stdout!.on('data', (d: Buffer) => {
      cliOut += d.toString('latin1');
      onCliOut();
    });
    await new Promise((r) => setTimeout(r, 1000));
    const cliProbe = (text: string, echo: string) =>
      new Promise<number>((resolve) => {
        cliOut = '';
        const t = performance.now();
        onCliOut = () => cliOut.includes(echo) && resolve(performance.now() - t);
        cli!.stdin!.write(text);
      });
    const webProbe = (text: string, echo: string) => page.evaluate(([t, e]) => (globalThis as unknown as PageHooks).qemunet.consoles.view('h2')!.echoProbe(t!, e), [text, echo] as const);
    const webMs: number[] = [];
    const cliMs: number[] = [];
    for (let i = 0; i < ECHO_SAMPLES; i++) {
      // A letter, then a backspace that erases it (bash echoes "\b \b"): the command line stays empty.
      webMs.push(await webProbe('x', 'x'), await webProbe('\x7f', '\b'));
      cliMs.push(await cliProbe('x', 'x'), await cliProbe('\x7f', '\b'));
    }
    cli.stdin!.end();
    const echo = { webMs: round(median(webMs)), consoleMs: round(median(cliMs)), webP90Ms: round(p90(webMs)), consoleP90Ms: round(p90(cliMs)), samples: webMs.length };
    print(`keystroke to echo (host h2, median of ${echo.samples}): web console ${echo.webMs} ms (p90 ${echo.webP90Ms}), qemunet console ${echo.consoleMs} ms (p90 ${echo.consoleP90Ms}); web minus console ${round(echo.webMs - echo.consoleMs)} ms, goal within ${GOALS.echoOverMs} ms: ${verdict(echo.webMs - echo.consoleMs <= GOALS.echoOverMs)}`);

    // A change made from the page (link down, then up) until the graph shows it: the action's round trip and the pushed state.
    const changeMs: number[] = [];
    for (let i = 0; i < 4; i++) changeMs.push(await linkChange(page, 'h3:eth0', i % 2 === 1));
    const change = { medianMs: round(median(changeMs)), runs: changeMs.map((x) => round(x)) };
    print(`link down/up asked to drawn on the graph: ${change.medianMs} ms (median of ${changeMs.length}; action round trip included); goal < 300 ms: ${verdict(change.medianMs < 300)}`);

    // Frames while one of the 20 consoles floods.
    const idleFps = await frames(page, 3000);
    await typeInto(page, 'h1', 'yes flood-line\n');
    await page.waitForFunction(() => ((globalThis as unknown as PageHooks).qemunet.consoleText('h1') ?? '').split('flood-line').length > 50, undefined, { timeout: 60000 });
    const flood = await frames(page, 5000);
    const rssFlood = rssMiB(web.pid!);
    const duringFloodEchoMs = round(median(await sequence(5, () => webProbe('x', 'x').then(async (ms) => (await webProbe('\x7f', '\b'), ms)))));
    await typeInto(page, 'h1', '\x03');
    const gaps = ((await page.evaluate(() => (globalThis as unknown as PageHooks).qemunet.consoleText('h1') ?? '')).match(/output were lost here/g) ?? []).length;
    const fps = { idle: idleFps, flooding: flood, gapMarkers: gaps, echoOtherConsoleDuringFloodMs: duringFloodEchoMs };
    print(`${CONSOLES} consoles side by side: ${idleFps.fps} frames/s idle (longest frame ${idleFps.longestMs} ms); one flooding with yes: ${flood.fps} frames/s (longest ${flood.longestMs} ms), another console echoes in ${duringFloodEchoMs} ms, ${gaps} gap marker(s) in the flooding one; goal >= ${GOALS.minFps} frames/s: ${verdict(flood.fps >= GOALS.minFps)}`);
    const rss = { beforePageMiB: rssIdle, consolesOpenMiB: rssOpen, floodingMiB: rssFlood };
    print(`qemunet web RSS: ${rssIdle} MiB before a page, ${rssOpen} MiB with ${CONSOLES} consoles open, ${rssFlood} MiB while one floods`);
    await page.close();
    return { echo, change, frames: fps, rss };
  } finally {
    cli?.kill();
    web?.kill('SIGTERM');
    await runCli(['down', '--session', session]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from asking for a link change in the page to the frame that shows it. */
function linkChange(page: Page, nic: string, up: boolean): Promise<number> {
  return page.evaluate(
    async ([ref, on]) => {
      const g = globalThis as unknown as PageHooks & { fetch(url: string, init: object): Promise<unknown> };
      const t0 = performance.now();
      await g.fetch('/api/action', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'link', nic: ref, up: on }), credentials: 'same-origin' });
      const edge = g.qemunet.graph.$id(`nic:${ref as string}`);
      await new Promise<void>((resolve) => {
        const check = () => (edge.hasClass('down') === !on ? resolve() : g.requestAnimationFrame(check));
        check();
      });
      await new Promise((r) => g.requestAnimationFrame(() => r(undefined)));
      return performance.now() - t0;
    },
    [nic, up] as const,
  );
}

function p90(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.9)]!;
}

async function sequence<T>(n: number, f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

/** requestAnimationFrame callbacks a second over `ms`, and the longest time between two. */
async function frames(page: Page, ms: number): Promise<{ fps: number; longestMs: number }> {
  return page.evaluate(
    (span) =>
      new Promise<{ fps: number; longestMs: number }>((resolve) => {
        const t0 = performance.now();
        let last = t0;
        let n = 0;
        let longest = 0;
        const tick = () => {
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          n++;
          if (now - t0 < span) (globalThis as unknown as PageHooks).requestAnimationFrame(tick);
          else resolve({ fps: Math.round((n / (now - t0)) * 10000) / 10, longestMs: Math.round(longest) });
        };
        (globalThis as unknown as PageHooks).requestAnimationFrame(tick);
      }),
    ms,
  );
}

async function typeInto(page: Page, host: string, text: string): Promise<void> {
  await page.click(`.terminal-box[data-host="${host}"] .terminal-screen`);
  if (text === '\x03') return page.keyboard.press('Control+C');
  await page.keyboard.type(text);
}

function rssMiB(pid: number): number {
  return round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
}

function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [QEMUNET, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code: code ?? 1, stderr }));
  });
}
