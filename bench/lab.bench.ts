import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Lab } from '../src/lab/lab.js';
import type { LabPlan } from '../src/lab/plan.js';
import { readTopology } from '../src/lab/prepare.js';
import type { SessionState } from '../src/lab/state.js';
import { dryRun, up, type UpRequest } from '../src/lab/up.js';
import { processAlive } from '../src/process/alive.js';
import { sessionPaths } from '../src/session/paths.js';
import { launchSwitch } from '../src/switch/launch.js';
import { GuestAgent } from '../src/vm/guest-agent.js';
import { qemuArgv } from '../src/vm/qemu-argv.js';
import { QmpClient } from '../src/vm/qmp.js';
import { fixture } from '../test/helpers/fixtures.js';
import { overlayOn, tempDir } from '../test/helpers/tiny.js';

const RUNS = { oneHost: 5, lan: 5, sixteen: 2, orchestration: 3 };
const GOALS = { oneHostRatio: 1.1, scalingRatio: 1.25, orchestrationMs: 1000, overheadPerHostMs: 10, leftovers: 0 };
const READY_TIMEOUT_MS = 300_000;
const CORES = cpus().length;
/** Linux reports process start times in USER_HZ ticks, 100 a second on every architecture qemunet runs on. */
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

/** Every process with its argv, read from /proc (processes that vanish while reading are skipped). */
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

const isLabProgram = (argv: string[]) => /^(qemu-system|vde_switch)/.test(basename(argv[0] ?? ''));

/** QEMU and vde_switch processes whose command line names a path under `dir`: this bench's. */
function leftovers(dir: string): number[] {
  return processes().filter((p) => isLabProgram(p.argv) && p.argv.some((a) => a.includes(dir))).map((p) => p.pid);
}

/** QEMU processes that are not this bench's (someone else's tests): their CPU use skews every figure. */
function foreignQemus(root: string): number {
  return processes().filter((p) => /^qemu-system/.test(basename(p.argv[0]!)) && !p.argv.some((a) => a.includes(root))).length;
}

/** SIGKILL, by pid, everything this bench started that is still running (any program naming `root`). */
function killEverythingUnder(root: string): number {
  const pids = processes().filter((p) => p.argv.some((a) => a.includes(root))).map((p) => p.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids.length;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** Milliseconds since boot, from the same clock as the start times in /proc/PID/stat (10 ms steps). */
function uptimeMs(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
}

function startedAtMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces or parentheses; starttime is field 22.
  return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) * 1000) / TICKS_PER_SECOND;
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

/** Rejects when `signal` aborts; for racing calls that do not all watch a signal while connecting. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Ready as qemunet defines it: the guest agent answers a sync. Retries until its socket exists. */
async function waitAgent(socket: string, signal: AbortSignal): Promise<void> {
  const stop = aborted(signal);
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

/** The guests' own power-off: the ACPI button through QMP (connected beforehand), until `gone` resolves. */
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
  /** The most QEMU processes of others seen running at the start of a run. */
  foreign: number;
  /** This bench's QEMU and vde_switch processes still running after a teardown, summed over runs. */
  leftovers: number;
  runs: number;
}

/** A fresh session directory for each run: the first start of a session creates its overlays. */
function sessionDir(ctx: Ctx, tag: string): string {
  ctx.foreign = Math.max(ctx.foreign, foreignQemus(ctx.root));
  return join(ctx.root, `${tag}${++ctx.runs}`);
}

