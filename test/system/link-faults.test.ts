import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/process/run.js';
import { addressScripts, eventually, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';

/** Average RTT and loss of `count` pings from a to b. */
async function pings(exec: (h: string, c: string) => ReturnType<typeof qemunet>, count: number, interval = 0.05): Promise<{ avg: number; lossPct: number }> {
  // One ping first, so ARP is resolved before the measured ones.
  await exec('a', 'ping -c 1 -W 3 10.4.0.2');
  const r = await exec('a', `ping -c ${count} -i ${interval} -W 2 -q 10.4.0.2`);
  const loss = /(\d+)% packet loss/.exec(r.stdout);
  const avg = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  assert.ok(loss, r.stdout);
  return { avg: avg ? Number(avg[1]) : Infinity, lossPct: Number(loss[1]) };
}

describe('link faults: a wirefilter between a NIC and its switch (LINK lines, qemunet link)', { timeout: 600000 }, () => {
  const tmp = suiteDir('faults');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    await writeFile(join(tmp.path, 'f.topo'), 'SWITCH s1\nHUB h1\nHOST tiny a s1\nHOST tiny b s1\nHOST tiny c h1\nLINK a:eth0 delay=100ms\n');
    await addressScripts(dir, { a: '10.4.0.1/24', b: '10.4.0.2/24' });
    const r = await qemunet(['up', join(tmp.path, 'f.topo'), '--wait', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a 100 ms delay from the topology raises the RTT by at least 100 ms; 0 ms brings it back', async () => {
    const slow = await pings(exec, 5, 0.3);
    const shown = await qemunet(['link', 'a:eth0', '--session', dir]);
    assert.match(shown.stdout, /^Delay +L->R 100\+0U +R->L 100\+0U/m);
    await qemunet(['link', 'a:eth0', '--delay', '0ms', '--session', dir]);
    const fast = await pings(exec, 5, 0.3);
    assert.equal(slow.lossPct, 0);
    // The wirefilter delays both directions, so the RTT rises by about 200 ms.
    assert.ok(slow.avg - fast.avg >= 100, `RTT ${slow.avg} ms with the delay, ${fast.avg} ms without`);
  });

  test("a NIC with no LINK line gets a wirefilter live: b's 100 ms delay raises the RTT, b keeps its port, 0 ms brings it back", async () => {
    const processes = async () => (await run('pgrep', ['-fc', `^wirefilter -M ${dir}/`]).catch(() => ({ stdout: '0' }))).stdout.trim();
    assert.equal(await processes(), '1', "only a's wirefilter (its LINK line)");
    await qemunet(['link', 'a:eth0', '--delay', '0ms', '--session', dir]);
    const fast = await pings(exec, 5, 0.3);
    const set = await qemunet(['link', 'b:eth0', '--delay', '100ms', '--session', dir]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^Delay +L->R 100\+0U +R->L 100\+0U/m);
    assert.equal(await processes(), '2');
    const slow = await pings(exec, 5, 0.3);
    assert.equal(slow.lossPct, 0);
    assert.ok(slow.avg - fast.avg >= 100, `RTT ${slow.avg} ms with the delay, ${fast.avg} ms without`);
    // The NIC stays on its QemuNet port; the switch now splits it off through the wirefilter's two ports.
    assert.match((await qemunet(['status', '--session', dir])).stdout, /^b\s+ready.*eth0=s1:2/m);
    const vlans = (await qemunet(['switch', 's1', '--session', dir, '--', 'vlan/allprint'])).stdout;
    assert.match(vlans, /VLAN 4093\s+-- Port 0002 tagged=0 active=1[^]*-- Port 0063 tagged=0 active=1/);
    // A crashed and restarted b plugs into its port afresh: still behind its wirefilter.
    const pid = (await stateOf(dir))!.hosts.find((h) => h.name === 'b')!.pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(async () => ((await stateOf(dir))!.hosts.find((h) => h.name === 'b')!.state === 'crashed' ? true : undefined), 30000, 'b crashed');
    const restarted = await qemunet(['restart', 'b', '--session', dir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    await eventually(async () => ((await stateOf(dir))!.hosts.find((h) => h.name === 'b')!.state === 'ready' ? true : undefined), 300000, 'b ready again');
    const again = await pings(exec, 5, 0.3);
    assert.ok(again.avg - fast.avg >= 100, `after the restart: RTT ${again.avg} ms with the delay, ${fast.avg} ms without`);
    // Set again: the same wirefilter, no second one.
    await qemunet(['link', 'b:eth0', '--delay', '0ms', '--session', dir]);
    assert.equal(await processes(), '2');
    const back = await pings(exec, 5, 0.3);
    assert.ok(back.avg < slow.avg - 100, `RTT ${back.avg} ms after, ${slow.avg} ms with the delay`);
  });

  test('30 % loss, set live: the loss of 100 pings lies within 4 standard deviations of 51 %', async () => {
    await qemunet(['link', 'a:eth0', '--loss', '30%', '--session', dir]);
    // A ping needs its request and its reply to pass, each lost with p = 0.3: P(loss) = 1 - 0.7^2 = 0.51,
    // sd over 100 pings = sqrt(100 x 0.51 x 0.49) = 5 points; 31..71 % fails a correct filter 1 time in 15,000.
    const { lossPct } = await pings(exec, 100);
    assert.ok(lossPct >= 31 && lossPct <= 71, `loss ${lossPct} %`);
    await qemunet(['link', 'a:eth0', '--loss', '0', '--session', dir]);
    assert.equal((await pings(exec, 10)).lossPct, 0);
  });

  test('bad values are refused, naming what is allowed', async () => {
    const bad = await qemunet(['link', 'a:eth0', '--loss', '200%', '--session', dir]);
    assert.deepEqual([bad.code, bad.stderr], [1, 'qemunet: loss=200%: write a percentage from 0 to 100, like 10%\n']);
    const delay = await qemunet(['link', 'a:eth0', '--delay', 'soon', '--session', dir]);
    assert.deepEqual([delay.code, delay.stderr], [1, 'qemunet: delay=soon: write milliseconds, like 40ms or 40ms+10ms (with jitter)\n']);
    const hub = await qemunet(['link', 'c:eth0', '--delay', '5ms', '--session', dir]);
    assert.deepEqual([hub.code, hub.stderr], [1, 'qemunet: c:eth0 is on hub h1, which has no VLANs to put a wirefilter in while it runs; add "LINK c:eth0" to the topology, or start the session with --wire-all\n']);
    await writeFile(join(tmp.path, 'bad.topo'), 'SWITCH s1\nHOST tiny a s1\nLINK a:eth0 jitter=5ms\n');
    const topo = await qemunet(['up', join(tmp.path, 'bad.topo'), '--dry-run']);
    assert.deepEqual([topo.code, topo.stderr], [1, `qemunet: ${join(tmp.path, 'bad.topo')}:3:13: unknown link setting "jitter"; allowed: delay, loss, dup, bandwidth, mtu\n`]);
  });
});

describe('--wire-all: live faults on every NIC, with no LINK line', { timeout: 600000 }, () => {
  const tmp = suiteDir('wire-all');
  const dir = join(tmp.path, 's');
  const exec = (host: string, command: string) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command]);

  before(async () => {
    await writeFile(join(tmp.path, 'plain.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    await addressScripts(dir, { a: '10.4.0.1/24', b: '10.4.0.2/24' });
    const r = await qemunet(['up', join(tmp.path, 'plain.topo'), '--wait', '--wire-all', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test("a 100 ms delay set live on b's NIC raises the RTT; the switch port is still QemuNet's", async () => {
    const fast = await pings(exec, 5, 0.3);
    const set = await qemunet(['link', 'b:eth0', '--delay', '100ms', '--session', dir]);
    assert.equal(set.code, 0, set.stderr);
    const slow = await pings(exec, 5, 0.3);
    assert.equal(slow.lossPct, 0);
    assert.ok(slow.avg - fast.avg >= 100, `RTT ${slow.avg} ms with the delay, ${fast.avg} ms without`);
    const status = await qemunet(['status', '--session', dir]);
    assert.match(status.stdout, /^b\s+ready.*eth0=s1:2/m);
  });
});
