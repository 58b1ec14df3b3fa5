import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addressScripts, alivePids, leftovers, qemunet, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** The test suite's larger lab (the 100-host one is a benchmark: bench/scale.bench.ts). */
const HOSTS = 16;

describe(`${HOSTS} tiny hosts on one switch`, { timeout: 1_200_000 }, () => {
  const tmp = suiteDir('sixteen');
  const dir = join(tmp.path, 's');
  const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
  const names = Array.from({ length: HOSTS }, (_, i) => `h${i + 1}`);
  const address = (i: number) => `10.0.0.${i + 1}`;

  before(async () => {
    await tinyImage();
    const topology = join(tmp.path, 'sixteen.topo');
    await writeFile(topology, ['SWITCH s1', ...names.map((h) => `HOST tiny ${h} s1`)].join('\n') + '\n');
    await addressScripts(dir, Object.fromEntries(names.map((h, i) => [h, `${address(i)}/24`])));
    const r = await qemunet(['up', topology, '--wait', '--timeout', '1000', '-K', '--display', 'none', '--session', dir], { cwd: tmp.path, env, timeoutMs: 1_100_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await qemunet(['down', '--session', dir], { env });
    await tmp.remove();
  });

  test('every host is ready', async () => {
    const state = (await stateOf(dir))!;
    assert.deepEqual(state.hosts.map((h) => [h.name, h.state]), names.map((h) => [h, 'ready']));
  });

  test('the first host pings every other one, and the last one pings the first', async () => {
    const others = names.slice(1).map((_, i) => address(i + 1));
    // Two tries of one ping each: a frame lost on a machine loaded by 16 booting guests is no defect;
    // a host that is not reachable fails both, and its addresses are shown.
    const r = await qemunet(['exec', 'h1', '--session', dir, '--', 'sh', '-c', `for ip in ${others.join(' ')}; do ping -c 1 -W 10 $ip >/dev/null || ping -c 1 -W 10 $ip >/dev/null || { echo "no answer from $ip"; exit 1; }; done; echo all-answered`], { env });
    const silent = /no answer from 10\.0\.0\.(\d+)/.exec(r.stdout)?.[1];
    // A silent host's view, and the switch's: which port learned which MAC (a plug cross-wired by
    // vde_switch once showed as one host's MAC on another's port: see src/switch/ctl-ballast.ts).
    const its = silent
      ? (await qemunet(['exec', `h${silent}`, '--session', dir, '--', 'sh', '-c', 'ip -br addr; ip neigh; ip -s link show eth0'], { env })).stdout +
        (await qemunet(['switch', 's1', '--session', dir, '--', 'hash/print'], { env })).stdout
      : '';
    assert.equal(r.stdout.trim(), 'all-answered', `${r.stderr}\n${its}`);
    const back = await qemunet(['exec', names.at(-1)!, '--session', dir, '--', 'ping', '-c', '1', '-W', '10', address(0)], { env });
    assert.equal(back.code, 0, back.stdout + back.stderr);
  });

  test('down leaves nothing running', async () => {
    const before = (await stateOf(dir))!;
    const r = await qemunet(['down', '--session', dir], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(alivePids(sessionPids(before)), []);
    assert.deepEqual(await leftovers(dir), []);
  });
});
