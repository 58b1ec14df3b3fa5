import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up } from '../src/lab/driver/up.js';

/**
 * A UML host against a QEMU host (TCG) on the built-in image: boot-to-ready through qemunet's `up`
 * (the host's readyMs: its agent answered), and the host's memory as the sum of the PSS of its
 * processes once ready (QEMU: the qemu process; UML: bwrap and every UML process of its jail, which
 * share UML's memory file; PSS counts a shared page once over them).
 */
type Print = (line: string) => void;
const RUNS = 3;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function pssKiB(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
}

/** The pid and its descendants (UML's processes are bwrap's). */
async function tree(root: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parent.set(Number(p), ppid);
  }
  const out = [root];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) if (out.includes(ppid) && !out.includes(pid)) (out.push(pid), (grew = true));
  }
  return out;
}

async function oneRun(system: string): Promise<{ readyMs: number; pssKiB: number; processes: number }> {
  const root = await mkdtemp(join(tmpdir(), 'qn-umlbench-'));
  const topo = join(root, 'one.topo');
  await writeFile(topo, `SWITCH s1\nHOST ${system} h1 s1\n`);
  const lab = await up({ topologyFile: topo, sessionDir: join(root, 's'), accel: false, display: 'none', sessionLink: false, cwd: root, env: { ...process.env, QEMUNET_STATE_DIR: join(root, 'state') } });
  try {
    await lab.waitReady(180000);
    const h = lab.state().hosts[0]!;
    const pids = await tree(h.pid!);
    const pss = (await Promise.all(pids.map(pssKiB))).reduce((a, b) => a + b, 0);
    return { readyMs: h.readyMs! - (h.startedMs ?? 0), pssKiB: pss, processes: pids.length };
  } finally {
    await lab.stop({ hard: true });
    await rm(root, { recursive: true, force: true });
  }
}

export async function benchUml(print: Print) {
  const result: Record<string, { readyMs: number; pssMiB: number; runs: Array<{ readyMs: number; pssKiB: number; processes: number }> }> = {};
  for (const system of ['tiny-uml', 'tiny']) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await oneRun(system));
    result[system] = { readyMs: median(runs.map((r) => r.readyMs)), pssMiB: median(runs.map((r) => r.pssKiB)) / 1024, runs };
    print(`${system.padEnd(9)} boot to ready ${(result[system].readyMs / 1000).toFixed(1)} s, memory (PSS) ${result[system].pssMiB.toFixed(0)} MiB (median of ${RUNS}; ${runs.map((r) => `${(r.readyMs / 1000).toFixed(1)} s/${(r.pssKiB / 1024).toFixed(0)} MiB`).join(', ')})`);
  }
  return result;
}
