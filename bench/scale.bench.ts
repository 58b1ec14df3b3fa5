import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../src/lab/driver/lab.js';
import { TINY_TCG_CACHE_MIB } from '../src/lab/plan.js';
import { dryRun, up, type UpRequest } from '../src/lab/driver/up.js';
import { processAlive } from '../src/process/alive.js';
import { KSM_RUN_FILE } from '../src/vm/ksm.js';
import { launchSwitch } from '../src/switch/launch.js';
import { vdeSwitchArgv } from '../src/switch/vde-argv.js';
import { GuestAgent } from '../src/vm/guest-agent.js';
import { launchVm, type RunningVm } from '../src/vm/launch.js';
import { overlayOn, tinyVmSpec } from '../test/helpers/tiny.js';

/**
 * Issue 14's figures, side by side: VMs per GiB (PSS) with each memory lever on and off, 64 hosts'
 * spawn time against a shell script, a 100-host lab, iperf3 through a switch against a direct link.
 * QEMUNET_BENCH_SCALE=memory,spawn,... runs some parts only (the 100-host lab takes minutes).
 * The machine may be shared: each figure comes with the load average it was measured under.
 */
type Print = (line: string) => void;
const CORES = availableParallelism();
const TICKS_PER_SECOND = 100;
const PARTS = (process.env.QEMUNET_BENCH_SCALE ?? 'memory,spawn,switch,lab100').split(',');

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(1);
const mib = (kib: number) => kib / 1024;

function statFields(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}
const startedAtMs = (pid: number) => (Number(statFields(pid)[19]) * 1000) / TICKS_PER_SECOND;
const uptimeMs = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;

/** Proportional set size: a page shared by N processes counts 1/N in each. */
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return 0; // gone since it was listed
  }
}

/** The processes whose argv names a path under `dir` (QEMU's argv[0] is renamed by -name process=). */
function processesUnder(dir: string, program = /./): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length && program.test(basename(argv[0]!)) && argv.some((a) => a.includes(dir))) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

