import { execFile, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Lab } from '../src/lab/driver/lab.js';
import type { LabPlan } from '../src/lab/plan.js';
import { readTopology } from '../src/lab/driver/prepare.js';
import type { SessionState } from '../src/lab/state.js';
import { dryRun, up, type UpRequest } from '../src/lab/driver/up.js';
import { processAlive } from '../src/process/alive.js';
import { sessionPaths } from '../src/session/paths.js';
import { launchSwitch } from '../src/switch/launch.js';
import { GuestAgent } from '../src/vm/guest-agent.js';
import { qemuArgv } from '../src/vm/qemu-argv.js';
import { QmpClient } from '../src/vm/qmp.js';
import { fixture } from '../test/helpers/fixtures.js';
import { overlayOn, tempDir } from '../test/helpers/tiny.js';

const RUNS = { oneHost: 7, lan: 5, sixteen: 2, orchestration: 3 };
const GOALS = { oneHostRatio: 1.1, scalingRatio: 1.25, orchestrationMs: 1000, overheadPerHostMs: 10, leftovers: 0 };
const READY_TIMEOUT_MS = 300_000;
/** A run starts once the rest of the machine has used less than this share of one core for a second... */
const QUIET_CPU_SHARE = 0.15;
/** ...or after this long: the figures of a run that was not quiet are flagged, not dropped. */
const QUIET_WAIT_MS = 120_000;
const CORES = cpus().length;
/** Linux counts CPU time and process start times in USER_HZ ticks, 100 a second. */
const TICKS_PER_SECOND = 100;
const QEMUNET = fileURLToPath(new URL('../../bin/qemunet', import.meta.url));
const execFileP = promisify(execFile);

type Print = (line: string) => void;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

/** The fields of /proc/PID/stat after the command name, which may itself hold spaces or parentheses. */
function statFields(pid: number | 'self'): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** Busy CPU seconds of the whole machine (steal included), and of this process with its reaped children. */
function cpuSeconds(): { all: number; own: number } {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const own = statFields('self').slice(11, 15).map(Number);
  return { all: (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND, own: own.reduce((a, b) => a + b, 0) / TICKS_PER_SECOND };
}

/** Milliseconds since boot, the clock of the start times in /proc/PID/stat (10 ms steps). */
function uptimeMs(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
}

const startedAtMs = (pid: number) => (Number(statFields(pid)[19]) * 1000) / TICKS_PER_SECOND;

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** Every process with its argv (processes that vanish while being read are skipped). */
function processes(): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length) out.push({ pid: Number(name), argv });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** QEMU (argv[0], since `-name ...,process=` renames the thread) and vde_switch processes naming a path under `dir`. */
function labProcesses(dir: string, program = /^(qemu-system|vde_switch)/): number[] {
  return processes()
    .filter((p) => program.test(basename(p.argv[0]!)) && p.argv.some((a) => a.includes(dir)))
    .map((p) => p.pid);
}

/** SIGKILL, by pid, every process this bench started that still runs (any program naming a path under `root`). */
function killEverythingUnder(root: string): number {
  const pids = labProcesses(root, /./);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids.length;
}

