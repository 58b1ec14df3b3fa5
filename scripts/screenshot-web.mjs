// Regenerates docs/web.png, the README's picture of `qemunet web`, from a real session: three tiny
// VMs on two switches (one link with faults, one down), two consoles side by side, taken by
// Debian's chromium through playwright-core. Run after `npm run build`:
//   node scripts/screenshot-web.mjs [OUT.png]
// The session and the web server are stopped at the end, whatever happens.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const QEMUNET = fileURLToPath(new URL('../bin/qemunet', import.meta.url));
const out = process.argv[2] ?? fileURLToPath(new URL('../docs/web.png', import.meta.url));

function qemunet(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [QEMUNET, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'qemunet-screenshot-'));
const session = join(dir, 's');
let web;
let browser;
try {
  await writeFile(
    join(dir, 'lan.topo'),
    'SWITCH s1\nSWITCH s2\nHOST tiny alice s1\nHOST tiny bob s1\nHOST tiny router s1 s2\nHOST tiny carol s2\nLINK alice:eth0 delay=40ms loss=10%\n',
  );
  if ((await qemunet(['up', join(dir, 'lan.topo'), '--wait', '-K', '--boot-silence', '300', '--boot-limit', '900', '--session', session])) !== 0) throw new Error('qemunet up failed');
  await qemunet(['link', 'carol:eth0', 'down', '--session', session]);
  web = spawn(process.execPath, [QEMUNET, 'web', '--session', session, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    web.stdout.on('data', (d) => {
      text += d.toString();
      const m = /^qemunet web: (http\S+)$/m.exec(text);
      if (m) resolve(m[1]);
    });
    web.once('exit', (code) => reject(new Error(`qemunet web exited (${code})`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 760 } });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis.qemunet?.graph.nodes().length ?? 0) >= 6);
  await page.click('#open-all');
  for (const host of ['alice', 'bob', 'router', 'carol']) await page.waitForFunction((h) => /#/.test(globalThis.qemunet.consoleText(h) ?? ''), host);
  // Side by side shows every open console; a tab click takes one out.
  await page.click('#split');
  await page.click('.tab[data-host="router"]');
  await page.click('.tab[data-host="carol"]');
  for (const [host, command] of [['alice', 'ip -br addr; hostname'], ['bob', 'uname -sr; ip -br link']]) {
    await page.click(`.terminal-box[data-host="${host}"] .terminal-screen`);
    await page.keyboard.type(`${command}\n`);
  }
  await page.waitForTimeout(2000);
  // A host selected, so its actions show under the graph.
  const at = await page.evaluate(() => {
    const p = globalThis.qemunet.graph.$id('host:router').renderedPosition();
    const r = document.getElementById('graph').getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
  });
  await page.mouse.click(at.x, at.y);
  await page.screenshot({ path: out });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser?.close();
  web?.kill('SIGTERM');
  await qemunet(['down', '--session', session]);
  await rm(dir, { recursive: true, force: true });
}
