import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressScripts, qemunet } from '../test/helpers/cli.js';

type Print = (line: string) => void;

const IPERF_SECONDS = 5;
const PINGS = 20;

interface WireFigures {
  /** Processes whose command line names the session directory (QEMU, switches, plugs, wirefilters). */
  processes: number;
  rttMs: number;
  mbps: number;
  load: string;
  /** For the live wire: from `qemunet link b:eth0 --delay 0ms` to its answer (the wirefilter in place). */
  insertMs?: number;
}

/**
 * What a wirefilter on every NIC costs (`up --wire-all`, and `up --web`, which implies it, so that
 * faults can be set live on any link from the page): the same two-host lab started without and with
 * it, as a user starts it, compared on processes, ping RTT and iperf3 throughput between the guests;
 * and a plain session where one NIC gets its wirefilter live, when its faults are first set.
 */
export async function benchWireAll(print: Print): Promise<unknown> {
  const root = await mkdtemp(join(tmpdir(), 'qemunet-bench-wire-'));
  try {
    await writeFile(join(root, 'two.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    const plain = await measure(root, 'plain', []);
    const wired = await measure(root, 'wired', ['--wire-all']);
    // A plain session whose NIC b:eth0 gets its wirefilter when faults are first set (one NIC wired).
    const live = await measure(root, 'live', [], async (dir) => {
      const t0 = performance.now();
      const r = await qemunet(['link', 'b:eth0', '--delay', '0ms', '--session', dir]);
      if (r.code !== 0) throw new Error(`link b:eth0: ${r.stderr}`);
      return performance.now() - t0;
    });
    print(
      `wire-all, two tiny hosts on one switch (TCG): processes ${plain.processes} -> ${wired.processes}; ` +
        `ping RTT avg of ${PINGS} ${plain.rttMs.toFixed(2)} -> ${wired.rttMs.toFixed(2)} ms; ` +
        `iperf3 ${IPERF_SECONDS} s ${plain.mbps.toFixed(0)} -> ${wired.mbps.toFixed(0)} Mbit/s (${(wired.mbps / plain.mbps).toFixed(2)}x); load ${plain.load} / ${wired.load}`,
    );
    print(
      `live wire on b:eth0 of a plain session, put in by its first faults in ${live.insertMs!.toFixed(0)} ms: processes ${plain.processes} -> ${live.processes}; ` +
        `ping RTT ${plain.rttMs.toFixed(2)} -> ${live.rttMs.toFixed(2)} ms; iperf3 ${plain.mbps.toFixed(0)} -> ${live.mbps.toFixed(0)} Mbit/s (${(live.mbps / plain.mbps).toFixed(2)}x); load ${live.load}`,
    );
    return { plain, wired, live };
  } finally {
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  }
}

async function measure(root: string, name: string, flags: string[], prepare?: (dir: string) => Promise<number>): Promise<WireFigures> {
  const dir = join(root, name);
  await addressScripts(dir, { a: '10.9.0.1/24', b: '10.9.0.2/24' });
  const up = await qemunet(['up', join(root, 'two.topo'), '--wait', '-K', '--session', dir, ...flags], { timeoutMs: 600000 });
  if (up.code !== 0) throw new Error(`up ${flags.join(' ')} failed: ${up.stderr}`);
  try {
    const sh = async (host: string, command: string) => {
      const r = await qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command], { timeoutMs: 120000 });
      if (r.code !== 0) throw new Error(`${command}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    const insertMs = prepare ? await prepare(dir) : undefined;
    await sh('b', 'ping -c 3 -W 5 10.9.0.1 >/dev/null');
    const processes = await processesNaming(dir);
    const ping = await sh('b', `ping -c ${PINGS} -i 0.2 10.9.0.1`);
    const rttMs = Number(/= [\d.]+\/([\d.]+)\//.exec(ping)?.[1]);
    await sh('a', 'iperf3 -s -D');
    const out = JSON.parse(await sh('b', `iperf3 -c 10.9.0.1 -t ${IPERF_SECONDS} -J`)) as { end: { sum_received: { bits_per_second: number } } };
    return { processes, rttMs, mbps: out.end.sum_received.bits_per_second / 1e6, load: loadavg()[0]!.toFixed(1), ...(insertMs !== undefined ? { insertMs } : {}) };
  } finally {
    await qemunet(['down', '--session', dir]);
  }
}

async function processesNaming(dir: string): Promise<number> {
  let n = 0;
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir)) n++;
  }
  return n;
}