/** A topology of `hosts` tiny hosts, 16 a switch (a switch takes at most 20). */
async function writeTopology(dir: string, hosts: number): Promise<string> {
  const switches = Math.ceil(hosts / 16);
  const lines = [`# ${hosts} tiny hosts on ${switches} switches (qemunet bench)`];
  for (let s = 1; s <= switches; s++) lines.push(`SWITCH s${s}`);
  for (let h = 1; h <= hosts; h++) lines.push(`HOST tiny h${h} s${Math.ceil(h / 16)}`);
  const file = join(dir, `hosts-${hosts}.topo`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Ready as qemunet defines it: the guest agent answers a sync. Retries until its socket accepts. */
async function waitAgent(socket: string, signal: AbortSignal): Promise<void> {
  // Connecting does not watch the signal, so race it.
  const stop = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  stop.catch(() => {});
  for (;;) {
    signal.throwIfAborted();
    try {
      (await Promise.race([GuestAgent.connect(socket, signal), stop])).close();
      return;
    } catch {
      await sleep(10);
    }
  }
}

/** Aborts when `ended` resolves first (the process that should make the guests ready is gone), or at the timeout. */
function readySignal(ended: Promise<unknown>, why: () => string, listeners: number): AbortSignal {
  const died = new AbortController();
  void ended.then(() => died.abort(new Error(why())));
  const signal = AbortSignal.any([died.signal, AbortSignal.timeout(READY_TIMEOUT_MS)]);
  setMaxListeners(listeners * 4 + 10, signal);
  return signal;
}

/** The guests' own power-off: the ACPI button through QMP (connected beforehand) until `gone` resolves. */
async function powerOff(qmpSockets: readonly string[], gone: Promise<unknown>): Promise<number> {
  const clients = await Promise.all(qmpSockets.map((s) => QmpClient.connect(s)));
  try {
    const t0 = performance.now();
    await Promise.all(clients.map((c) => c.execute('system_powerdown')));
    await Promise.race([gone, sleep(30_000).then(() => Promise.reject(new Error('guests did not power off within 30 s')))]);
    return performance.now() - t0;
  } finally {
    clients.forEach((c) => c.close());
  }
}

async function allGone(pids: readonly number[]): Promise<void> {
  while (pids.some(processAlive)) await sleep(5);
}

interface Ctx {
  root: string;
  print: Print;
  runs: number;
  /** QEMU and vde_switch processes still running after a qemunet teardown (lab.stop, qemunet down), summed. */
  leftovers: number;
  /** CPU seconds other programs used during each run: someone else's work on 2 cores skews any figure. */
  otherCpu: Array<{ run: string; seconds: number }>;
}

/**
 * Waits for a quiet machine, then gives a fresh session directory (the first start of a session
 * creates its overlays) and a function that says how much CPU the rest of the machine used since.
 */
async function beginRun(ctx: Ctx, tag: string): Promise<{ dir: string; end: () => void }> {
  const deadline = Date.now() + QUIET_WAIT_MS;
  for (;;) {
    const a = cpuSeconds();
    await sleep(1000);
    const b = cpuSeconds();
    if (b.all - a.all - (b.own - a.own) < QUIET_CPU_SHARE || Date.now() > deadline) break;
  }
  const start = cpuSeconds();
  const run = `${tag}${++ctx.runs}`;
  return {
    dir: join(ctx.root, run),
    end: () => {
      const now = cpuSeconds();
      ctx.otherCpu.push({ run, seconds: Math.max(0, now.all - start.all - (now.own - start.own)) });
    },
  };
}

function request(ctx: Ctx, topologyFile: string, sessionDir: string): UpRequest {
  return {
    topologyFile,
    sessionDir,
    aliases: new Map([['debian', 'tiny']]),
    accel: false, // -K: no working KVM here; also skips the (cached) probe
    display: 'none',
    sessionLink: false,
    cwd: ctx.root,
    env: { ...process.env, QEMUNET_STATE_DIR: join(ctx.root, 'state') },
  };
}

interface QemunetRun {
  readyMs: number;
  stopMs: number;
  plan: LabPlan;
}

/** `up()` to every guest ready, then a graceful `lab.stop()`. */
async function viaQemunet(ctx: Ctx, topology: string, tag: string): Promise<QemunetRun> {
  const run = await beginRun(ctx, tag);
  const t0 = performance.now();
  const lab = await up(request(ctx, topology, run.dir));
  try {
    await lab.waitReady(READY_TIMEOUT_MS);
    const readyMs = performance.now() - t0;
    const t1 = performance.now();
    await lab.stop();
    const stopMs = performance.now() - t1;
    ctx.leftovers += labProcesses(run.dir).length;
    return { readyMs, stopMs, plan: lab.plan };
  } finally {
    await lab.stop({ hard: true });
    run.end();
  }
}

/** The one host's QEMU command line of a finished qemunet run, started directly (switch and overlay untimed). */
async function bareQemu(ctx: Ctx, plan: LabPlan): Promise<{ readyMs: number; powerOffMs: number }> {
  const host = plan.hosts[0]!;
  if (host.kind !== 'qemu') throw new Error('the bare QEMU run needs a QEMU host');
  const sw = plan.switches[0]!;
  await rm(host.paths.overlay, { force: true });
  await overlayOn(host.system.fs, host.paths.overlay);
  const running = await launchSwitch({ name: sw.name, argv: sw.argv, socket: sw.paths.socket, logFile: join(plan.dir, 'bare-switch.log'), portsInUse: sw.portsInUse });
  const run = await beginRun(ctx, 'bare');
  const t0 = performance.now();
  const child = spawn('qemu-system-x86_64', qemuArgv(host.vm), { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitAgent(host.paths.agent, readySignal(exited, () => 'QEMU exited before its guest was ready', 1));
    const readyMs = performance.now() - t0;
    return { readyMs, powerOffMs: await powerOff([host.paths.qmp], exited) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await running.stop();
    run.end();
  }
}

/**
 * The dry-run script of a session, run by sh: the same qemu-img, vde_switch and QEMU commands.
 * `until` is what to wait for once it runs: every guest ready (then power them off), or every QEMU spawned.
 */
async function viaScript(ctx: Ctx, topology: string, tag: string, until: 'ready' | 'spawned') {
  const { topology: topo } = await readTopology(topology);
  const run = await beginRun(ctx, tag);
  const paths = sessionPaths(run.dir);
  const script = `${run.dir}.sh`;
  await writeFile(script, await dryRun(request(ctx, topology, run.dir)));
  const t0 = performance.now();
  const boot0 = uptimeMs();
  // Its own process group, so the QEMUs it puts in the background go with it.
  const sh = spawn('sh', [script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  sh.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const shExited = new Promise<void>((resolve) => sh.once('exit', () => resolve()));
  const signal = readySignal(shExited, () => `the dry-run script ended early: ${stderr.trim()}`, topo.hosts.length);
  try {
    if (until === 'spawned') {
      let pids: number[] = [];
      while ((pids = labProcesses(run.dir, /^qemu-system/)).length < topo.hosts.length) {
        signal.throwIfAborted();
        await sleep(20);
      }
      return { lastSpawnMs: Math.max(...pids.map(startedAtMs)) - boot0, readyMs: NaN, powerOffMs: NaN };
    }
    await Promise.all(topo.hosts.map((h) => waitAgent(paths.host(h.name).agent, signal)));
    const readyMs = performance.now() - t0;
    const pids = await Promise.all(topo.hosts.map(async (h) => Number(await readFile(paths.host(h.name).pid, 'utf8'))));
    return { readyMs, powerOffMs: await powerOff(topo.hosts.map((h) => paths.host(h.name).qmp), allGone(pids)), lastSpawnMs: NaN };
  } finally {
    if (sh.exitCode === null && sh.signalCode === null) process.kill(-sh.pid!, 'SIGKILL');
    await shExited;
    // vde_switch --daemon left the group; anything else is gone with it.
    const switchPids = await Promise.all(topo.switches.map((s) => readFile(paths.switch(s.name).pid, 'utf8').then(Number, () => 0)));
    switchPids.filter(processAlive).forEach((pid) => process.kill(pid, 'SIGTERM'));
    await Promise.race([allGone(switchPids), sleep(2000)]);
    killEverythingUnder(run.dir);
    run.end();
  }
}

/** One host: qemunet up to ready against the same QEMU command line started by hand. */
async function oneHost(ctx: Ctx) {
  const topology = await writeTopology(ctx.root, 1);
  await viaQemunet(ctx, topology, 'warm'); // page cache and first-run effects out of the figures
  const qemunet: QemunetRun[] = [];
  const bare: Array<{ readyMs: number; powerOffMs: number }> = [];
  for (let i = 0; i < RUNS.oneHost; i++) {
    const run = await viaQemunet(ctx, topology, 'one');
    qemunet.push(run);
    bare.push(await bareQemu(ctx, run.plan));
  }
  const readyMs = median(qemunet.map((r) => r.readyMs));
  const bareMs = median(bare.map((r) => r.readyMs));
  // Each qemunet run against the bare run right after it, so slow drift of the machine cancels out.
  const ratio = median(qemunet.map((q, i) => q.readyMs / bare[i]!.readyMs));
  const pass = ratio <= GOALS.oneHostRatio;
  ctx.print(`one host, up() to guest agent ready, ${RUNS.oneHost} pairs: qemunet ${ms(readyMs)}, bare QEMU ${ms(bareMs)} (medians), median ratio ${ratio.toFixed(2)} (goal <= ${GOALS.oneHostRatio}): ${verdict(pass)}`);
  return { qemunetReadyMs: qemunet.map((r) => r.readyMs), bareReadyMs: bare.map((r) => r.readyMs), qemunetStopMs: qemunet.map((r) => r.stopMs), barePowerOffMs: bare.map((r) => r.powerOffMs), ratio, goal: GOALS.oneHostRatio, pass };
}

/** N hosts: qemunet against the dry-run script, alternately, and against ceil(N / cores) one-host boots. */
async function manyHosts(ctx: Ctx, label: string, tag: string, topology: string, runs: number, one: { qemunetMs: number; bareMs: number }) {
  const n = (await readTopology(topology)).topology.hosts.length;
  const qemunet: QemunetRun[] = [];
  const script: Array<{ readyMs: number; powerOffMs: number }> = [];
  for (let i = 0; i < runs; i++) {
    qemunet.push(await viaQemunet(ctx, topology, `${tag}q`));
    script.push(await viaScript(ctx, topology, `${tag}s`, 'ready'));
  }
  const readyMs = median(qemunet.map((r) => r.readyMs));
  const scriptMs = median(script.map((r) => r.readyMs));
  const idealMs = Math.ceil(n / CORES) * one.qemunetMs;
  const ratio = readyMs / idealMs;
  const pass = ratio <= GOALS.scalingRatio;
  const overheadPerHostMs = median(qemunet.map((q, i) => q.readyMs - script[i]!.readyMs)) / n;
  const teardownPerHostMs = (median(qemunet.map((r) => r.stopMs)) - median(script.map((r) => r.powerOffMs))) / n;
  ctx.print(
    `${label} (${n} hosts, ${CORES} cores), up() to all ready, median of ${runs}: ${ms(readyMs)}; ideal ceil(${n}/${CORES}) x ${ms(one.qemunetMs)} = ${ms(idealMs)}, ratio ${ratio.toFixed(2)} (goal <= ${GOALS.scalingRatio}): ${verdict(pass)}` +
      ` [same commands from the dry-run script: ${ms(scriptMs)}, ratio ${(scriptMs / idealMs).toFixed(2)}; against bare one-host boots: qemunet ${(readyMs / (idealMs / one.qemunetMs) / one.bareMs).toFixed(2)}]`,
  );
  return {
    hosts: n,
    qemunetReadyMs: qemunet.map((r) => r.readyMs),
    scriptReadyMs: script.map((r) => r.readyMs),
    qemunetStopMs: qemunet.map((r) => r.stopMs),
    scriptPowerOffMs: script.map((r) => r.powerOffMs),
    idealMs,
    ratio,
    scriptRatio: scriptMs / idealMs,
    goal: GOALS.scalingRatio,
    pass,
    overheadPerHostMs,
    teardownPerHostMs,
  };
}

/** 64 hosts: from the call to up() until the last QEMU process exists (its start time in /proc), then a hard stop. */
async function orchestration(ctx: Ctx, hosts: number) {
  const topology = await writeTopology(ctx.root, hosts);
  const runs: Array<{ firstSpawnMs: number; lastSpawnMs: number; sessionFilesMs: number; allBootingMs: number; hardStopMs: number }> = [];
  for (let i = 0; i < RUNS.orchestration; i++) {
    const run = await beginRun(ctx, 'orch');
    const wall0 = Date.now();
    const boot0 = uptimeMs();
    const t0 = performance.now();
    let lab: Lab | undefined;
    let figures: Omit<(typeof runs)[number], 'hardStopMs'> | undefined;
    try {
      lab = await up(request(ctx, topology, run.dir));
      // up() resolves once every host is 'booting' (QEMU spawned, QMP and console attached).
      const allBootingMs = performance.now() - t0;
      const spawned = lab.state().hosts.map((h) => startedAtMs(h.pid!) - boot0);
      const scripts = await Promise.all(lab.plan.hosts.map((h) => stat(h.paths.script)));
      figures = { firstSpawnMs: Math.min(...spawned), lastSpawnMs: Math.max(...spawned), sessionFilesMs: Math.max(...scripts.map((s) => s.mtimeMs)) - wall0, allBootingMs };
    } finally {
      const t1 = performance.now();
      await lab?.stop({ hard: true });
      const hardStopMs = performance.now() - t1;
      ctx.leftovers += labProcesses(run.dir).length;
      run.end();
      if (figures) runs.push({ ...figures, hardStopMs });
    }
  }
  const scriptLastSpawnMs = (await viaScript(ctx, topology, 'orchs', 'spawned')).lastSpawnMs;
  const m = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
  const pass = m('lastSpawnMs') <= GOALS.orchestrationMs;
  ctx.print(
    `orchestration, ${hosts} hosts, up() to the last QEMU spawned, median of ${RUNS.orchestration}: ${ms(m('lastSpawnMs'))} (goal <= ${ms(GOALS.orchestrationMs)}): ${verdict(pass)}` +
      ` [session files ready ${ms(m('sessionFilesMs'))}, first QEMU ${ms(m('firstSpawnMs'))}, all 'booting' (up() resolved) ${ms(m('allBootingMs'))}, hard stop ${ms(m('hardStopMs'))};` +
      ` dry-run script: last QEMU spawned ${ms(scriptLastSpawnMs)}; /proc times in 10 ms steps]`,
  );
  return { hosts, runs, lastSpawnMs: m('lastSpawnMs'), scriptLastSpawnMs, goalMs: GOALS.orchestrationMs, pass };
}

/** The CLI way: `up --wait`, `status --json`, idle RSS of the VMs and of the supervising qemunet, `down`. */
async function cli(ctx: Ctx, topology: string, guestPowerOffMs: number) {
  const run = await beginRun(ctx, 'cli');
  const qemunet = (...args: string[]) => execFileP(process.execPath, [QEMUNET, ...args], { cwd: ctx.root, env: request(ctx, topology, run.dir).env });
  let needsDown = true;
  try {
    const t0 = performance.now();
    await qemunet('up', topology, '--session', run.dir, '--alias', 'debian=tiny', '--wait', '--timeout', String(READY_TIMEOUT_MS / 1000), '-K', '--display', 'none');
    const upWaitMs = performance.now() - t0;
    const state = JSON.parse((await qemunet('status', '--session', run.dir, '--json')).stdout) as SessionState;
    await sleep(2000); // idle: the guests are done with their start scripts
    const vmRssKiB = state.hosts.map((h) => rssKiB(h.pid!));
    const qemunetRssKiB = rssKiB(state.pid);
    const switchRssKiB = state.switches.map((s) => rssKiB(s.pid!));
    const t1 = performance.now();
    await qemunet('down', '--session', run.dir);
    needsDown = false;
    const downMs = performance.now() - t1;
    const left = labProcesses(run.dir).length + (processAlive(state.pid) ? 1 : 0);
    ctx.leftovers += left;
    const n = state.hosts.length;
    const perVm = vmRssKiB.reduce((a, b) => a + b, 0) / n;
    const slowestReadyMs = Math.max(...state.hosts.map((h) => h.readyMs ?? NaN));
    const downPerHostMs = (downMs - guestPowerOffMs) / n;
    ctx.print(`CLI, ${n} hosts: up --wait ${ms(upWaitMs)} (slowest readyMs ${ms(slowestReadyMs)}), down ${ms(downMs)}: ${downPerHostMs.toFixed(0)} ms per host beyond the guests' power-off (no goal set), ${left} processes left`);
    ctx.print(`RSS, idle: ${(perVm / 1024).toFixed(0)} MiB per VM (128 MiB guests), qemunet supervisor ${(qemunetRssKiB / 1024).toFixed(0)} MiB, vde_switch ${(switchRssKiB.reduce((a, b) => a + b, 0) / 1024).toFixed(1)} MiB (no goal set)`);
    return { upWaitMs, slowestReadyMs, downMs, downPerHostMs, vmRssKiB, perVmRssKiB: perVm, qemunetRssKiB, switchRssKiB, leftovers: left };
  } finally {
    // No run.end(): the detached supervisor and its VMs are not this process's children, so their CPU would count as others'.
    if (needsDown) await qemunet('down', '--session', run.dir).catch(() => {});
  }
}

export async function benchLab(print: Print) {
  await using root = await tempDir('bench-lab');
  const ctx: Ctx = { root: root.path, print, runs: 0, leftovers: 0, otherCpu: [] };
  // Ctrl-C or a kill of the bench: nothing of it may stay behind.
  const onSignal = (signal: NodeJS.Signals) => {
    killEverythingUnder(root.path);
    rmSync(root.path, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const lanTopo = fixture('topologies', 'lan.topo');
    const one = await oneHost(ctx);
    const base = { qemunetMs: median(one.qemunetReadyMs), bareMs: median(one.bareReadyMs) };
    const lan = await manyHosts(ctx, 'lan.topo', 'lan', lanTopo, RUNS.lan, base);
    const overheadPass = lan.overheadPerHostMs <= GOALS.overheadPerHostMs;
    print(`overhead per host, lan.topo: (qemunet - the same commands from the dry-run script) / ${lan.hosts}, median of ${RUNS.lan} pairs: ${lan.overheadPerHostMs.toFixed(1)} ms (goal <= ${GOALS.overheadPerHostMs} ms): ${verdict(overheadPass)}`);
    print(`teardown per host, lan.topo: lab.stop() ${ms(median(lan.qemunetStopMs))} - guests' own power-off ${ms(median(lan.scriptPowerOffMs))}, / ${lan.hosts}: ${lan.teardownPerHostMs.toFixed(1)} ms (no goal set)`);
    const sixteen = await manyHosts(ctx, '16 hosts', 'h16', await writeTopology(ctx.root, 16), RUNS.sixteen, base);
    const orch = await orchestration(ctx, 64);
    const viaCli = await cli(ctx, lanTopo, median(lan.scriptPowerOffMs));
    const leftoverPass = ctx.leftovers <= GOALS.leftovers;
    print(`leftover qemu-system/vde_switch processes after every qemunet teardown: ${ctx.leftovers} (goal ${GOALS.leftovers}): ${verdict(leftoverPass)}`);
    const disturbed = ctx.otherCpu.filter((r) => r.seconds > 1);
    if (disturbed.length) print(`warning: other programs used more than 1 CPU-second during ${disturbed.length} of ${ctx.otherCpu.length} runs (${disturbed.map((r) => `${r.run} ${r.seconds.toFixed(1)} s`).join(', ')}); on ${CORES} cores their figures are too high`);
    return {
      cores: CORES,
      runs: RUNS,
      oneHost: one,
      lan: { ...lan, overheadGoalPerHostMs: GOALS.overheadPerHostMs, overheadPass },
      sixteen,
      orchestration: orch,
      cli: viaCli,
      leftoverProcesses: ctx.leftovers,
      leftoverPass,
      otherCpuSeconds: ctx.otherCpu,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const killed = killEverythingUnder(root.path);
    if (killed) print(`cleanup: killed ${killed} processes of this bench that were still running`);
  }
}
