import type { AccelMode } from '../../vm/accel-probe.js';
import type { BootLimits } from './watchdog.js';
import type { DisplayMode } from '../plan.js';

/**
 * What starting a lab needs from the machine and the user's environment, found by the caller (the CLI
 * reads its environment variables into this, cli/lab-settings.ts). The core reads no environment.
 */
export interface LabEnvironment {
  /** Where built images are kept (tiny, debian). */
  imageStore: string;
  /** The machine-wide cache of the KVM probe's verdict. */
  accelCache: string;
  /** Where running sessions are registered, for `qemunet status` and the web page's list. */
  registryDir: string;
  /** The user's home directory: `${HOME}` in qemunet.cfg. */
  home: string;
  /** Where a new session directory is made when none is given. */
  tmpDir: string;
  /** The X display that windows (terminals, QEMU's window, viewers) open on; none when undefined. */
  xDisplay?: string;
  /** A Wayland session is there: X programs can run through XWayland without an X display set. */
  wayland: boolean;
  /** A D-Bus session bus is there (gnome-terminal needs one). */
  dbusSession: boolean;
  /** The directories where programs are looked for (a PATH). */
  programPath: string;
}

/**
 * Everything `up` is asked to do, each setting described by what it does; the CLI maps its flags and
 * environment onto these (cli/lab-settings.ts). Optional settings have the default they name.
 */
export interface UpSettings {
  /** The topology file; without it, the session directory's own `topology`. */
  topologyFile?: string;
  /** The session directory (made if missing, never wiped); default: a new one under `environment.tmpDir`. */
  /** A lab checks file: checked against the topology before anything starts, then kept in the session as its `checks`. */
  checksFile?: string;
  sessionDir?: string;
  /** The qemunet.cfg to read; default ./qemunet.cfg when it exists. */
  configFile?: string;
  /** A topology's system name resolved as another system. */
  aliases?: ReadonlyMap<string, string>;
  /** The display of hosts whose HOST line names none; default none. */
  display?: DisplayMode;
  /** KVM when it works (probe, the default), KVM without probing, or TCG emulation. */
  accel?: AccelMode;
  /** A Slirp NIC on every host, for internet access. */
  internet?: boolean;
  /** A quiet kernel boot on the Linux guests booted with a kernel. */
  quiet?: boolean;
  /** Appended to the kernel command line of Linux guests booted with a kernel. */
  kernelArgs?: readonly string[];
  /** The `user=` kernel argument of those guests; default the user running qemunet. */
  user?: string;
  /** Each host's `<session>/<host>/` shared into the guest (default on). */
  mountDir?: boolean;
  /** `<session>/<host>.disk` attached when present (default on). */
  mountDisk?: boolean;
  /** The NIC model of every VM, instead of each system's own. */
  nicModel?: string;
  /** A saved session (an archive or a directory) the session starts from. */
  from?: string;
  /** An archive extracted into the session before it starts. */
  extraArchive?: string;
  /** Each switch's management console in a window (tmux, or xterm with the xterm display). */
  switchConsoles?: boolean;
  /** A viewer window per vnc/spice host (remote-viewer, TigerVNC for a VNC unix socket), for the session's life. */
  viewers?: boolean;
  /** vnc and spice hosts listen on 127.0.0.1 TCP ports with a generated password, instead of unix sockets in the session. */
  displayTcp?: boolean;
  /** VLAN support: trunks allowed, and each switch's `<switch>.cmd` loaded at start. */
  vlan?: boolean;
  /** Boot on the base image itself: changes are permanent. */
  rawBase?: boolean;
  /** Start even when a restored overlay's base image differs (a warning instead of an error). */
  force?: boolean;
  /** QemuNet's `session` link in the working directory (default on). */
  sessionLink?: boolean;
  /** A wirefilter on every NIC, so faults can be set live on any link. */
  wireAll?: boolean;
  /** false: a lab from elsewhere (a web page's labs folder): a TAP line is an error (it changes this machine's network), and its `.cmd` lines may only do what a lab's console may. */
  hostNetwork?: boolean;
  /** What the user can do when KVM does not work, said after that warning (the CLI names its option and variable). */
  accelHint?: string;
  /** TCG's translation cache of every host under TCG, in MiB (less memory, slower boots); default per system. */
  tcgCacheMiB?: number;
  /** How many guests boot at once; default twice the CPUs. */
  bootSlots?: number;
  /** Kernel same-page merging: turned on (on), no hint about it (off), else a hint for big labs. */
  ksm?: 'on' | 'off';
  /** When a booting host counts as stalled (the boot watchdog). */
  bootLimits?: BootLimits;
  /** How long a guest gets to power off before it is stopped hard. */
  stopTimeoutMs?: number;
  /** The session stops when this process is gone (a script or test run that started it). */
  ownerPid?: number;
  /** How to run qemunet itself (the console windows and `<host>.sh` call it); default `qemunet` on PATH. */
  qemunetCommand?: readonly string[];
  /** Relative paths are taken from here; default the process's working directory. */
  cwd?: string;
  environment: LabEnvironment;
  /** Progress and notices for the user (one line each). */
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
}
