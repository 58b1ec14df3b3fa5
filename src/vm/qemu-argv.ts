/** Everything needed to start one VM, already resolved to paths and values. */
export interface VmSpec {
  name: string;
  accel: 'kvm' | 'tcg' | 'hvf';
  /** Left out when the system's own QEMU options set -m. */
  memoryMiB?: number;
  /**
   * TCG's translation cache in MiB (`-accel tcg,tb-size=`). QEMU 7.2 reserves 1 GiB and an idle tiny
   * guest fills over 100 MiB of it (huge pages); a small cache is flushed and refilled when full.
   */
  tcgCacheMiB?: number;
  /**
   * A virtio-balloon that only reports free pages: the guest hands back the RAM it frees (in 2 MiB
   * blocks), which QEMU returns to the host. It never inflates: the guest keeps all its memory.
   */
  freePageReporting?: boolean;
  cpus?: number;
  /** The root disk: a qcow2 overlay (or a raw image with -L). */
  disk: { path: string; format: 'qcow2' | 'raw'; interface: 'virtio' | 'ide'; snapshot?: boolean };
  /** QemuNet's <host>.disk, attached as second drive. */
  extraDisk?: { path: string; format: 'raw' | 'qcow2'; interface: 'virtio' | 'ide' };
  kernel?: { path: string; initrd?: string; append: string };
  nics: readonly NicSpec[];
  /** Model of the Slirp NIC (-i); e1000 by default. */
  internetModel?: string;
  /** Slirp NIC for internet access (-i), after the lab NICs. */
  internet?: boolean;
  /** The <host>/ directory shared into the guest by 9p with tag "host". */
  shareDir?: string;
  serialSocket: string;
  qmpSocket: string;
  agentSocket?: string;
  pidFile?: string;
  display: DisplaySpec;
  /** Extra QEMU options from QEMUOPT, already split into words. */
  extra?: readonly string[];
}

/**
 * The VM's screen. gtk/sdl: QEMU's own window (titled "QEMU (NAME)"). vnc/spice: a server on a unix
 * socket (owner-only: QEMU inherits qemunet's private umask), or on 127.0.0.1 at a TCP port, where it
 * refuses every client until a password is set through QMP (so the password never shows in `ps`).
 */
export type DisplaySpec =
  | { kind: 'none' }
  | { kind: 'gtk' }
  | { kind: 'sdl' }
  | { kind: 'vnc' | 'spice'; listen: { socket: string } | { port: number } };

/** VNC's display numbers count from TCP port 5900. */
export const VNC_BASE_PORT = 5900;

export interface NicSpec {
  /** vde switch directory (a vde_switch -sock path), or a vdeplug URL (ptp:// to a wirefilter). */
  switchSocket: string;
  /** The switch port; none for a URL that is not a switch. */
  port?: number;
  mac: string;
  model: string;
}

/** PCI slots: lab NICs first and in topology order, so the guest can name them eth0, eth1, ... */
export const FIRST_NIC_SLOT = 0x10;

/**
 * The qemu-system-x86_64 command line for one VM. Pure: same spec, same argv, so `--dry-run` shows
 * exactly what runs and tests compare whole arrays.
 */
export function qemuArgv(spec: VmSpec): string[] {
  const a: string[] = ['-name', qemuOpts(spec.name, { process: `qemu-${spec.name}` }), '-nodefaults', '-no-user-config'];
  // -accel and -machine accel= cannot be given together: the cache size needs -accel.
  if (spec.accel === 'tcg' && spec.tcgCacheMiB) a.push('-machine', 'pc', '-accel', qemuOpts('tcg', { 'tb-size': spec.tcgCacheMiB }));
  else a.push('-machine', qemuOpts('pc', { accel: spec.accel }));
  if (spec.accel !== 'tcg') a.push('-cpu', 'host');
  if (spec.memoryMiB) a.push('-m', String(spec.memoryMiB));
  if (spec.cpus && spec.cpus > 1) a.push('-smp', String(spec.cpus));
  // QemuNet's: the guest's hardware clock holds the host's local time (a guest that reads it as UTC,
  // as Linux does by default, shows the host's wall-clock hour; QemuNet's labs rely on it).
  a.push('-rtc', 'base=localtime');
  a.push(...driveArgs('disk0', spec.disk.path, spec.disk.format, spec.disk.interface, 0, spec.disk.snapshot));
  if (spec.extraDisk) a.push(...driveArgs('disk1', spec.extraDisk.path, spec.extraDisk.format, spec.extraDisk.interface, 1, false));
  if (spec.kernel) {
    // Plain arguments, not comma-separated options: escaped, a path would name a file that is not
    // there (checked with QEMU 7.2). QEMU splits -initrd on commas only for a multiboot kernel; qemunet
    // passes KERNEL/INITRD for Linux systems only, whose bzImage QEMU loads without that split.
    a.push('-kernel', spec.kernel.path);
    if (spec.kernel.initrd) a.push('-initrd', spec.kernel.initrd);
    a.push('-append', spec.kernel.append);
  }
  spec.nics.forEach((nic, i) => {
    const id = `nic${i}`;
    a.push('-netdev', qemuOpts('vde', { id, sock: nic.switchSocket, port: nic.port }));
    a.push('-device', qemuOpts(nic.model, { netdev: id, mac: nic.mac, addr: hex(FIRST_NIC_SLOT + i), romfile: '' }));
  });
  if (spec.internet) {
    a.push('-netdev', 'user,id=inet');
    a.push('-device', qemuOpts(spec.internetModel ?? 'e1000', { netdev: 'inet', addr: hex(FIRST_NIC_SLOT + spec.nics.length), romfile: '' }));
  }
  if (spec.shareDir) {
    a.push('-fsdev', qemuOpts('local', { id: 'share0', path: spec.shareDir, security_model: 'none' }));
    a.push('-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host');
  }
  // The serial console is a socket that qemunet logs and fans out to any number of viewers.
  a.push('-chardev', qemuOpts('socket', { id: 'serial0', path: spec.serialSocket, server: 'on', wait: 'off' }));
  a.push('-serial', 'chardev:serial0');
  a.push('-chardev', qemuOpts('socket', { id: 'qmp', path: spec.qmpSocket, server: 'on', wait: 'off' }));
  a.push('-mon', 'chardev=qmp,mode=control');
  if (spec.agentSocket) {
    a.push('-device', 'virtio-serial-pci,id=vser0');
    a.push('-chardev', qemuOpts('socket', { id: 'qga0', path: spec.agentSocket, server: 'on', wait: 'off' }));
    a.push('-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0');
  }
  a.push('-device', 'virtio-rng-pci');
  if (spec.freePageReporting) a.push('-device', 'virtio-balloon-pci,free-page-reporting=on');
  a.push(...displayArgs(spec.display));
  if (spec.pidFile) a.push('-pidfile', spec.pidFile); // a plain argument, like -kernel
  a.push(...(spec.extra ?? []));
  return a;
}