function request(ctx: Ctx, topologyFile: string, sessionDir: string): UpRequest {
  return {
    topologyFile,
    sessionDir,
    aliases: new Map([['debian', 'tiny']]),
    accel: false, // -K: this machine has no working KVM; skips the (cached) probe as well
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
async function viaQemunet(ctx: Ctx, topology: string, dir: string): Promise<QemunetRun> {
  const t0 = performance.now();
  const lab = await up(request(ctx, topology, dir));
  try {
    await lab.waitReady(READY_TIMEOUT_MS);
    const readyMs = performance.now() - t0;
    const t1 = performance.now();
    await lab.stop();
    const stopMs = performance.now() - t1;
    ctx.leftovers += leftovers(dir).length;
    return { readyMs, stopMs, plan: lab.plan };
  } finally {
    await lab.stop({ hard: true });
  }
}

/** The one host's QEMU command line of a finished qemunet run, started directly (switch and overlay untimed). */
async function bareQemu(ctx: Ctx, plan: LabPlan): Promise<{ readyMs: number; powerOffMs: number }> {
  const host = plan.hosts[0]!;
  const sw = plan.switches[0]!;
  await rm(host.paths.overlay, { force: true });
  await overlayOn(host.system.fs, host.paths.overlay);
  const running = await launchSwitch({ name: sw.name, argv: sw.argv, socket: sw.paths.socket, logFile: join(plan.dir, 'bare-switch.log') });
  const died = new AbortController();
  const t0 = performance.now();
  const child = spawn('qemu-system-x86_64', qemuArgv(host.vm), { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => died.abort(new Error('QEMU exited before its guest was ready')));
  try {
    await waitAgent(host.paths.agent, AbortSignal.any([died.signal, AbortSignal.timeout(READY_TIMEOUT_MS)]));
    const readyMs = performance.now() - t0;
    return { readyMs, powerOffMs: await powerOff([host.paths.qmp], exited) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await running.stop();
    ctx.leftovers += leftovers(plan.dir).length;
  }
}

/** The dry-run script of the same session, run by sh: the same qemu-img, vde_switch and QEMU commands. */
async function viaScript(ctx: Ctx, topology: string, dir: string): Promise<{ readyMs: number; powerOffMs: number }> {
  const { topology: topo } = await readTopology(topology);
  const paths = sessionPaths(dir);
  const script = `${dir}.sh`;
  await writeFile(script, await dryRun(request(ctx, topology, dir)));
  const died = new AbortController();
  const t0 = performance.now();
  // Its own process group: the QEMUs it puts in the background can be killed with it.
  const sh = spawn('sh', [script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  sh.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const shExited = new Promise<void>((resolve) => sh.once('exit', () => resolve()));
  void shExited.then(() => died.abort(new Error(`the dry-run script ended before every guest was ready: ${stderr.trim()}`)));
  try {
    const signal = AbortSignal.any([died.signal, AbortSignal.timeout(READY_TIMEOUT_MS)]);
    await Promise.all(topo.hosts.map((h) => waitAgent(paths.host(h.name).agent, signal)));
    const readyMs = performance.now() - t0;
    const pids = await Promise.all(topo.hosts.map(async (h) => Number(await readFile(paths.host(h.name).pid, 'utf8'))));
    const powerOffMs = await powerOff(topo.hosts.map((h) => paths.host(h.name).qmp), allGone(pids));
    return { readyMs, powerOffMs };
  } finally {
    if (sh.exitCode === null && sh.signalCode === null) process.kill(-sh.pid!, 'SIGKILL');
    await shExited;
    // vde_switch --daemon left the group; its pid file says where it went.
    const switchPids = await Promise.all(topo.switches.map((s) => readFile(paths.switch(s.name).pid, 'utf8').then(Number, () => 0)));
    for (const pid of switchPids.filter(processAlive)) process.kill(pid, 'SIGTERM');
    await Promise.race([allGone(switchPids), sleep(2000)]);
    for (const pid of switchPids.filter(processAlive)) process.kill(pid, 'SIGKILL');
    ctx.leftovers += leftovers(dir).length;
  }
}

/** One host: qemunet up to ready against the same QEMU command line started by hand. */
async function oneHost(ctx: Ctx) {
  const topology = await writeTopology(ctx.root, 1);
  await viaQemunet(ctx, topology, sessionDir(ctx, 'warm')); // page cache and first-run effects out of the figures
  const qemunet: QemunetRun[] = [];
  const bare: Array<{ readyMs: number; powerOffMs: number }> = [];
  for (let i = 0; i < RUNS.oneHost; i++) {
    const run = await viaQemunet(ctx, topology, sessionDir(ctx, 'one'));
    qemunet.push(run);
    bare.push(await bareQemu(ctx, run.plan));
  }
  const readyMs = median(qemunet.map((r) => r.readyMs));
  const bareMs = median(bare.map((r) => r.readyMs));
  const ratio = readyMs / bareMs;
  const pass = ratio <= GOALS.oneHostRatio;
  ctx.print(`one host, up() to guest agent ready, median of ${RUNS.oneHost}: qemunet ${ms(readyMs)}, bare QEMU ${ms(bareMs)}, ratio ${ratio.toFixed(2)} (goal <= ${GOALS.oneHostRatio}): ${verdict(pass)}`);
  return {
    qemunetReadyMs: qemunet.map((r) => r.readyMs),
    bareReadyMs: bare.map((r) => r.readyMs),
    qemunetStopMs: qemunet.map((r) => r.stopMs),
    barePowerOffMs: bare.map((r) => r.powerOffMs),
    ratio,
    goal: GOALS.oneHostRatio,
    pass,
  };
}

/** N hosts: qemunet against the dry-run script, alternately, and against ceil(N / cores) one-host boots. */
async function manyHosts(ctx: Ctx, name: string, topology: string, runs: number, oneHostMs: number) {
  const { topology: topo } = await readTopology(topology);
  const n = topo.hosts.length;
  const qemunet: QemunetRun[] = [];
  const script: Array<{ readyMs: number; powerOffMs: number }> = [];
  for (let i = 0; i < runs; i++) {
    qemunet.push(await viaQemunet(ctx, topology, sessionDir(ctx, `${name}-q`)));
    script.push(await viaScript(ctx, topology, sessionDir(ctx, `${name}-s`)));
  }
  const readyMs = median(qemunet.map((r) => r.readyMs));
  const scriptMs = median(script.map((r) => r.readyMs));
  const idealMs = Math.ceil(n / CORES) * oneHostMs;
  const ratio = readyMs / idealMs;
  const pass = ratio <= GOALS.scalingRatio;
  // Paired differences: each qemunet run against the script run right after it, so drift cancels out.
  const overheadPerHostMs = median(qemunet.map((q, i) => q.readyMs - script[i]!.readyMs)) / n;
  const teardownPerHostMs = (median(qemunet.map((r) => r.stopMs)) - median(script.map((r) => r.powerOffMs))) / n;
  ctx.print(
    `${name} (${n} hosts, ${CORES} cores), up() to all ready, median of ${runs}: ${ms(readyMs)}; ideal ceil(${n}/${CORES}) x ${ms(oneHostMs)} = ${ms(idealMs)}, ratio ${ratio.toFixed(2)} (goal <= ${GOALS.scalingRatio}): ${verdict(pass)}` +
      ` [plain dry-run script: ${ms(scriptMs)}, ratio ${(scriptMs / idealMs).toFixed(2)}]`,
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
    const dir = sessionDir(ctx, 'orch');
    const wall0 = Date.now();
    const boot0 = uptimeMs();
    const t0 = performance.now();
    let lab: Lab | undefined;
    let figures: Omit<(typeof runs)[number], 'hardStopMs'> | undefined;
    try {
      lab = await up(request(ctx, topology, dir));
      // up() resolves once every host is 'booting' (QEMU spawned, QMP and console attached).
      const allBootingMs = performance.now() - t0;
      const spawned = lab.state().hosts.map((h) => startedAtMs(h.pid!) - boot0);
      const scripts = await Promise.all(lab.plan.hosts.map((h) => stat(h.paths.script)));
      figures = { firstSpawnMs: Math.min(...spawned), lastSpawnMs: Math.max(...spawned), sessionFilesMs: Math.max(...scripts.map((s) => s.mtimeMs)) - wall0, allBootingMs };
    } finally {
      const t1 = performance.now();
      await lab?.stop({ hard: true });
      const hardStopMs = performance.now() - t1;
      ctx.leftovers += leftovers(dir).length;
      if (figures) runs.push({ ...figures, hardStopMs });
    }
  }
  const m = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
  const pass = m('lastSpawnMs') <= GOALS.orchestrationMs;
  ctx.print(
    `orchestration, ${hosts} hosts, up() to the last QEMU spawned, median of ${RUNS.orchestration}: ${ms(m('lastSpawnMs'))} (goal <= ${ms(GOALS.orchestrationMs)}): ${verdict(pass)}` +
      ` [session files ready ${ms(m('sessionFilesMs'))}, first QEMU ${ms(m('firstSpawnMs'))}, all booting (up() resolved) ${ms(m('allBootingMs'))}, hard stop ${ms(m('hardStopMs'))}; /proc times in 10 ms steps]`,
  );
  return { hosts, runs, lastSpawnMs: m('lastSpawnMs'), goalMs: GOALS.orchestrationMs, pass };
}

/** The CLI way: `up --wait`, `status --json`, idle RSS of the VMs and of the supervising qemunet, `down`. */
async function cli(ctx: Ctx, topology: string) {
  const dir = sessionDir(ctx, 'cli');
  const qemunet = (...args: string[]) => execFileP(process.execPath, [QEMUNET, ...args], { cwd: ctx.root, env: request(ctx, topology, dir).env });
  const t0 = performance.now();
  let downDone = false;
  try {
    await qemunet('up', topology, '--session', dir, '--alias', 'debian=tiny', '--wait', '--timeout', String(READY_TIMEOUT_MS / 1000), '-K', '--display', 'none');
    const upWaitMs = performance.now() - t0;
    const state = JSON.parse((await qemunet('status', '--session', dir, '--json')).stdout) as SessionState;
    await sleep(2000); // idle: the guests have settled after their start scripts
    const vmRssKiB = state.hosts.map((h) => rssKiB(h.pid!));
    const qemunetRssKiB = rssKiB(state.pid);
    const switchRssKiB = state.switches.map((s) => rssKiB(s.pid!));
    const t1 = performance.now();
    await qemunet('down', '--session', dir);
    downDone = true;
    const downMs = performance.now() - t1;
    const left = leftovers(dir).length + (processAlive(state.pid) ? 1 : 0);
    ctx.leftovers += left;
    const perVm = vmRssKiB.reduce((a, b) => a + b, 0) / vmRssKiB.length;
    const slowestReadyMs = Math.max(...state.hosts.map((h) => h.readyMs ?? NaN));
    ctx.print(`CLI, ${state.hosts.length} hosts: up --wait ${ms(upWaitMs)} (slowest readyMs ${ms(slowestReadyMs)} from session start), down ${ms(downMs)}, ${left} processes left`);
    ctx.print(
      `RSS, idle: ${(perVm / 1024).toFixed(0)} MiB per VM (128 MiB guests; sum ${(vmRssKiB.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} MiB), qemunet supervisor ${(qemunetRssKiB / 1024).toFixed(0)} MiB, vde_switch ${(switchRssKiB.reduce((a, b) => a + b, 0) / 1024).toFixed(1)} MiB (no goal set)`,
    );
    return { upWaitMs, slowestReadyMs, downMs, vmRssKiB, perVmRssKiB: perVm, qemunetRssKiB, switchRssKiB, leftovers: left };
  } finally {
    if (!downDone) await qemunet('down', '--session', dir).catch(() => {});
  }
}

export async function benchLab(print: Print) {
  await using root = await tempDir('bench-lab');
  const ctx: Ctx = { root: root.path, print, foreign: 0, leftovers: 0, runs: 0 };
  // Ctrl-C or a kill of the bench: nothing of it may stay behind.
  const onSignal = (signal: NodeJS.Signals) => {
    killEverythingUnder(root.path);
    rmSync(root.path, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const one = await oneHost(ctx);
    const oneHostMs = median(one.qemunetReadyMs);
    const lan = await manyHosts(ctx, 'lan.topo', fixture('topologies', 'lan.topo'), RUNS.lan, oneHostMs);
    print(`overhead per host, lan.topo: (qemunet - same commands from the dry-run script) / ${lan.hosts}, median of paired runs: ${lan.overheadPerHostMs.toFixed(1)} ms (goal <= ${GOALS.overheadPerHostMs} ms): ${verdict(lan.overheadPerHostMs <= GOALS.overheadPerHostMs)}`);
    print(`teardown per host, lan.topo: lab.stop() ${ms(median(lan.qemunetStopMs))} - guests' own power-off ${ms(median(lan.scriptPowerOffMs))}, / ${lan.hosts}: ${lan.teardownPerHostMs.toFixed(1)} ms (no goal set)`);
    const sixteen = await manyHosts(ctx, '16 hosts', await writeTopology(ctx.root, 16), RUNS.sixteen, oneHostMs);
    const orch = await orchestration(ctx, 64);
    const viaCli = await cli(ctx, fixture('topologies', 'lan.topo'));
    const leftoverPass = ctx.leftovers <= GOALS.leftovers;
    print(`leftover qemu-system/vde_switch processes after every teardown (${ctx.runs} sessions): ${ctx.leftovers} (goal ${GOALS.leftovers}): ${verdict(leftoverPass)}`);
    if (ctx.foreign) print(`warning: up to ${ctx.foreign} QEMU processes of someone else were running during this bench; with ${CORES} cores its times are then too high`);
    return {
      cores: CORES,
      runs: RUNS,
      oneHost: one,
      lan: { ...lan, overheadGoalPerHostMs: GOALS.overheadPerHostMs, overheadPass: lan.overheadPerHostMs <= GOALS.overheadPerHostMs },
      sixteen,
      orchestration: orch,
      cli: viaCli,
      leftoverProcesses: ctx.leftovers,
      leftoverPass,
      foreignQemuProcesses: ctx.foreign,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const killed = killEverythingUnder(root.path);
    if (killed) print(`cleanup: killed ${killed} processes of this bench that were still running`);
  }
}