function killUnder(dir: string): number {
  const pids = processesUnder(dir);
  pids.forEach((pid) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return pids.length;
}

async function writeTopology(dir: string, hosts: number, perSwitch = 16): Promise<string> {
  const switches = Math.ceil(hosts / perSwitch);
  const lines = [`# ${hosts} tiny hosts on ${switches} switches (qemunet scale bench)`];
  for (let s = 1; s <= switches; s++) lines.push(`SWITCH s${s}`);
  for (let h = 1; h <= hosts; h++) lines.push(`HOST tiny h${h} s${Math.ceil(h / perSwitch)}`);
  const file = join(dir, `hosts-${hosts}.topo`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

function request(root: string, topologyFile: string, sessionDir: string, env: NodeJS.ProcessEnv = {}): UpRequest {
  return {
    topologyFile,
    sessionDir,
    accel: false,
    display: 'none',
    sessionLink: false,
    cwd: root,
    env: { ...process.env, QEMUNET_STATE_DIR: join(root, 'state'), ...env },
  };
}

// ---------------------------------------------------------------- memory

interface Lever {
  label: string;
  tcgCacheMiB?: number;
  freePageReporting?: boolean;
  ksm: boolean;
}

const LEVERS: Lever[] = [
  { label: 'none (QEMU defaults: 1 GiB TCG cache, no balloon, KSM off)', ksm: false },
  { label: `TCG cache ${TINY_TCG_CACHE_MIB} MiB`, tcgCacheMiB: TINY_TCG_CACHE_MIB, ksm: false },
  { label: 'free page reporting', freePageReporting: true, ksm: false },
  { label: 'KSM', ksm: true },
  { label: `all (qemunet's tiny: cache ${TINY_TCG_CACHE_MIB} MiB, free page reporting, KSM)`, tcgCacheMiB: TINY_TCG_CACHE_MIB, freePageReporting: true, ksm: true },
  // KSM is on only when the user allows it (QEMUNET_KSM): this row is what a user gets by default.
  { label: `qemunet's default without KSM (cache ${TINY_TCG_CACHE_MIB} MiB, free page reporting)`, tcgCacheMiB: TINY_TCG_CACHE_MIB, freePageReporting: true, ksm: false },
  { label: 'all, with a 16 MiB TCG cache', tcgCacheMiB: 16, freePageReporting: true, ksm: true },
  { label: 'cache 16 MiB and free page reporting, no KSM', tcgCacheMiB: 16, freePageReporting: true, ksm: false },
];
const MEMORY_VMS = Number(process.env.QEMUNET_BENCH_VMS ?? 16);
/** Idle time after every guest is ready: KSM scans a few hundred MiB a second at the rate set below; without KSM, free page reporting needs seconds. */
const idleMs = (lever: Lever) => (lever.ksm ? 60_000 : 20_000);

/** 16 idle tiny VMs with one set of levers: their summed PSS once idle. */
async function memoryRun(root: string, lever: Lever, ksmWas: string) {
  const dir = await mkdtemp(join(root, 'mem-'));
  const vms: RunningVm[] = [];
  await writeFile(KSM_RUN_FILE, lever.ksm ? '1' : ksmWas === '1' ? '2' : ksmWas);
  try {
    for (let i = 0; i < MEMORY_VMS; i++) {
      const name = `m${i}`;
      await overlayOn(tinyBase(), join(dir, `${name}.qcow2`));
      const spec = await tinyVmSpec(dir, name, {
        accel: 'tcg',
        ...(lever.tcgCacheMiB ? { tcgCacheMiB: lever.tcgCacheMiB } : {}),
        ...(lever.freePageReporting ? { freePageReporting: true } : {}),
      });
      vms.push(await launchVm(spec, { logFile: join(dir, `${name}.log`) }));
    }
    const t0 = performance.now();
    await Promise.all(vms.map((vm) => vm.waitReady().then((a) => a.close())));
    const readyMs = performance.now() - t0;
    await sleep(idleMs(lever));
    const pss = vms.map((vm) => pssKiB(vm.pid));
    const totalMiB = mib(pss.reduce((a, b) => a + b, 0));
    return { lever: lever.label, vms: vms.length, readyMs, pssPerVmMiB: totalMiB / vms.length, vmsPerGiB: (1024 * vms.length) / totalMiB, load: load() };
  } finally {
    await Promise.all(vms.map((vm) => vm.kill()));
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

let baseImage = '';
const tinyBase = () => baseImage;

async function memory(root: string, print: Print) {
  baseImage = (await import('../test/helpers/tiny.js').then((m) => m.tinyImage())).fs;
  const ksmWas = readFileSync(KSM_RUN_FILE, 'utf8').trim();
  const scanWas = readFileSync(KSM_RUN_FILE.replace(/run$/, 'pages_to_scan'), 'utf8').trim();
  const results = [];
  try {
    // KSM's default (100 pages each 20 ms) takes minutes over 16 guests: a faster scan for the bench.
    await writeFile(KSM_RUN_FILE.replace(/run$/, 'pages_to_scan'), '1000');
    // QEMUNET_BENCH_LEVERS=0,4: some of the rows only.
    const only = process.env.QEMUNET_BENCH_LEVERS?.split(',').map(Number);
    for (const lever of LEVERS.filter((_, i) => !only || only.includes(i))) {
      const r = await memoryRun(root, lever, ksmWas);
      results.push(r);
      print(`memory, ${r.vms} idle tiny VMs, ${lever.label}: ${r.pssPerVmMiB.toFixed(1)} MiB PSS per VM = ${r.vmsPerGiB.toFixed(1)} VMs per GiB (goal 15); all ready in ${(r.readyMs / 1000).toFixed(1)} s; load ${r.load}`);
    }
  } finally {
    await writeFile(KSM_RUN_FILE.replace(/run$/, 'pages_to_scan'), scanWas);
    await writeFile(KSM_RUN_FILE, ksmWas === '1' ? '1' : '2');
    if (ksmWas !== '1') await writeFile(KSM_RUN_FILE, ksmWas);
  }
  return results;
}

// ---------------------------------------------------------------- spawn

/** 64 hosts: from the call to up() until the last QEMU exists (its start time in /proc), then a hard stop. */
async function spawnTime(root: string, print: Print, hosts = 64, runs = 3) {
  const topology = await writeTopology(root, hosts);
  const figures: Array<{ lastSpawnMs: number; upMs: number; hardStopMs: number; load: string }> = [];
  for (let i = 0; i < runs; i++) {
    const dir = join(root, `spawn${i}`);
    const boot0 = uptimeMs();
    const t0 = performance.now();
    let lab: Lab | undefined;
    try {
      lab = await up(request(root, topology, dir));
      const upMs = performance.now() - t0;
      const lastSpawnMs = Math.max(...lab.state().hosts.map((h) => startedAtMs(h.pid!))) - boot0;
      const t1 = performance.now();
      await lab.stop({ hard: true });
      figures.push({ lastSpawnMs, upMs, hardStopMs: performance.now() - t1, load: load() });
    } finally {
      await lab?.stop({ hard: true });
      killUnder(dir);
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  }
  const script = await scriptSpawn(root, topology, hosts);
  const m = (k: 'lastSpawnMs' | 'upMs' | 'hardStopMs') => median(figures.map((f) => f[k]));
  print(
    `spawn, ${hosts} hosts, up() to the last QEMU spawned, median of ${runs}: ${m('lastSpawnMs').toFixed(0)} ms (goal < 1000 ms)` +
      ` against the same command lines from a shell script (qemunet up --dry-run): ${script.toFixed(0)} ms; up() resolved ${m('upMs').toFixed(0)} ms;` +
      ` hard stop ${m('hardStopMs').toFixed(0)} ms; load ${figures.map((f) => f.load).join(', ')}; /proc times in 10 ms steps`,
  );
  return { hosts, runs: figures, lastSpawnMs: m('lastSpawnMs'), scriptLastSpawnMs: script };
}

async function scriptSpawn(root: string, topology: string, hosts: number): Promise<number> {
  const dir = join(root, 'spawn-sh');
  const script = `${dir}.sh`;
  await writeFile(script, await dryRun(request(root, topology, dir)));
  const boot0 = uptimeMs();
  const sh = spawn('sh', [script], { stdio: 'ignore', detached: true });
  try {
    let pids: number[] = [];
    const deadline = Date.now() + 60_000;
    while ((pids = processesUnder(dir, /^qemu-system/)).length < hosts && Date.now() < deadline) await sleep(20);
    return Math.max(...pids.map(startedAtMs)) - boot0;
  } finally {
    try {
      process.kill(-sh.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    await sleep(200);
    killUnder(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

// ---------------------------------------------------------------- switch

const IPERF_SECONDS = 10;

/** Two tiny guests, eth0 on 10.0.0.1 and .2, joined by `nic(i)`; iperf3 from the second to the first, in Mbit/s. */
async function iperfPair(dir: string, nic: (i: number) => { switchSocket: string; port?: number }): Promise<number> {
  const vms: RunningVm[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const name = `p${i}`;
      await overlayOn(tinyBase(), join(dir, `${name}.qcow2`));
      const spec = await tinyVmSpec(dir, name, { accel: 'tcg', tcgCacheMiB: TINY_TCG_CACHE_MIB, nics: [{ ...nic(i), mac: `AA:AA:AA:AA:00:0${i}`, model: 'e1000' }] });
      vms.push(await launchVm(spec, { logFile: join(dir, `${name}.log`) }));
    }
    const agents = await Promise.all(vms.map((vm) => vm.waitReady()));
    try {
      const sh = async (i: number, cmd: string) => {
        const r = await agents[i]!.exec('/bin/sh', ['-c', cmd]);
        if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}${r.stdout.toString()}`);
        return r.stdout.toString();
      };
      await sh(0, 'ip addr add 10.0.0.1/24 dev eth0 && iperf3 -s -D');
      await sh(1, 'ip addr add 10.0.0.2/24 dev eth0 && ping -c 3 -W 5 10.0.0.1 >/dev/null');
      const out = JSON.parse(await sh(1, `iperf3 -c 10.0.0.1 -t ${IPERF_SECONDS} -J`)) as { end: { sum_received: { bits_per_second: number } } };
      return out.end.sum_received.bits_per_second / 1e6;
    } finally {
      agents.forEach((a) => a.close());
    }
  } finally {
    await Promise.all(vms.map((vm) => vm.kill()));
  }
}

/** iperf3 between two guests through a vde_switch against the same two on a direct point-to-point link. */
async function switchThroughput(root: string, print: Print, runs = Number(process.env.QEMUNET_BENCH_SWITCH_RUNS ?? 5)) {
  baseImage ||= (await import('../test/helpers/tiny.js').then((m) => m.tinyImage())).fs;
  const figures: Array<{ switchMbps: number; directMbps: number; load: string }> = [];
  for (let r = 0; r < runs; r++) {
    const dir = await mkdtemp(join(root, 'sw-'));
    try {
      const sock = join(dir, 'switch');
      const sw = await launchSwitch({ name: 's', argv: vdeSwitchArgv({ name: 's', hub: false, socket: sock, mgmt: join(dir, 's.mgmt') }), socket: sock, logFile: join(dir, 's.log'), portsInUse: 2 });
      let switchMbps: number;
      try {
        switchMbps = await iperfPair(dir, (i) => ({ switchSocket: sock, port: i + 1 }));
      } finally {
        await sw.stop();
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      await mkdir(dir);
      const directMbps = await iperfPair(dir, () => ({ switchSocket: `ptp://${join(dir, 'link')}` }));
      figures.push({ switchMbps, directMbps, load: load() });
    } finally {
      killUnder(dir);
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  }
  const m = (k: 'switchMbps' | 'directMbps') => median(figures.map((f) => f[k]));
  print(
    `switch, iperf3 ${IPERF_SECONDS} s between two tiny guests (TCG, e1000), median of ${runs}: through a vde_switch ${m('switchMbps').toFixed(0)} Mbit/s,` +
      ` direct ptp link ${m('directMbps').toFixed(0)} Mbit/s = ${(m('switchMbps') / m('directMbps')).toFixed(2)}x (goal >= 0.8x); runs ${figures.map((f) => `${f.switchMbps.toFixed(0)}/${f.directMbps.toFixed(0)}`).join(', ')}; load ${figures.map((f) => f.load).join(', ')}`,
  );
  return { runs: figures, ratio: m('switchMbps') / m('directMbps') };
}

// ---------------------------------------------------------------- 100 hosts

/** `hosts` tiny hosts, 20 a switch (the most a switch takes), switches chained by trunks: one LAN, 10.0.0.0/16. */
async function writeBigLab(root: string, hosts: number): Promise<{ topology: string; address: (i: number) => string }> {
  const switches = Math.ceil(hosts / 20);
  const lines = [`# ${hosts} tiny hosts, one LAN over ${switches} trunked switches (qemunet scale bench)`];
  for (let s = 1; s <= switches; s++) lines.push(`SWITCH s${s}`);
  for (let s = 1; s < switches; s++) lines.push(`TRUNK s${s} s${s + 1}`);
  for (let h = 1; h <= hosts; h++) lines.push(`HOST tiny h${h} s${Math.ceil(h / 20)}`);
  const topology = join(root, `lab-${hosts}.topo`);
  await writeFile(topology, `${lines.join('\n')}\n`);
  return { topology, address: (i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` };
}

async function addressScripts(dir: string, hosts: number, address: (i: number) => string): Promise<void> {
  for (let i = 0; i < hosts; i++) {
    await mkdir(join(dir, `h${i + 1}`), { recursive: true });
    await writeFile(join(dir, `h${i + 1}`, 'start.sh'), `#!/bin/sh\nip addr add ${address(i)}/16 dev eth0\n`);
  }
}

/** Time to every host ready; the most memory the lab's processes held (PSS summed, sampled each 5 s). */
async function upAndWatch(root: string, topology: string, dir: string, hosts: number, env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  let peakPssMiB = 0;
  const sampler = setInterval(() => {
    const pss = processesUnder(dir).reduce((sum, pid) => sum + (pssKiB(pid) || 0), 0);
    peakPssMiB = Math.max(peakPssMiB, mib(pss));
  }, 5000);
  sampler.unref();
  try {
    const lab = await up({ ...request(root, topology, dir, env), vlan: true });
    await lab.waitReady(3_600_000);
    return { lab, readyMs: performance.now() - t0, peak: () => peakPssMiB, stopSampling: () => clearInterval(sampler) };
  } catch (e) {
    clearInterval(sampler);
    throw e;
  }
}

async function bigLab(root: string, print: Print, hosts = 100) {
  const env = { QEMUNET_KSM: 'on' };
  const ksmWas = readFileSync(KSM_RUN_FILE, 'utf8').trim();
  const scanFile = KSM_RUN_FILE.replace(/run$/, 'pages_to_scan');
  const scanWas = readFileSync(scanFile, 'utf8').trim();
  // ksmd's default pace (400 KiB each 20 ms) is far behind 100 guests booting.
  await writeFile(scanFile, '2000');
  try {
    const one = await writeBigLab(root, 1);
    const oneDir = join(root, 'one');
    await addressScripts(oneDir, 1, one.address);
    const single = await upAndWatch(root, one.topology, oneDir, 1, env);
    single.stopSampling();
    await single.lab.stop();
    const big = await writeBigLab(root, hosts);
    const dir = join(root, 'big');
    await addressScripts(dir, hosts, big.address);
    const { lab, readyMs, peak, stopSampling } = await upAndWatch(root, big.topology, dir, hosts, env);
    let pings = '';
    try {
      const ping = async (from: number, targets: number[]) => {
        const agent = await GuestAgent.connect(lab.plan.hosts[from]!.paths.agent);
        try {
          const r = await agent.exec('/bin/sh', ['-c', `n=0; for ip in ${targets.map(big.address).join(' ')}; do ping -c 1 -W 10 $ip >/dev/null && n=$((n+1)); done; echo $n`]);
          return Number(r.stdout.toString().trim());
        } finally {
          agent.close();
        }
      };
      const others = Array.from({ length: hosts - 1 }, (_, i) => i + 1);
      const fromFirst = await ping(0, others);
      const fromLast = await ping(hosts - 1, [0]);
      pings = `h1 reached ${fromFirst}/${hosts - 1}, h${hosts} reached h1: ${fromLast === 1 ? 'yes' : 'no'}`;
    } finally {
      await sleep(10_000);
    }
    const peakPssMiB = peak();
    stopSampling();
    const t1 = performance.now();
    await lab.stop();
    const teardownMs = performance.now() - t1;
    const left = processesUnder(dir).length;
    const ideal = Math.ceil(hosts / CORES) * single.readyMs;
    print(
      `lab of ${hosts} hosts (${Math.ceil(hosts / 20)} trunked switches, KSM on): all ready in ${(readyMs / 1000).toFixed(0)} s against ceil(${hosts}/${CORES} cores) x one host (${(single.readyMs / 1000).toFixed(1)} s) = ${(ideal / 1000).toFixed(0)} s` +
        ` (${(readyMs / ideal).toFixed(2)}x); ${pings}; peak PSS of the lab ${(peakPssMiB / 1024).toFixed(2)} GiB (${(peakPssMiB / hosts).toFixed(0)} MiB a host);` +
        ` teardown ${(teardownMs / 1000).toFixed(1)} s, ${left} processes left; load ${load()}`,
    );
    return { hosts, readyMs, oneHostReadyMs: single.readyMs, idealMs: ideal, pings, peakPssMiB, teardownMs, leftovers: left };
  } finally {
    await writeFile(scanFile, scanWas);
    await writeFile(KSM_RUN_FILE, ksmWas === '1' ? '1' : '2');
    if (ksmWas !== '1') await writeFile(KSM_RUN_FILE, ksmWas);
  }
}

// ---------------------------------------------------------------- entry

export async function benchScale(print: Print) {
  const root = await mkdtemp(join(tmpdir(), 'qemunet-bench-scale-'));
  await mkdir(join(root, 'state'), { recursive: true });
  print(`${CORES} cores; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other programs share this machine)`);
  const results: Record<string, unknown> = { cores: CORES };
  try {
    if (PARTS.includes('memory')) results.memory = await memory(root, print);
    if (PARTS.includes('spawn')) results.spawn = await spawnTime(root, print);
    if (PARTS.includes('switch')) results.switch = await switchThroughput(root, print);
    if (PARTS.includes('lab100')) results.lab100 = await bigLab(root, print, Number(process.env.QEMUNET_BENCH_HOSTS ?? 100));
  } finally {
    const left = killUnder(root);
    if (left) print(`left running after the bench (killed): ${left}`);
    results.leftovers = left;
    await rm(root, { recursive: true, force: true });
  }
  void processAlive;
  return results;
}
