import type { SystemEntry } from '../../config/catalog.js';
import { setsMemory, splitQemuOptions, withoutCpuHost } from '../../config/qemu-options.js';
import { QemunetError } from '../../errors.js';
import type { HostPaths } from '../../session/paths.js';
import { macAddress, tinyKernelAppend, type VmSpec } from '../../vm/qemu-argv.js';
import { DEBIAN_MEMORY_MIB, TINY_MEMORY_MIB, TINY_TCG_CACHE_MIB, type DisplayMode, type PlanOptions, type QemuHostPlan } from '../plan.js';
import type { HostPlanInput } from './kind.js';

/** A qemu-system-x86_64 VM: its command line's spec, from the system's QEMUOPT and the session's options. */
export function planQemuHost({ topology, host, hostIndex, system, display, hp, paths, options: o, notes }: HostPlanInput): QemuHostPlan {
  const words = splitQemuOptions(system.qemuopt);
  if (!words.ok) throw new QemunetError('CONFIG_INVALID', `QEMUOPT[${system.name}] (${system.source}): ${words.problem}`);
  let extra = words.words;
  if (o.accel === 'tcg') {
    const stripped = withoutCpuHost(extra);
    if (stripped.dropped) notes.push(`${host.name}: "-cpu host" of QEMUOPT[${system.name}] needs KVM; left out under TCG`);
    extra = stripped.words;
  }
  // The built-in images (tiny, debian) share the guest contract: virtio disk, the guest agent, their kernel line.
  const tiny = system.builtin !== undefined;
  const linux = system.sys === 'linux';
  const model = o.nicModel ?? (system.sys === 'windows' ? 'rtl8139' : 'e1000');
  const nics = host.nics.map((n) => ({ eth: `eth${n.index}`, switch: n.switch, port: n.port, mac: macAddress(hostIndex, n.index) }));
  const diskInterface = tiny ? 'virtio' : 'ide';
  const vm: VmSpec = {
    name: host.name,
    accel: o.accel,
    ...(tiny && !setsMemory(extra) ? { memoryMiB: system.builtin === 'debian' ? DEBIAN_MEMORY_MIB : TINY_MEMORY_MIB } : {}),
    // The cache size is measured for tiny; debian's bigger userland is left at QEMU's default, unless
    // the user sets one size for all (QEMUNET_TCG_CACHE).
    ...(o.accel === 'tcg' && (o.tcgCacheMiB ?? (system.builtin === 'tiny' ? TINY_TCG_CACHE_MIB : undefined)) ? { tcgCacheMiB: o.tcgCacheMiB ?? TINY_TCG_CACHE_MIB } : {}),
    // tiny's init (debian's too) has every free page reported (see guest-files.ts).
    ...(tiny ? { freePageReporting: true } : {}),
    // -L: the base image itself, so changes are permanent (the user confirmed it).
    disk: o.rawBase ? { path: system.fs, format: 'raw', interface: diskInterface } : { path: hp.overlay, format: 'qcow2', interface: diskInterface },
    ...(o.mountDisk && o.existingDisks.has(host.name) ? { extraDisk: { path: hp.disk, format: 'raw' as const, interface: diskInterface } } : {}),
    ...kernelOf(system, host.name, o),
    // A NIC with faults (LINK) plugs into its wirefilter through a point-to-point socket, not the switch.
    nics: nics.map((n, i) =>
      topology.links.some((l) => l.host === host.name && l.nic === i)
        ? { switchSocket: `ptp://${hp.wire(i)}`, mac: n.mac, model }
        : { switchSocket: paths.switch(n.switch).socket, port: n.port, mac: n.mac, model },
    ),
    ...(o.internet ? { internet: true, internetModel: model } : {}),
    ...(linux && o.mountDir ? { shareDir: hp.share } : {}),
    serialSocket: hp.serial,
    qmpSocket: hp.qmp,
    ...(tiny ? { agentSocket: hp.agent } : {}),
    pidFile: hp.pid,
    display: vmDisplay(display, host.name, hp, o),
    extra,
  };
  return { kind: 'qemu', name: host.name, systemName: host.system, system, display, wave: host.wave, nics, paths: hp, agent: tiny, vm };
}

/** The VM's screen: none for the terminal modes, else QEMU's window or a VNC/SPICE server (unix socket unless a TCP port is planned). */
function vmDisplay(display: DisplayMode, host: string, hp: HostPaths, o: PlanOptions): VmSpec['display'] {
  switch (display) {
    case 'graphic':
      return { kind: o.graphicToolkit ?? 'gtk' };
    case 'gtk':
    case 'sdl':
      return { kind: display };
    case 'vnc':
    case 'spice': {
      const port = o.displayPorts?.get(host);
      return { kind: display, listen: port === undefined ? { socket: display === 'vnc' ? hp.vnc : hp.spice } : { port } };
    }
    default:
      return { kind: 'none' };
  }
}

/** QemuNet's kernel command line for Linux systems it boots with KERNEL/INITRD; tiny's adds its own. */
function kernelOf(system: SystemEntry, hostname: string, o: PlanOptions): Pick<VmSpec, 'kernel'> {
  if (system.builtin) {
    return { kernel: { path: system.kernel!, initrd: system.initrd!, append: tinyKernelAppend({ hostname, user: o.user, extra: o.kernelArgs }) } };
  }
  if (system.sys !== 'linux' || !system.kernel || !system.initrd) return {};
  const args = ['root=/dev/sda1', 'rw', 'net.ifnames=0', 'console=ttyS0', 'console=tty0', `user=${o.user}`, ...(o.quiet ? ['quiet'] : []), ...o.kernelArgs];
  return { kernel: { path: system.kernel, initrd: system.initrd, append: args.join(' ') } };
}
