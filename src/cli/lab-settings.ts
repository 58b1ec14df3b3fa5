import { DEFAULT_BOOT_LIMITS, DISPLAY_MODES, labEnvironment, TINY_TCG_CACHE_MIB, type AccelMode, type DisplayMode, type LabEnvironment, type UpSettings } from '../api/index.js';
import { EnvironmentError, UsageError } from '../errors.js';
import type { UpOptions } from './up-options.js';

/**
 * The command line and the environment, resolved into the settings `up` takes. Pure: the caller
 * gives its environment, home directory and how to run qemunet. The environment variables read:
 *
 * - DISPLAY: the X display windows open on; when set, hosts without a display get xterm (else none).
 * - WAYLAND_DISPLAY, DBUS_SESSION_BUS_ADDRESS, PATH: what the display modes' windows and programs need.
 * - QEMUNET_ACCEL: kvm, tcg or auto (the default: probe KVM); -K wins.
 * - QEMUNET_TCG_CACHE: TCG's translation cache of every VM, in MiB.
 * - QEMUNET_BOOT_SLOTS: how many guests boot at once.
 * - QEMUNET_KSM: on (turn KSM on) or off (no hint).
 * - QEMUNET_OWNER_PID: the session ends when that process does.
 * - QEMUNET_IMAGES, XDG_CACHE_HOME: the image store and the KVM probe's cache.
 * - QEMUNET_STATE_DIR, XDG_STATE_HOME: where sessions are registered.
 * - HOME: `${HOME}` in qemunet.cfg.  TMPDIR (else TMP, TEMP, /tmp): where new sessions are made.
 */
export interface SettingsContext {
  env: NodeJS.ProcessEnv;
  /** The user's home directory (os.homedir()), under which the caches are by default. */
  home: string;
  /** How the session's console windows and `<host>.sh` run qemunet. */
  qemunetCommand: readonly string[];
}

export function upSettings(o: UpOptions, c: SettingsContext): UpSettings {
  const environment = labEnvironment(c.env, c.home);
  return {
    ...(o.topology ? { topologyFile: o.topology } : {}),
    ...(o.checks ? { checksFile: o.checks } : {}),
    ...(o.session ? { sessionDir: o.session } : {}),
    ...(o.config ? { configFile: o.config } : {}),
    display: displayOf(o.display, environment),
    ...(o.user ? { user: o.user } : {}),
    ...(o.from ? { from: o.from } : {}),
    ...(o.extraArchive ? { extraArchive: o.extraArchive } : {}),
    force: o.force,
    vlan: o.vlan,
    // From a browser, users try faults on any link: --web wires every NIC.
    ...(o.wireAll || o.web ? { wireAll: true } : {}),
    ...(o.noTaps ? { hostNetwork: false } : {}),
    switchConsoles: o.switchConsoles,
    ...(o.viewers ? { viewers: true } : {}),
    ...(o.displayTcp ? { displayTcp: true } : {}),
    aliases: o.aliases,
    // -K wins over QEMUNET_ACCEL, whatever that says.
    accel: o.accel ? accelFromEnvironment(c.env.QEMUNET_ACCEL) : 'tcg',
    accelHint: 'QEMUNET_ACCEL=kvm forces KVM; -K skips this check',
    internet: o.internet,
    quiet: o.quiet,
    kernelArgs: o.kernelArgs,
    mountDir: o.mountDir,
    mountDisk: o.mountDisk,
    ...(o.bootSilenceSec || o.bootLimitSec
      ? { bootLimits: { silentMs: (o.bootSilenceSec ?? DEFAULT_BOOT_LIMITS.silentMs / 1000) * 1000, notReadyMs: (o.bootLimitSec ?? DEFAULT_BOOT_LIMITS.notReadyMs / 1000) * 1000 } }
      : {}),
    ...tuningFromEnvironment(c.env),
    qemunetCommand: c.qemunetCommand,
    environment,
  };
}

/** `-d MODE`, else xterm windows when there is an X display, else none. */
function displayOf(given: string | undefined, environment: LabEnvironment): DisplayMode {
  if (given === undefined) return environment.xDisplay ? 'xterm' : 'none';
  if ((DISPLAY_MODES as readonly string[]).includes(given)) return given as DisplayMode;
  throw new UsageError(`unknown display mode "${given}"; allowed: ${DISPLAY_MODES.join(', ')}`);
}

/** QEMUNET_ACCEL: what the user asked for when -K is not given. */
export function accelFromEnvironment(value: string | undefined): AccelMode {
  const v = value?.trim().toLowerCase();
  if (!v) return 'probe';
  if (v === 'kvm' || v === 'tcg') return v;
  if (v === 'auto' || v === 'probe') return 'probe';
  throw new EnvironmentError('QEMUNET_ACCEL', value!, 'kvm (no probe), tcg, auto (probe; the default)');
}

/** The tuning variables, checked; an empty one counts as unset. */
export function tuningFromEnvironment(env: NodeJS.ProcessEnv): Pick<UpSettings, 'tcgCacheMiB' | 'bootSlots' | 'ksm' | 'ownerPid'> {
  const tcgCache = wholeNumber(env, 'QEMUNET_TCG_CACHE', 4, 4096, `a size in MiB from 4 to 4096 (TCG's translation cache of each VM; tiny's default is ${TINY_TCG_CACHE_MIB}, 16 saves memory at the cost of slower boots)`);
  const bootSlots = wholeNumber(env, 'QEMUNET_BOOT_SLOTS', 1, Number.MAX_SAFE_INTEGER, 'a number of guests from 1 (how many boot at once; the default is twice the CPUs)');
  const ownerPid = wholeNumber(env, 'QEMUNET_OWNER_PID', 1, Number.MAX_SAFE_INTEGER, 'a process id (the session ends when that process does)');
  const ksm = env.QEMUNET_KSM || undefined;
  if (ksm !== undefined && ksm !== 'on' && ksm !== 'off') throw new EnvironmentError('QEMUNET_KSM', ksm, 'on (turn KSM on), off (no hint)');
  return {
    ...(tcgCache !== undefined ? { tcgCacheMiB: tcgCache } : {}),
    ...(bootSlots !== undefined ? { bootSlots } : {}),
    ...(ksm ? { ksm } : {}),
    ...(ownerPid !== undefined ? { ownerPid } : {}),
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, variable: string, min: number, max: number, allowed: string): number | undefined {
  const value = env[variable];
  if (value === undefined || value === '') return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new EnvironmentError(variable, value, allowed);
  return n;
}

/** The catalog's settings for the image commands: where images are kept, and ${HOME} for qemunet.cfg. */
export function catalogSettings(configFile: string | undefined, c: Pick<SettingsContext, 'env' | 'home'>): { configFile?: string; storeDir: string; home: string } {
  const e = labEnvironment(c.env, c.home);
  return { ...(configFile ? { configFile } : {}), storeDir: e.imageStore, home: e.home };
}
