import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ProcessError, QemunetError } from '../errors.js';
import { findProgram, run } from '../process/run.js';
import { missingProgramMessage } from '../process/programs.js';
import {
  BOOT_SECTOR_EXIT, bootSectorProbeArgv, kernelProbeArgv, probeBootSector, probeOutcome, verdictKey,
  type AccelMode, type AccelVerdict, type FileIdentity,
} from './accel-probe.js';

export type { AccelVerdict } from './accel-probe.js';

export interface DetectOptions {
  mode: AccelMode;
  /** The 64-bit Linux kernel to boot as the probe; without one, the boot-sector probe. */
  kernel?: string;
  /** The machine-wide verdict cache (`qemunetCacheDir()/accel.json`). */
  cacheFile: string;
  /** QEMU to probe with (a name on PATH or a path). */
  qemu?: string;
  kvmDevice?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Long enough for a loaded machine with working KVM (a kernel reaches its panic in well under 1 s). */
const PROBE_TIMEOUT_MS = 8000;

/**
 * KVM or TCG for this lab. A setting (-K, QEMUNET_ACCEL) is obeyed without probing. Otherwise the
 * verdict of booting the probe under KVM is used, cached per machine boot, QEMU binary and kernel.
 */
export async function detectAccel(o: DetectOptions): Promise<AccelVerdict> {
  if (o.mode === 'tcg') return { accel: 'tcg', reason: 'TCG was asked for (-K or QEMUNET_ACCEL=tcg)', source: 'setting' };
  if (o.mode === 'kvm') return { accel: 'kvm', source: 'setting' };
  const device = o.kvmDevice ?? '/dev/kvm';
  const unusable = await access(device, constants.R_OK | constants.W_OK).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? `${device} does not exist` : `no read-write access to ${device} (add your user to the kvm group)`),
  );
  if (unusable) return { accel: 'tcg', reason: unusable, source: 'probe' };
  const qemu = await findProgram(o.qemu ?? 'qemu-system-x86_64', o.env);
  if (!qemu) throw new QemunetError('PROGRAM_MISSING', missingProgramMessage('qemu-system-x86_64'));
  const key = verdictKey(await bootId(), await identity(qemu), o.kernel ? await identity(o.kernel) : undefined);
  const cache = await readCache(o.cacheFile);
  const cached = cache[key];
  if (cached) return { ...cached, source: 'cache' };
  const failure = await probe(qemu, o.kernel, o.timeoutMs ?? PROBE_TIMEOUT_MS);
  const verdict: Omit<AccelVerdict, 'source'> = failure ? { accel: 'tcg', reason: failure } : { accel: 'kvm' };
  await writeCache(o.cacheFile, key, verdict);
  return { ...verdict, source: 'probe' };
}

async function probe(qemu: string, kernel: string | undefined, timeoutMs: number): Promise<string | undefined> {
  if (kernel) {
    const r = await boot(qemu, kernelProbeArgv(kernel), timeoutMs);
    return probeOutcome(r, r.stdout, r.stderr, timeoutMs);
  }
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-probe-'));
  try {
    const sector = join(dir, 'boot.img');
    await writeFile(sector, probeBootSector());
    const r = await boot(qemu, bootSectorProbeArgv(sector), timeoutMs);
    if (r.timedOut) return `a test guest under KVM did not finish within ${timeoutMs / 1000} s`;
    return r.code === BOOT_SECTOR_EXIT ? undefined : r.stderr.trim().split('\n').pop() || `the KVM test guest exited with status ${r.code}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface BootResult {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs the probe guest to its end or the deadline; it dies with qemunet (a hung probe must not stay). */
async function boot(qemu: string, argv: string[], timeoutMs: number): Promise<BootResult> {
  try {
    const r = await run('setpriv', ['--pdeathsig', 'KILL', '--', qemu, ...argv], { signal: AbortSignal.timeout(timeoutMs) });
    return { code: 0, timedOut: false, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return { code: null, timedOut: true, stdout: '', stderr: '' };
    if (e instanceof ProcessError) return { code: e.exitCode, timedOut: false, stdout: '', stderr: e.output };
    throw e;
  }
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
}

async function identity(path: string): Promise<FileIdentity> {
  const s = await stat(path);
  return { path, size: s.size, mtimeMs: s.mtimeMs };
}

type Cache = Record<string, Omit<AccelVerdict, 'source'>>;

async function readCache(file: string): Promise<Cache> {
  const text = await readFile(file, 'utf8').catch(() => '{}');
  try {
    const parsed = JSON.parse(text) as { verdicts?: Cache };
    return parsed.verdicts && typeof parsed.verdicts === 'object' ? parsed.verdicts : {};
  } catch {
    return {};
  }
}

/** Keeps the verdicts of this boot only; written atomically, since several qemunet may probe at once. */
async function writeCache(file: string, key: string, verdict: Omit<AccelVerdict, 'source'>): Promise<void> {
  const boot = key.slice(0, key.indexOf('|') + 1);
  const kept = Object.fromEntries(Object.entries(await readCache(file)).filter(([k]) => k.startsWith(boot)));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, `${JSON.stringify({ verdicts: { ...kept, [key]: verdict } }, null, 2)}\n`);
    await rename(tmp, file);
  } catch {
    // An unwritable cache only means probing again next time.
    await rm(tmp, { force: true });
  }
}
