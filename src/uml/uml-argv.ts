import { NO_AVX_GLIBC, SECCOMP_FD } from './legacy-fpu.js';

/** Debian's user-mode-linux package installs the UML kernel here (`linux` is an alternative for it). */
export const DEFAULT_UML_KERNEL = '/usr/bin/linux.uml';

/** Everything needed to start one User-Mode Linux host, already resolved to paths and values. */
export interface UmlSpec {
  name: string;
  /** The UML `linux` binary. */
  kernel: string;
  memoryMiB: number;
  /** Read-only base root filesystem. */
  base: string;
  /** The host's own directory: its copy-on-write file and UML's run directory (mconsole) live here. */
  dir: string;
  /** The copy-on-write file over `base` (inside `dir`); UML creates it on first boot. */
  cow: string;
  /** UML's `uml_dir` (inside `dir`): `<uml_dir>/<name>/mconsole`. */
  runDir: string;
  /** QemuNet's `<host>.disk` (raw): the guest's second disk, ubdb, mounted on /mnt/disk as under QEMU. */
  disk?: string;
  /** Each NIC plugs into a vdeplug URL (the ptp socket of its wirefilter), with its MAC, in topology order. */
  nics: ReadonlyArray<{ url: string; mac: string }>;
  /** Directories of those ptp sockets, bound into the jail. */
  socketDirs: readonly string[];
  /** The session's `<host>/` folder: the only host directory the guest's hostfs reaches. */
  shareDir?: string;
  /** Where qemunet serves the guest agent of the second serial line (as QEMU serves its agent socket). */
  agentSocket: string;
  /** Kernel command line words after qemunet's own (hostname=, user=, -z ...). */
  append: readonly string[];
  /** A CPU whose FPU state this UML kernel cannot save (AMX): the legacy state, and no AVX in the guest's glibc (legacy-fpu.ts). */
  legacyFpu?: boolean;
}

/**
 * The UML kernel's command line. The console is the process's stdin/stdout (`ssl0=fd:0,fd:1`, also the
 * kernel console), the guest agent's serial line is fd 3 (`ssl1`); every other channel is null, so no
 * xterm or pty is opened. `ubd0c` (not `ubd0`): UML does not lock the base, so QEMU hosts on the same
 * base image still start.
 */
export function umlArgv(spec: UmlSpec): string[] {
  return [
    `umid=${spec.name}`,
    `uml_dir=${spec.runDir}`,
    `mem=${spec.memoryMiB}M`,
    `ubd0c=${spec.cow},${spec.base}`,
    ...(spec.disk ? [`ubd1=${spec.disk}`] : []),
    'root=/dev/ubda',
    'rw',
    ...spec.nics.map((n, i) => `eth${i}=vde,${n.url},${n.mac}`),
    'con=null',
    'ssl=null',
    'ssl0=fd:0,fd:1',
    'ssl1=fd:3',
    'console=ttyS0',
    ...(spec.shareDir ? [`hostfs=${spec.shareDir}`, 'qemunet.hostfs'] : []),
    'qemunet.agent=ttyS1',
    ...spec.append,
    ...(spec.legacyFpu ? [NO_AVX_GLIBC] : []),
  ];
}

/**
 * bubblewrap around the UML kernel. The guest's root can mount any host path with hostfs (`hostfs=`
 * does not stop `-o ../..`), so the kernel runs where the host shows only /usr (read-only), its base
 * image (read-only), its own directory, its `<host>.disk`, its NICs' sockets and its `<host>/` folder. It also ties the
 * UML processes to qemunet: all are in a PID namespace that ends with bwrap, which dies with qemunet
 * (UML's helpers would otherwise survive a SIGKILL of UML and hold their switch ports).
 */
export function umlJailArgv(spec: UmlSpec): string[] {
  const ro = (p: string) => ['--ro-bind', p, p];
  const rw = (p: string) => ['--bind', p, p];
  const usrmerge = ['bin', 'sbin', 'lib', 'lib64'].flatMap((d) => ['--symlink', `usr/${d}`, `/${d}`]);
  return [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    ...ro('/usr'),
    ...usrmerge,
    '--dev', '/dev',
    '--proc', '/proc',
    // UML's memory file goes to $TMPDIR: a tmpfs of its own.
    '--tmpfs', '/tmp',
    '--setenv', 'TMPDIR', '/tmp',
    ...(spec.kernel.startsWith('/usr/') ? [] : ro(spec.kernel)),
    ...ro(spec.base),
    ...rw(spec.dir),
    ...(spec.disk ? rw(spec.disk) : []),
    ...spec.socketDirs.flatMap(rw),
    ...(spec.shareDir ? rw(spec.shareDir) : []),
    ...(spec.legacyFpu ? ['--seccomp', String(SECCOMP_FD)] : []),
    '--',
    spec.kernel,
    ...umlArgv(spec),
  ];
}

/** UML joins its arguments into one kernel command line split on blanks, and several values on commas. */
export function umlUnsafePath(path: string): boolean {
  return /[\s,]/.test(path);
}