function driveArgs(id: string, path: string, format: string, iface: 'virtio' | 'ide', index: number, snapshot?: boolean): string[] {
  return ['-drive', qemuOpts(undefined, { file: path, format, id, cache: 'writeback', snapshot: snapshot ? 'on' : undefined, if: iface, index: iface === 'ide' ? index : undefined })];
}

/**
 * Every screen is the standard VGA (the guest's bochs DRM driver gives it a text console, also for
 * SPICE, which streams any VGA). Every listening endpoint is a unix socket or binds to loopback only.
 */
function displayArgs(d: DisplaySpec): string[] {
  switch (d.kind) {
    case 'none':
      return ['-display', 'none', '-vga', 'none'];
    case 'gtk':
    case 'sdl':
      return ['-vga', 'std', '-display', d.kind];
    case 'vnc':
      return ['-vga', 'std', '-display', 'none', '-vnc', 'socket' in d.listen ? qemuOpts(`unix:${d.listen.socket}`, {}) : qemuOpts(`127.0.0.1:${d.listen.port - VNC_BASE_PORT}`, { password: 'on' })];
    case 'spice':
      return ['-vga', 'std', '-display', 'none', '-spice', 'socket' in d.listen ? qemuOpts(undefined, { unix: 'on', addr: d.listen.socket, 'disable-ticketing': 'on' }) : qemuOpts(undefined, { port: d.listen.port, addr: '127.0.0.1' })];
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * A comma-separated QEMU option (`-drive`, `-netdev`, `-chardev`, `-fsdev`, `-device`...): `first`
 * (the implied value: a backend, a driver), then `key=value` for each defined value, in order.
 * QEMU splits these on commas and reads `,,` as a literal comma, so every value is escaped here: a
 * path with a comma (a session in `/tmp/a,b`) can neither break the option nor add keys of its own
 * (a directory named `x,path=/etc`). Keys are qemunet's constants.
 */
export function qemuOpts(first: string | undefined, values: Record<string, string | number | undefined>): string {
  const parts = first === undefined ? [] : [escapeOpt(first)];
  for (const [key, value] of Object.entries(values)) if (value !== undefined) parts.push(`${key}=${escapeOpt(String(value))}`);
  return parts.join(',');
}

/** QEMU option values escape a comma by doubling it. */
function escapeOpt(value: string): string {
  return value.replace(/,/g, ',,');
}

/** QemuNet's MAC prefix: locally administered (bit 1 of the first byte), unicast (bit 0 clear). */
export const MAC_PREFIX = 'AA:AA:AA:AA';

/** Hosts and NICs QemuNet's MAC scheme can number: one byte each. */
export const MAX_MAC_INDEX = 0xff;

/**
 * QemuNet's MACs, exactly as qemunet.sh prints them (`printf "AA:AA:AA:AA:%02x:%02x"`): the host's
 * index in HOST order from 0, then the NIC's index from 0, in lowercase hex. Labs and their answer
 * sheets (DHCP leases pinned to a MAC) use these.
 */
export function macAddress(hostIndex: number, nicIndex: number): string {
  for (const [what, n] of [['host', hostIndex], ['NIC', nicIndex]] as const) {
    if (!Number.isInteger(n) || n < 0 || n > MAX_MAC_INDEX) throw new RangeError(`${what} index ${n} does not fit QemuNet's MAC scheme (0..${MAX_MAC_INDEX})`);
  }
  return `${MAC_PREFIX}:${hex2(hostIndex)}:${hex2(nicIndex)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export interface TinyKernelArgs {
  hostname: string;
  /** QemuNet's `user=` (the login running qemunet, or `-u`); labs derive per-student values from it. */
  user: string;
  /** `-z`: appended last. */
  extra?: readonly string[];
  quiet?: boolean;
}

/**
 * Kernel arguments for the tiny guest: QemuNet's (`net.ifnames=0`, both consoles, `user=`) plus
 * tiny's own (hostname, quiet and fast boot). The last `console=` becomes /dev/console, so ttyS0
 * comes last: the boot's and the start scripts' output must reach the serial line qemunet reads.
 */
export function tinyKernelAppend(a: TinyKernelArgs): string {
  const args = ['root=/dev/vda', 'rw', 'net.ifnames=0', 'console=tty0', 'console=ttyS0', `user=${a.user}`, `hostname=${a.hostname}`, 'cryptomgr.notests', 'no_timer_check'];
  if (a.quiet ?? true) args.push('quiet');
  return [...args, ...(a.extra ?? [])].join(' ');
}
