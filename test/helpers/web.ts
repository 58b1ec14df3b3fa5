import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { QEMUNET, qemunet } from './cli.js';

/** Debian's chromium, which scripts/install-deps.sh installs. */
export const CHROMIUM = '/usr/bin/chromium';

/** Starts `qemunet web ARGS --port 0` and gives the process with the URL it prints (token included). */
export async function startQemunetWeb(args: readonly string[]): Promise<{ web: ChildProcess; url: string }> {
  const web = spawn(process.execPath, [QEMUNET, 'web', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    web.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^qemunet web: (http\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    web.once('exit', (code) => reject(new Error(`qemunet web exited (${code}): ${out}`)));
  });
  return { web, url };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface WebLab {
  web: ChildProcess;
  url: string;
  browser: Browser;
}

/**
 * A browser test's lab: `topology` written to `topologyFile` and started in `dir` (up --wait -K and
 * `upArgs`), `qemunet web` on it, and chromium.
 */
export async function startWebLab(dir: string, topologyFile: string, topology: string, upArgs: readonly string[] = []): Promise<WebLab> {
  await writeFile(topologyFile, topology);
  const up = await qemunet(['up', topologyFile, '--wait', '-K', ...upArgs, '--session', dir]);
  assert.equal(up.code, 0, up.stderr);
  const { web, url } = await startQemunetWeb(['--session', dir]);
  try {
    return { web, url, browser: await launchChromium() };
  } catch (e) {
    web.kill('SIGTERM');
    throw e;
  }
}

/** Ends what startWebLab started (as far as it got). */
export async function stopWebLab(lab: Partial<WebLab>, dir: string): Promise<void> {
  await lab.browser?.close();
  lab.web?.kill('SIGTERM');
  await qemunet(['down', '--session', dir]);
}

/** The page's graph hook (window.qemunet.graph); page functions are sent as text, so they spell it out. */
interface GraphHooks {
  qemunet: { graph: { $id(id: string): { isEdge(): boolean; renderedMidpoint(): { x: number; y: number }; renderedPosition(): { x: number; y: number } } } };
  document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number } } };
}

/** Clicks a node (at its position) or an edge (at its midpoint) of the page's graph, by element id. */
export async function clickGraphElement(page: Page, id: string): Promise<void> {
  const at = await page.evaluate((i) => {
    const hooks = globalThis as unknown as GraphHooks;
    const el = hooks.qemunet.graph.$id(i);
    const p = el.isEdge() ? el.renderedMidpoint() : el.renderedPosition();
    const r = hooks.document.getElementById('graph').getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
  }, id);
  await page.mouse.click(at.x, at.y);
}
