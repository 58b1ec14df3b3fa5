import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { run } from '../../src/process/run.js';
import { HOST_SIDE_LINES } from '../fixtures/switch-lines.js';
import { eventually, QEMUNET, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';
import { CHROMIUM, launchChromium, startQemunetWeb } from '../helpers/web.js';

/** The page's graph hook, spelled out (page functions are sent as text; this file has no DOM lib). */
interface Hooks {
  qemunet?: { graph: { $id(id: string): { empty(): boolean } } };
  sessionStorage: { getItem(k: string): string | null };
  location: { href: string };
}
const graphHasHostA = () => {
  const g = (globalThis as unknown as Hooks).qemunet?.graph;
  return g !== undefined && !g.$id('host:a').empty();
};

/** Every process's command line, NULs as spaces. */
async function commandLines(): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline) out.push({ pid: Number(name), cmdline: cmdline.replace(/\0/g, ' ') });
  }
  return out;
}

/**
 * The defects an adversarial test of qemunet web found (issue 18), each attacked again on a real
 * session of one tiny VM, through qemunet web, a real vde_switch, curl, xdg-open and chromium.
 */
describe('qemunet web under attack', { timeout: 600000 }, () => {
  const tmp = suiteDir('websec');
  const dir = join(tmp.path, 's');
  const labs = join(tmp.path, 'labs');
  let web: ChildProcess;
  let url: string;
  let token: string;
  let origin: string;
  let browser: Browser | undefined;
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  const api = (path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${token}` }) =>
    fetch(`${origin}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  before(async () => {
    await writeFile(join(tmp.path, 'w.topo'), 'SWITCH s1\nHOST tiny a s1\n');
    await mkdir(labs);
    await writeFile(join(labs, 'tap.topo'), 'SWITCH s1\nHOST tiny a s1\nTAP qntap9 s1 10.99.0.254/24\n');
    await writeFile(join(labs, 'broken.topo'), 'SWITCH s1\nHOST tiny a nowhere\n');
    // A lab archive whose switch commands file (QemuNet's s1.cmd) reaches for the host: a .so for vde_switch to load.
    await mkdir(join(tmp.path, 'cmd-lab'));
    await writeFile(join(tmp.path, 'cmd-lab', 'topology'), 'SWITCH s1\nHOST tiny a s1:10\n');
    await writeFile(join(tmp.path, 'cmd-lab', 's1.cmd'), `vlan/create 20\nplugin/add ${join(tmp.path, 'evil.so')}\n`);
    await run('tar', ['-czf', join(labs, 'cmd.tgz'), '-C', join(tmp.path, 'cmd-lab'), 'topology', 's1.cmd']);
    const up = await qemunet(['up', join(tmp.path, 'w.topo'), '--wait', '-K', '--session', dir, '--boot-limit', '600', '--timeout', '600'], { timeoutMs: 600000 });
    assert.equal(up.code, 0, up.stderr);
    ({ web, url } = await startQemunetWeb(['--session', dir, '--labs', labs]));
    token = /#token=(.+)$/.exec(url)![1]!;
    origin = new URL(url).origin;
  });
  after(async () => {
    await browser?.close();
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
    web?.kill('SIGTERM');
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test("the switch console: every host-side command in every prefix form is refused, and the switch lives on", async () => {
    const marker = join(tmp.path, 'plugin-ran');
    const library = join(tmp.path, 'evil.so');
    await writeFile(join(tmp.path, 'evil.c'), `#include <stdio.h>\n__attribute__((constructor)) static void ran(void) { FILE *f = fopen("${marker}", "w"); if (f) fclose(f); }\n`);
    await run('cc', ['-shared', '-fPIC', '-o', library, join(tmp.path, 'evil.c')]);
    const script = join(tmp.path, 'stop-script');
    await writeFile(script, 'shutdown\n');
    const lines = [...HOST_SIDE_LINES.map(([line]) => line), `plugin/add${library}`, `plugin/add ${library}`, `load${script}`, `load ${script}`, `vlan/print${' '.repeat(118)}shutdown`];
    for (const command of lines) {
      const r = await api('/api/switch/command', { switch: 's1', command });
      const body = (await r.json()) as { code: string; message: string };
      assert.deepEqual([r.status, body.code], [400, 'SWITCH_COMMAND_REFUSED'], `${command}: ${body.message}`);
    }
    await assert.rejects(stat(marker), 'the shared object was never loaded');
    const vlans = await api('/api/switch/command', { switch: 's1', command: 'vlan/print' });
    assert.equal(vlans.status, 200, 'the switch still answers');
    assert.equal((await stateOf(dir))!.switches.find((s) => s.name === 's1')!.state, 'running');
  });

  test('no cookie reaches another local server, and nothing it could replay opens a door', async () => {
    // Another server on 127.0.0.1 (a dev server, another user's service): what the browser sends it.
    const seen: IncomingHttpHeaders[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<title>other</title>');
    });
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(graphHasHostA);
    assert.equal(await page.evaluate(() => (globalThis as unknown as Hooks).location.href), `${origin}/`, 'the token left the address bar');
    // A reload keeps the page logged in (sessionStorage), with no cookie anywhere.
    await page.reload();
    await page.waitForFunction(graphHasHostA);
    assert.deepEqual(await context.cookies(), []);
    const visit = await context.newPage();
    await visit.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    assert.equal(seen.length > 0, true);
    assert.deepEqual(seen.map((h) => h.cookie), seen.map(() => undefined), 'the other server got no cookie');
    // Replayed with this server's Origin, the other server's whole request opens nothing.
    const cookie = seen.find((h) => h.cookie)?.cookie;
    const replay = await api('/api/host/exec', { host: 'a', command: 'echo replayed' }, { Origin: origin, ...(cookie ? { Cookie: cookie } : {}) });
    assert.equal(replay.status, 401);
    const capture = (await (await api('/api/capture/command', { nic: 'a:eth0' })).json()) as { result: { command: string } };
    const [curlLine, ...hereDocument] = capture.result.command.split('\n');
    assert.equal(curlLine!.includes(token), false, "the token is not on curl's command line");
    assert.deepEqual(hereDocument, [`Authorization: Bearer ${token}`, 'EOF'], 'it is in a here-document, which the page already held');
    await context.close();
  });

  test('no process qemunet web starts has the token on its command line: the Wireshark command (curl) and --open (xdg-open, the browser)', async () => {
    const { result } = (await (await api('/api/capture/command', { nic: 'a:eth0' })).json()) as { result: { command: string } };
    // The command as the page gives it, pasted into a shell (its standard input, as a terminal gives
    // it), without its last stage (no Wireshark here): curl streams the pcap.
    const curl = spawn('sh', ['-s'], { stdio: ['pipe', 'ignore', 'ignore'] });
    curl.stdin!.end(`${result.command.replace(/ \| wireshark -k -i -\n/, ` > '${join(tmp.path, 'live.pcap')}'\n`)}\n`);
    children.push(curl);
    await eventually(async () => ((await stat(join(tmp.path, 'live.pcap')).catch(() => undefined))?.size ?? 0) >= 24 || undefined, 20000, 'the pcap header from curl');

    const serverFolders = async () => (await readdir(process.env.XDG_RUNTIME_DIR || tmpdir())).filter((f) => f.startsWith('qemunet-web-')).sort();
    const foldersBefore = await serverFolders();
    // --open through the real xdg-open, whose $BROWSER is Debian's chromium (headless here, with a debugging port).
    const profile = join(tmp.path, 'profile');
    const browserScript = join(tmp.path, 'browser');
    // Not exec'd, and exiting 0 when chromium is killed: xdg-open runs $BROWSER again after a browser that failed.
    await writeFile(browserScript, `#!/bin/sh\n${CHROMIUM} --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync --remote-debugging-port=0 --user-data-dir=${profile} "$1"\nexit 0\n`);
    await chmod(browserScript, 0o755);
    const opened = spawn(process.execPath, [QEMUNET, 'web', '--session', dir, '--port', '0', '--open'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BROWSER: browserScript, DISPLAY: '' } });
    children.push(opened);
    const openedUrl = await new Promise<string>((resolve) => opened.stdout!.on('data', (d: Buffer) => /qemunet web: (http\S+)/.exec(d.toString()) && resolve(/qemunet web: (http\S+)/.exec(d.toString())![1]!)));
    const openedToken = new URL(openedUrl).hash.slice('#token='.length);
    const devtools = await eventually(async () => (await readFile(join(profile, 'DevToolsActivePort'), 'utf8').catch(() => '')).split('\n')[0] || undefined, 30000, 'chromium started by xdg-open');
    const cdp = await chromium.connectOverCDP(`http://127.0.0.1:${devtools}`);
    try {
      const page = await eventually(() => cdp.contexts().flatMap((c) => c.pages()).find((p) => p.url().startsWith(new URL(openedUrl).origin)), 30000, 'the page, forwarded to qemunet web');
      await page.waitForFunction(graphHasHostA);
      assert.equal(page.url(), `${new URL(openedUrl).origin}/`);
      const leaks = (await commandLines()).filter((p) => p.cmdline.includes(token) || p.cmdline.includes(openedToken));
      assert.deepEqual(leaks, [], 'a command line with a token');
      assert.ok((await commandLines()).some((p) => p.cmdline.includes(`--user-data-dir=${profile}`)), 'the browser xdg-open started is running');
    } finally {
      await cdp.close();
      // Until none is left: the browser, its helpers, the wrapper, and xdg-open waiting on it.
      // The wrapper's last word is the page xdg-open was given, which names that xdg-open too.
      const pages = (await commandLines()).filter((p) => p.cmdline.includes(browserScript)).map((p) => p.cmdline.trim().split(' ').pop()!);
      const ours = async () => (await commandLines()).filter((p) => p.cmdline.includes(profile) || p.cmdline.includes(browserScript) || pages.some((page) => p.cmdline.includes(`xdg-open ${page}`)));
      await eventually(async () => {
        const left = await ours();
        for (const p of left) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        return left.length === 0 || undefined;
      }, 20000, 'the browser xdg-open started to be gone');
      opened.kill('SIGTERM');
      curl.kill('SIGTERM');
    }
    if (opened.exitCode === null && opened.signalCode === null) await new Promise((resolve) => opened.once('exit', resolve));
    assert.deepEqual(await serverFolders(), foldersBefore, 'the stopped server removed its private folder (open.html, auth-header)');
  });

  test('raw requests: a malformed target on an upgrade is a 400 and the server lives on; bad bodies are 400s; concurrent captures all succeed', async () => {
    const raw = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--request-target', 'http://[/ws/events', '-H', `Authorization: Bearer ${token}`, '-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `${origin}/`]).catch((e: Error & { stdout?: string }) => ({ stdout: e.stdout ?? e.message }));
    assert.equal(raw.stdout, '400');
    assert.equal(web.exitCode, null, 'qemunet web is still running');
    assert.equal((await api('/api/session')).status, 200);
    const notJson = await fetch(`${origin}/api/host/exec`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{"host": "a", "command":' });
    assert.deepEqual([notJson.status, ((await notJson.json()) as { message: string }).message], [400, 'the request body is not JSON']);
    // The live capture of the Wireshark test above still runs (its curl is killed at the end): its file stays.
    const captureFiles = async () => (await readdir(dir)).filter((f) => f.startsWith('.capture-') || f.startsWith('.web-capture')).sort();
    const filesBefore = await captureFiles();
    const captures = await Promise.all(Array.from({ length: 12 }, () => api('/api/capture/file', { nic: 'a:eth0', seconds: 1 })));
    assert.deepEqual(captures.map((r) => r.status), captures.map(() => 200));
    for (const r of captures) assert.equal(Buffer.from(await r.arrayBuffer()).readUInt32LE(0), 0xa1b2c3d4, 'a pcap file');
    assert.deepEqual(await captureFiles(), filesBefore, 'no capture file of these left');
  });

  test('names a request gives are the session\'s to refuse: unknown host, NIC or switch, each with its code, and nothing changes', async () => {
    const refusal = async (path: string, body: unknown) => {
      const r = await api(path, body);
      const reply = (await r.json()) as { code: string; message: string };
      return `${r.status} ${reply.code}`;
    };
    assert.equal(await refusal('/api/nic/link', { nic: 'a:eth7', up: false }), '400 UNKNOWN_NIC');
    assert.equal(await refusal('/api/nic/link', { nic: 'a:eth999', up: false }), '400 UNKNOWN_NIC');
    assert.equal(await refusal('/api/nic/faults', { nic: 'zz:eth0', faults: { delay: '5ms' } }), '400 UNKNOWN_HOST');
    assert.equal(await refusal('/api/capture/live', { nic: 'a:eth3' }), '400 UNKNOWN_NIC');
    assert.equal(await refusal('/api/host/exec', { host: 'zz', command: 'id' }), '400 UNKNOWN_HOST');
    assert.equal(await refusal('/api/host/power', { host: 'zz', power: 'off' }), '400 UNKNOWN_HOST');
    assert.equal(await refusal('/api/switch/vlans', { switch: 's9' }), '400 UNKNOWN_SWITCH');
    assert.equal(await refusal('/api/nic/link', { nic: 'a:eth0/../x', up: false }), '400 BAD_REQUEST');
    const state = (await stateOf(dir))!;
    assert.deepEqual([state.phase, state.hosts[0]!.state], ['running', 'ready']);
  });

  test('labs from the page: a TAP line is refused with where and why; a failed start leaves no directory', async () => {
    const before = (await readdir(tmpdir())).filter((f) => f.startsWith('qemunet-tap-') || f.startsWith('qemunet-broken-'));
    const tap = await api('/api/labs/start', { file: 'tap.topo' });
    const tapBody = (await tap.json()) as { code: string; message: string };
    assert.equal(tap.status, 409);
    assert.match(tapBody.message, new RegExp(`${join(labs, 'tap.topo').replace(/[/.]/g, '\\$&')}:3:1: TAP qntap9 would plug a tap interface of this machine into s1 with the address 10\\.99\\.0\\.254/24, and a lab started from the web page may not change this machine's network; start this lab from the command line: qemunet up `));
    const broken = await api('/api/labs/start', { file: 'broken.topo' });
    assert.equal(broken.status, 409);
    const after = (await readdir(tmpdir())).filter((f) => f.startsWith('qemunet-tap-') || f.startsWith('qemunet-broken-'));
    assert.deepEqual(after, before, 'no session directory left by the failed starts');
    assert.equal((await run('ip', ['link', 'show', 'qntap9']).catch(() => undefined)), undefined, 'no tap made');
  });

  test("labs from the page: a lab archive's .cmd file may not reach the switch's host-side commands either", async () => {
    await stat(join(tmp.path, 'evil.so')); // made by the switch console test
    const marker = join(tmp.path, 'plugin-ran');
    const start = await api('/api/labs/start', { file: 'cmd.tgz' });
    const body = (await start.json()) as { code: string; message: string };
    assert.equal(start.status, 409, body.message);
    assert.match(body.message, /s1\.cmd:2: "plugin\/add" runs vde_switch's "plugin\/add", which acts on the machine, not the lab/);
    await assert.rejects(stat(marker), 'the shared object was never loaded');
  });
});
