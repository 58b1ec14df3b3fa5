import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { run } from '../../src/process/run.js';
import { PcapReader } from '../../src/web/pcap-summary.js';
import type { SessionView } from '../../src/web/protocol.js';
import { addressScripts, alivePids, eventually, leftovers, qemunet, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';
import { launchChromium, startQemunetWeb } from '../helpers/web.js';


/** What the page gives tests (window.qemunet), and the bit of the DOM they use: this file is compiled without the DOM lib. */
interface Doc {
  document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number } } };
}
interface Graph {
  $id(id: string): { empty(): boolean; hasClass(c: string): boolean; renderedMidpoint(): { x: number; y: number }; renderedPosition(): { x: number; y: number } };
}
/** The page's hooks; functions run in the page must spell this out (they are sent as text). */
interface Hooks {
  qemunet?: { graph: Graph };
}

/** The page's action panels end to end in Debian's chromium, on a real session of two tiny VMs. */
describe('qemunet web actions in a browser', { timeout: 900000 }, () => {
  const tmp = suiteDir('webact');
  const dir = join(tmp.path, 's');
  const labs = join(tmp.path, 'labs');
  let web: ChildProcess;
  let url: string;
  let token: string;
  let browser: Browser;
  let page: Page;
  const started: string[] = [];
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);
  const api = (path: string, body?: unknown) =>
    fetch(new URL(path, url), { method: body === undefined ? 'GET' : 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  before(async () => {
    await writeFile(join(tmp.path, 'w.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    await mkdir(labs);
    await writeFile(join(labs, 'c.topo'), 'SWITCH s9\nHOST tiny c s9\n');
    await addressScripts(dir, { a: '10.7.0.1/24', b: '10.7.0.2/24' });
    const up = await qemunet(['up', join(tmp.path, 'w.topo'), '--wait', '-K', '--session', dir, '--boot-silence', '120', '--boot-limit', '600', '--timeout', '900'], { timeoutMs: 900000 });
    assert.equal(up.code, 0, up.stderr);
    ({ web, url } = await startQemunetWeb(['--session', dir, '--labs', labs]));
    token = /#token=(.+)$/.exec(url)![1]!;
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet !== undefined && !(globalThis as unknown as Hooks).qemunet!.graph.$id('host:b').empty());
  });
  after(async () => {
    await browser?.close();
    web?.kill('SIGTERM');
    for (const d of started) {
      await qemunet(['down', '--session', d]);
      await rm(d, { recursive: true, force: true });
    }
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  /** Clicks a node or an edge of the graph, where cytoscape draws it. */
  const clickGraph = async (id: string) => {
    const at = await page.evaluate((i) => {
      const e = (globalThis as unknown as Hooks).qemunet!.graph.$id(i);
      const p = i.startsWith('nic:') ? e.renderedMidpoint() : e.renderedPosition();
      const r = (globalThis as unknown as Doc).document.getElementById('graph').getBoundingClientRect();
      return { x: p.x + r.left, y: p.y + r.top };
    }, id);
    await page.mouse.click(at.x, at.y);
  };
  /** QEMUNET_WEB_SCREENSHOTS=DIR keeps a picture of each panel, to look at. */
  const picture = async (name: string) => {
    if (process.env.QEMUNET_WEB_SCREENSHOTS) await page.screenshot({ path: join(process.env.QEMUNET_WEB_SCREENSHOTS, `${name}.png`) });
  };
  const view = async (session?: string) => ((await (await api(`/api/session${session ? `?session=${encodeURIComponent(session)}` : ''}`)).json()) as { result: SessionView }).result;
  /** The session a page shows: the one its address names, else the server's first one. */
  const shownIn = (p: Page) => new URL(p.url()).searchParams.get('session') ?? dir;
  const hostsIn = (p: Page) => p.evaluate(() => (globalThis as unknown as { qemunet: { graph: { nodes(): { map<T>(f: (n: { id(): string }) => T): T[] } } } }).qemunet.graph.nodes().map((n) => n.id()).filter((id) => id.startsWith('host:')).sort());

  test('runs hostname in a host from the page and shows its output and exit status', async () => {
    await clickGraph('host:a');
    await page.fill('#exec-command', 'hostname; echo oops >&2; exit 3');
    await page.click('#exec-run');
    await page.waitForSelector('#exec-output[data-status="3"]');
    assert.equal(await page.textContent('#exec-output'), '$ hostname; echo oops >&2; exit 3\na\noops\n\nexit status 3');
    await picture('host');
  });

  test('a live packet list shows ICMP lines while a guest pings; the NIC is marked capturing meanwhile', async () => {
    await clickGraph('nic:a:eth0');
    await page.click('#act-live');
    await eventually(async () => ((await view()).hosts.find((h) => h.name === 'a')!.nics[0]!.capturing ? true : undefined), 10000, 'the capturing flag');
    assert.equal((await exec('a', 'ping -c 3 -i 0.3 -W 3 10.7.0.2')).code, 0);
    await page.waitForFunction(() => /IP 10\.7\.0\.2 > 10\.7\.0\.1: ICMP echo reply, id \d+, seq 2/.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('packet-list').textContent));
    const lines = await page.$$eval('#packet-list li', (items) => items.map((li) => li.textContent ?? ''));
    assert.ok(lines.some((l) => /^\d+\.\d{3} {2}IP 10\.7\.0\.1 > 10\.7\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/.test(l)), lines.join('\n'));
    await picture('capture');
    await page.click('#act-live');
    await eventually(async () => ((await view()).hosts.find((h) => h.name === 'a')!.nics[0]!.capturing ? undefined : true), 10000, 'the capturing flag to go');
  });

  test('the Wireshark command streams a pcap (run with curl instead of wireshark) holding the ICMP packets', async () => {
    await clickGraph('nic:b:eth0');
    await page.click('#act-wireshark');
    await page.waitForFunction(() => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('wireshark-command').textContent ?? '').includes('wireshark'));
    const command = (await page.textContent('#wireshark-command'))!;
    const [first, ...hereDocument] = command.split('\n');
    const [curl, wireshark] = first!.split(' | ');
    assert.equal(wireshark, 'wireshark -k -i -');
    assert.deepEqual(hereDocument, [`Authorization: Bearer ${token}`, 'EOF']);
    const pcap = join(tmp.path, 'live.pcap');
    // Pasted into a shell (its standard input), curl in Wireshark's place.
    const child = spawn('sh', ['-s'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin!.end(`exec ${curl} > ${pcap}\n${hereDocument.join('\n')}\n`);
    // The stream starts with the pcap header once QEMU captures: the pings come after it.
    await eventually(async () => ((await stat(pcap).catch(() => undefined))?.size ?? 0) >= 24 || undefined, 20000, 'the pcap header');
    assert.equal((await exec('a', 'ping -c 3 -i 0.3 -W 3 10.7.0.2')).code, 0);
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const texts = new PcapReader().push(await readFile(pcap)).map((p) => p.text);
    assert.ok(texts.some((t) => /^IP 10\.7\.0\.1 > 10\.7\.0\.2: ICMP echo request/.test(t)), texts.join('\n'));
    // The real reader agrees: tcpdump reads the stream as a pcap file.
    const dump = await run('tcpdump', ['-nr', pcap]);
    assert.match(dump.stdout, /IP 10\.7\.0\.2 > 10\.7\.0\.1: ICMP echo reply/);
  });

  test('the VLAN table shows a VLAN created from the management console', async () => {
    await clickGraph('sw:s1');
    await page.fill('#switch-command', 'vlan/create 42');
    await page.click('#switch-run');
    await page.waitForSelector('#switch-output[data-code="1000"]');
    assert.equal(await page.textContent('#switch-output'), 'vde$ vlan/create 42\n1000 Success');
    await page.click('#switch-vlans');
    await page.waitForSelector('#vlan-table tr[data-vlan="42"]');
    await picture('switch');
    await page.fill('#switch-command', 'load/etc/passwd');
    await page.click('#switch-run');
    await page.waitForFunction(() => /"load\/etc\/passwd" runs vde_switch's "load", which acts on the machine, not the lab/.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('switch-output').textContent));
  });

  test('power off then on a host from the page: stopped, then ready again', async () => {
    await clickGraph('host:b');
    await page.click('#act-power-off');
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet!.graph.$id('host:b').hasClass('stopped'), undefined, { timeout: 60000 });
    assert.equal((await view()).hosts.find((h) => h.name === 'b')!.state, 'stopped');
    await page.click('#act-power-on');
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet!.graph.$id('host:b').hasClass('ready'), undefined, { timeout: 300000 });
    assert.equal((await exec('b', 'hostname')).stdout.trim(), 'b');
  });

  test('restart a running host from the page: a new VM on the same port, ready again', async () => {
    const pidOfB = async () => (await stateOf(dir))!.hosts.find((h) => h.name === 'b')!.pid;
    const old = await pidOfB();
    await clickGraph('host:b');
    await page.click('#act-power-restart');
    // The page says the outcome: done, or the refusal in red.
    await page.waitForSelector('#message.error, #message:text-is("b restarted")', { timeout: 120000 });
    assert.equal(await page.textContent('#message'), 'b restarted');
    const now = await eventually(async () => {
      const h = (await stateOf(dir))!.hosts.find((x) => x.name === 'b')!;
      return h.state === 'ready' && h.pid !== old ? h.pid : undefined;
    }, 300000, 'b ready again in a new VM');
    assert.deepEqual(alivePids([old!]), [], 'the old VM is gone');
    assert.ok(now);
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet!.graph.$id('host:b').hasClass('ready'), undefined, { timeout: 30000 });
    // Still on its switch port: a reaches it.
    assert.equal((await exec('a', 'ping -c 1 -W 10 10.7.0.2 >/dev/null || ping -c 1 -W 10 10.7.0.2 >/dev/null; echo $?')).stdout.trim(), '0');
  });

  test('save downloads a valid archive holding the topology', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }), page.click('#save-session')]);
    const file = join(tmp.path, 'saved.tgz');
    await download.saveAs(file);
    const list = (await run('tar', ['-tzf', file])).stdout.split('\n');
    assert.ok(list.includes('topology'), list.join(' '));
    assert.ok(list.includes('a.qcow2') && list.includes('b.qcow2'), list.join(' '));
  });

  test('--labs lists the folder and starts a topology from it; a ../ path is refused and starts nothing', async () => {
    const refused = await api('/api/labs/start', { file: '../w.topo' });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), { ok: false, code: 'BAD_REQUEST', message: 'bad labStart request: file: "../w.topo" is not a file of the labs folder: give its plain name, without a folder; send a body like {"file":"lan.topo"}' });
    await page.click('#sessions-open');
    await page.waitForSelector(`#sessions-list tr[data-dir="${dir}"]`);
    await page.waitForSelector('#labs-list tr[data-file="c.topo"]');
    assert.equal((await view()).dir, dir, 'still the same session');
    await picture('sessions');
    await page.click('#labs-list tr[data-file="c.topo"] button');
    // The page shows the new session once it runs (it goes to ?session=ITS_DIR).
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet !== undefined && !(globalThis as unknown as Hooks).qemunet!.graph.$id('host:c').empty(), undefined, { timeout: 180000 });
    const now = await view(shownIn(page));
    started.push(now.dir);
    assert.notEqual(now.dir, dir);
    assert.deepEqual(now.hosts.map((h) => h.name), ['c']);
    assert.equal((await view()).dir, dir, 'a request naming no session still gets the first one');
  });

  test('two browser contexts show two different sessions; choosing one in a page moves no other page', async () => {
    const second = started[0]!;
    const [one, two] = await Promise.all([browser.newContext(), browser.newContext()]);
    const [p1, p2] = await Promise.all([one.newPage(), two.newPage()]);
    const drawn = (p: Page, host: string) => p.waitForFunction((h) => (globalThis as unknown as Hooks).qemunet !== undefined && !(globalThis as unknown as Hooks).qemunet!.graph.$id(h).empty(), `host:${host}`, { timeout: 30000 });
    await Promise.all([p1.goto(url), p2.goto(url)]);
    await Promise.all([drawn(p1, 'a'), drawn(p2, 'a')]);
    // The second browser chooses the lab's session in its sessions list.
    await p2.click('#sessions-open');
    await p2.click(`#sessions-list tr[data-dir="${second}"] button`);
    await drawn(p2, 'c');
    assert.equal(shownIn(p2), second);
    // Its console reaches that session's host (once it has booted: the lab was just started).
    await eventually(async () => ((await view(second)).hosts[0]?.state === 'ready' ? true : undefined), 300000, 'c ready');
    await p2.click('#open-all');
    await p2.click('.terminal-box[data-host="c"]');
    // Ready comes from the guest agent, which may answer before the console's shell prompts (and the
    // kernel's banner already holds a '#'): what is typed before the shell reads is lost, so type again.
    await eventually(async () => {
      await p2.keyboard.type('hostname\n');
      const shown = await p2
        .waitForFunction(() => /# hostname\n+c\n/.test((globalThis as unknown as { qemunet: { consoleText(h: string): string | undefined } }).qemunet.consoleText('c') ?? ''), undefined, { timeout: 5000 })
        .then(() => true, () => undefined);
      return shown;
    }, 90000, "c's shell to answer hostname in the page");
    // The first browser still shows the first session, also after a reload; the second keeps its own.
    await p1.reload();
    await drawn(p1, 'a');
    await p2.reload();
    await drawn(p2, 'c');
    assert.deepEqual([await hostsIn(p1), await hostsIn(p2)], [['host:a', 'host:b'], ['host:c']]);
    assert.deepEqual([await p1.textContent('#session'), await p2.textContent('#session')], [dir, second]);
    // Choosing the first session in the first page's list is a no-op for the second.
    await p1.click('#sessions-open');
    await p1.waitForSelector(`#sessions-list tr[data-dir="${dir}"] span`);
    assert.equal(await p1.textContent(`#sessions-list tr[data-dir="${dir}"] td:last-child`), 'shown');
    await Promise.all([one.close(), two.close()]);
  });
  test('stop from the page ends the session: every VM, switch and helper gone', async () => {
    const before = (await stateOf(dir))!;
    // The page went to the lab's session above: back to the first one, which it shows by default.
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as Hooks).qemunet !== undefined && !(globalThis as unknown as Hooks).qemunet!.graph.$id('host:b').empty());
    assert.equal(await page.textContent('#session'), dir);
    page.once('dialog', (d) => void d.accept());
    await page.click('#stop');
    await eventually(async () => ((await stateOf(dir))?.phase === 'stopped' ? true : undefined), 120000, 'the session stopped');
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('phase').textContent === 'stopped', undefined, { timeout: 30000 });
    await eventually(() => (alivePids(sessionPids(before)).length === 0 ? true : undefined), 30000, 'no process of the session left');
    // The web server stays: it serves the labs folder and the other sessions.
    assert.deepEqual((await leftovers(dir)).filter((p) => !p.startsWith(`${web.pid}: `)), []);
    assert.equal(web.exitCode, null);
  });
});
