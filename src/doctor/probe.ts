import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { delimiter } from 'node:path';
import { builtImagePaths } from '../images/store.js';
import { qemuDisplayBackends } from '../lab/driver/displays.js';
import { listImages } from '../lab/images.js';
import { packageFile, QEMUNET_VERSION } from '../lab/version.js';
import { PROTOCOL_VERSION } from '../protocol/session-protocol.js';
import { findProgram, run } from '../process/run.js';
import type { AccelMode } from '../vm/accel-probe.js';
import type { LabEnvironment } from '../lab/driver/settings.js';
import { detectAccel } from '../vm/accel.js';
import { KSM_RUN_FILE } from '../vm/ksm.js';
import { DOCTOR_PROGRAMS } from './assess.js';
import type { ImageFacts, KvmFacts, MachineFacts } from './facts.js';

/** Long enough for a loaded machine; a probe that takes longer counts as not working. */
const QUICK_MS = 5000;

/** Gathers what `qemunet doctor` judges. Nothing here changes the machine (the KVM verdict is cached, as a lab does). */
/** What the caller (cli/) resolved from the environment: the accelerator asked for (or why it is not valid), where images and the KVM verdict are kept. */
export interface ProbeSettings {
  env: NodeJS.ProcessEnv;
  accel: AccelMode | { invalid: string };
  environment: Pick<LabEnvironment, 'imageStore' | 'accelCache' | 'home'>;
}

export async function probeMachine(settings: ProbeSettings): Promise<MachineFacts> {
  const { env } = settings;
  const programs: Record<string, string | undefined> = {};
  for (const p of DOCTOR_PROGRAMS) programs[p] = await findProgram(p, p === 'sshd' ? withSbin(env) : env);
  const qemu = programs['qemu-system-x86_64'];
  const vde = programs.vde_switch;
  const [qemuVersion, vdeVersion] = await Promise.all([qemu ? qemuVersionOf(qemu, env) : undefined, vde ? vdeVersionOf(vde, env) : undefined]);
  const qemuDisplays = qemu ? await qemuDisplayBackends(AbortSignal.timeout(QUICK_MS)).then((s) => [...s], () => undefined) : undefined;
  return {
    qemunetVersion: QEMUNET_VERSION,
    nodeVersion: process.version,
    root: process.getuid?.() === 0,
    user: userInfo().username,
    programs,
    ...(qemuVersion ? { qemuVersion } : {}),
    ...(vdeVersion ? { vdeVersion } : {}),
    ...(qemuDisplays ? { qemuDisplays } : {}),
    kvm: await kvmFacts(settings, qemu, programs.setpriv),
    ...(await cpuVendor()),
    images: await imageFacts(settings),
    ...optional('bwrap', programs.bwrap ? await works(programs.bwrap, ['--ro-bind', '/', '/', '--unshare-pid', '--unshare-ipc', '--dev', '/dev', '--', 'true'], env) : undefined),
    ...optional('userNamespaces', await userNamespaces(env)),
    ...optional('ksmRun', await readFile(KSM_RUN_FILE, 'utf8').then((t) => t.trim(), () => undefined)),
    ...optional('memAvailableMiB', await memAvailableMiB()),
    ...optional('cgroup', await cgroupVersion()),
    ...optional('display', env.DISPLAY || undefined),
    installScript: packageFile('scripts/install-deps.sh'),
  };
}

/** qemunet's version and those of what it drives (`qemunet version --json`). */
export async function versions(env: NodeJS.ProcessEnv = process.env): Promise<{ qemunet: string; protocol: number; node: string; qemu: string | null; vde_switch: string | null }> {
  const [qemu, vde] = await Promise.all([findProgram('qemu-system-x86_64', env), findProgram('vde_switch', env)]);
  return {
    qemunet: QEMUNET_VERSION,
    protocol: PROTOCOL_VERSION,
    node: process.version,
    qemu: (qemu && (await qemuVersionOf(qemu, env))) ?? null,
    vde_switch: (vde && (await vdeVersionOf(vde, env))) ?? null,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/** sshd lives in /usr/sbin, which a user's PATH often lacks. */
function withSbin(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PATH: [env.PATH ?? '', '/usr/sbin', '/sbin'].filter(Boolean).join(delimiter) };
}

async function qemuVersionOf(qemu: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const out = await run(qemu, ['--version'], { env, signal: AbortSignal.timeout(QUICK_MS) }).then((r) => r.stdout, () => '');
  return /version\s+(\S+(?:\s+\([^)]*\))?)/.exec(out)?.[1];
}

async function vdeVersionOf(vde: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const out = await run(vde, ['-v'], { env, signal: AbortSignal.timeout(QUICK_MS) }).then((r) => r.stdout + r.stderr, () => '');
  return /VDE\s+(\S+)/.exec(out)?.[1];
}

/** The verdict a lab would get: the same probe, the same cache, tiny's kernel when it is built. */
async function kvmFacts({ env, accel: mode, environment }: ProbeSettings, qemu: string | undefined, setpriv: string | undefined): Promise<KvmFacts | { error: string }> {
  if (!qemu) return { error: 'qemu-system-x86_64 is missing' };
  if (!setpriv) return { error: 'setpriv is missing' };
  if (typeof mode === 'object') return { error: mode.invalid };
  const kernel = builtImagePaths(environment.imageStore, 'tiny').kernel;
  const haveKernel = await stat(kernel).then(() => true, () => false);
  try {
    const v = await detectAccel({ mode, cacheFile: environment.accelCache, env, ...(haveKernel ? { kernel } : {}) });
    return { accel: v.accel, source: v.source, ...(v.reason ? { reason: v.reason } : {}) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function cpuVendor(): Promise<{ cpuVendor?: 'intel' | 'amd' }> {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  if (/GenuineIntel/.test(info)) return { cpuVendor: 'intel' };
  if (/AuthenticAMD/.test(info)) return { cpuVendor: 'amd' };
  return {};
}

async function imageFacts({ environment }: ProbeSettings): Promise<ImageFacts[]> {
  const { rows } = await listImages({ storeDir: environment.imageStore, home: environment.home }).catch(() => ({ rows: [] }));
  return rows.filter((r) => r.source === 'built-in' && (r.name === 'tiny' || r.name === 'debian')).map((r) => ({
    name: r.name,
    built: r.files.every((f) => f.state === 'present'),
    bytes: r.files.reduce((n, f) => n + (f.bytes ?? 0), 0),
  }));
}

/** true when the command succeeds, else the last line it said. */
async function works(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<true | string> {
  try {
    await run(program, args, { env, signal: AbortSignal.timeout(QUICK_MS) });
    return true;
  } catch (e) {
    return (e as Error).message.trim().split('\n').pop() ?? 'failed';
  }
}

/** mmdebstrap's unshare mode (building debian without root) needs an unprivileged user namespace. */
async function userNamespaces(env: NodeJS.ProcessEnv): Promise<true | string | undefined> {
  const unshare = await findProgram('unshare', env);
  return unshare ? works(unshare, ['--user', '--map-root-user', 'true'], env) : undefined;
}

async function memAvailableMiB(): Promise<number | undefined> {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8').catch(() => ''));
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

async function cgroupVersion(): Promise<MachineFacts['cgroup']> {
  const exists = (p: string) => stat(p).then(() => true, () => false);
  if (await exists('/sys/fs/cgroup/cgroup.controllers')) return 'v2';
  if (await exists('/sys/fs/cgroup/unified/cgroup.controllers')) return 'hybrid';
  if (await exists('/sys/fs/cgroup/memory')) return 'v1';
  return undefined;
}
