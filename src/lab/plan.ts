import type { Catalog, SystemEntry } from '../config/catalog.js';
import { InputError, QemunetError } from '../errors.js';
import type { HostPaths, SessionPaths, SwitchPaths } from '../session/paths.js';
import { vdeSwitchArgv } from '../switch/vde-argv.js';
import type { HostDef, Topology } from '../topology/types.js';
import { switchVlanCommands } from '../topology/vlan-syntax.js';
import { DISPLAY_MODES, type DisplayMode } from '../topology/parse.js';
import type { LinkFaults } from '../topology/link-syntax.js';
import type { UmlSpec } from '../uml/uml-argv.js';
import { MAC_PREFIX, MAX_MAC_INDEX, type VmSpec } from '../vm/qemu-argv.js';
import { kindOfSystem, registeredKinds } from './kinds/index.js';

export { DISPLAY_MODES, type DisplayMode } from '../topology/parse.js';

/** Modes that give the guest a screen (a VGA card): QEMU's window, or a VNC or SPICE server. */
export const SCREEN_DISPLAYS: ReadonlySet<DisplayMode> = new Set(['graphic', 'gtk', 'sdl', 'vnc', 'spice']);
/** Modes that open one terminal window per host on its serial console, and the program each runs. */
export const TERMINAL_DISPLAYS = ['xterm', 'rxvt', 'gnome', 'xfce4'] as const;
export type TerminalDisplay = (typeof TERMINAL_DISPLAYS)[number];

/** Guest RAM of the built-in image: it boots and runs a lab in 128 MiB. */
export const TINY_MEMORY_MIB = 128;
/** debian's, unless QEMUOPT sets it: python3 with scapy, or tshark, need more than tiny's. */
export const DEBIAN_MEMORY_MIB = 256;

/**
 * TCG's translation cache of a tiny guest, in MiB. QEMU's default reserves 1 GiB and a tiny guest
 * fills over 100 MiB of it by the time it is ready. Measured here (CPU seconds to ready, 3 guests):
 * 1 GiB 4.3 s, 48 MiB 4.4 s, 32 MiB 5.0 s, 16 MiB 7.3-8.7 s (retranslating after each flush).
 */
export const TINY_TCG_CACHE_MIB = 32;

export interface PlanOptions {
  accel: VmSpec['accel'];
  /** A topology's system name resolved as another system. */
  aliases: ReadonlyMap<string, string>;
  /** For hosts whose HOST line names no display. */
  display: DisplayMode;
  internet: boolean;
  quiet: boolean;
  /** Appended to the kernel command line of Linux systems booted with a kernel. */
  kernelArgs: readonly string[];
  /** QemuNet passes `user=NAME` to the Linux guests it boots with its own kernel. */
  user: string;
  mountDir: boolean;
  mountDisk: boolean;
  nicModel?: string;
  /** Hosts whose `<host>.disk` exists in the session. */
  existingDisks: ReadonlySet<string>;
  /** VLAN support: trunks allowed, `.cmd` files loaded. */
  vlan?: boolean;
  /** TCG's translation cache of every host under TCG, in MiB (less memory, slower boots); 16 fits about 17 idle tiny VMs in a GiB with KSM (13 at the default 32), at about 70% more CPU to boot each. */
  tcgCacheMiB?: number;
  /** A wirefilter on every NIC (not only LINK lines), so faults can be set live on any of them. */
  wireAll?: boolean;
  /** Boot on the raw base image instead of an overlay (changes are permanent). */
  rawBase?: boolean;
  /** Config files that were read, for "unknown system" errors. */
  configFiles: readonly string[];
  /** QEMU's window for `graphic`: GTK when QEMU has it, else SDL (what this machine's QEMU offers). */
  graphicToolkit?: 'gtk' | 'sdl';
  /**
   * vnc and spice hosts listen on 127.0.0.1 at these TCP ports (with a password set at start) instead
   * of a unix socket in the session. Ports are found free at start; the plan only uses them.
   */
  displayPorts?: ReadonlyMap<string, number>;
  /** The lab came from outside (a web page's labs folder): its `.cmd` lines may only do what a lab's console may (switch/mgmt-commands.ts). */
  labConsoleOnly?: boolean;
  /** This CPU's FPU state is more than the UML kernel can save (AMX): UML hosts run with the legacy one (uml/legacy-fpu.ts). */
  umlLegacyFpu?: boolean;
}

export interface NicPlan {
  /** eth0, eth1, ... as the guest names them. */
  eth: string;
  switch: string;
  port: number;
  mac: string;
}

/** A host of any kind; `kind` says which launch spec it has. */
export type HostPlan = QemuHostPlan | UmlHostPlan;

export interface UmlHostPlan extends HostPlanBase {
  kind: 'uml';
  uml: UmlSpec;
}

export interface QemuHostPlan extends HostPlanBase {
  kind: 'qemu';
  vm: VmSpec;
}

export interface HostPlanBase {
  name: string;
  /** The system name the topology wrote, and what it resolved to (after aliases). */
  systemName: string;
  system: SystemEntry;
  display: DisplayMode;
  wave: number;
  nics: NicPlan[];
  paths: HostPaths;
  /** Whether readiness can be known: the guest runs qemunet's agent contract. */
  agent: boolean;
}

export interface SwitchPlan {
  name: string;
  hub: boolean;
  paths: SwitchPaths;
  argv: string[];
  /** Management commands for the VLANs the topology declares (`s1:100`, `TRUNK s1 s2 100,200`). */
  vlanCommands: string[];
  /** Ports the session plugs into: hosts' NICs, trunk ends, taps (a LINK wire plugs in for its NIC). */
  portsInUse: number;
}

export interface TrunkPlan {
  a: { switch: string; port: number };
  b: { switch: string; port: number };
  /** vde_plug's arguments. */
  argv: string[];
}

export interface TapPlan {
  name: string;
  switch: string;
  port: number;
  address?: string;
  /** vde_plug's arguments. */
  argv: string[];
}

/** A wirefilter between a NIC and its switch port: NIC <-ptp-> vde_plug = wirefilter = vde_plug -> switch. */
export interface WirePlan {
  host: string;
  nic: number;
  switch: string;
  port: number;
  /** The wirefilter's management socket, for live changes. */
  mgmt: string;
  faults: LinkFaults;
  /** The dpipe command line; each stage dies with dpipe, which dies with qemunet. */
  argv: string[];
}

export interface LabPlan {
  dir: string;
  topologyFile: string;
  /** The `user=` the guests get: whose lab this is (the lab checks' student by default). */
  user: string;
  switches: SwitchPlan[];
  hosts: HostPlan[];
  trunks: TrunkPlan[];
  taps: TapPlan[];
  wires: WirePlan[];
  /** -v, or VLANs in the topology: switch ports created up front, VLANs set, each switch's `.cmd` loaded. */
  vlan: boolean;
  /** `.cmd` lines are held to a lab console's commands (PlanOptions.labConsoleOnly). */
  labConsoleOnly?: boolean;
  waveDelays: readonly number[];
  /** Things the user should know (e.g. an option dropped under TCG). */
  notes: string[];
}

/** Resolves a topology against the catalog into every switch and VM command of the session. Pure. */
export function planLab(given: Topology, catalog: Catalog, paths: SessionPaths, options: PlanOptions): LabPlan {
  // A NIC of a kind whose link is set in the wire (UML) always goes through a wirefilter.
  const wired = new Set(given.hosts.filter((h) => kindOfSystem(resolveSystem(given.file, h, catalog, options)).link?.via === 'wire').map((h) => h.name));
  const topology = withWireOnEveryNic(given, (host) => (options.wireAll ?? false) || wired.has(host));
  const declaredVlans = topology.hosts.some((h) => h.nics.some((n) => n.vlans)) || topology.trunks.some((t) => t.vlans);
  if (topology.trunks.length && !options.vlan && !declaredVlans) {
    throw new QemunetError('VLAN_REQUIRED', `${topology.file}: TRUNK joins switches for VLANs; run with -v (VLAN support), as QemuNet requires`);
  }
  const notes: string[] = [];
  const switches = topology.switches.map((sw) => {
    const p = paths.switch(sw.name);
    const ports = [
      ...topology.hosts.flatMap((h) => h.nics.filter((n) => n.switch === sw.name)),
      ...topology.trunks.flatMap((t) => [t.a, t.b].filter((e) => e.switch === sw.name).map((e) => ({ port: e.port, ...(t.vlans ? { vlans: { tagged: t.vlans } } : {}) }))),
    ];
    if (sw.hub && ports.some((x) => x.vlans)) throw new QemunetError('VLAN_ON_HUB', `${topology.file}: ${sw.name} is a HUB, which has no VLANs; make it a SWITCH`);
    const portsInUse = ports.length + topology.taps.filter((t) => t.switch === sw.name).length;
    return { name: sw.name, hub: sw.hub, paths: p, argv: vdeSwitchArgv({ name: sw.name, hub: sw.hub, socket: p.socket, mgmt: p.mgmt }), vlanCommands: switchVlanCommands(ports), portsInUse };
  });
  if (topology.hosts.length > MAX_MAC_INDEX + 1) {
    throw new QemunetError('TOO_MANY_HOSTS', `${topology.file}: ${topology.hosts.length} hosts; QemuNet's MAC scheme (${MAC_PREFIX}:HH:NN) numbers at most ${MAX_MAC_INDEX + 1}`);
  }
  const hosts = topology.hosts.map((host, hostIndex) => planHost(topology, host, hostIndex, catalog, paths, options, notes));
  for (const kind of registeredKinds()) if (hosts.some((h) => h.kind === kind.name)) notes.push(...(kind.planNotes?.(options) ?? []));
  // A trunk is one vde_plug joining a port of each switch (vdeplug4 URLs: vde://SOCKET[PORT]).
  const trunks = topology.trunks.map((t) => ({ a: t.a, b: t.b, argv: [t.a, t.b].map((end) => `vde://${paths.switch(end.switch).socket}[${end.port}]`) }));
  const nographic = hosts.filter((h) => h.display === 'nographic');
  if (nographic.length > 1) {
    throw new QemunetError('DISPLAY_NOGRAPHIC', `display mode nographic puts one host on this terminal, but ${nographic.length} hosts use it (${nographic.map((h) => h.name).join(', ')}); use tmux or xterm for several`);
  }
  const wires = topology.links.map((l) => {
    const nic = topology.hosts.find((h) => h.name === l.host)!.nics[l.nic]!;
    const hp = paths.host(l.host);
    return { host: l.host, nic: l.nic, switch: nic.switch, port: nic.port, mgmt: hp.wireMgmt(l.nic), faults: l.faults, argv: wireArgv(`ptp://${hp.wire(l.nic)}`, hp.wireMgmt(l.nic), `vde://${paths.switch(nic.switch).socket}[${nic.port}]`) };
  });
  // A tap is one vde_plug from a switch port to a tap interface of the host (vdeplug4's tap:// plugin).
  const taps = topology.taps.map((t) => ({ ...t, argv: [`vde://${paths.switch(t.switch).socket}[${t.port}]`, `tap://${t.name}`] }));
  return { dir: paths.dir, topologyFile: topology.file, user: options.user, switches, hosts, trunks, taps, wires, vlan: (options.vlan ?? false) || declaredVlans, waveDelays: topology.waveDelays, notes, ...(options.labConsoleOnly ? { labConsoleOnly: true } : {}) };
}

/** The topology with a LINK (no faults yet) for every NIC of the chosen hosts that has none. */
function withWireOnEveryNic(topology: Topology, wired: (host: string) => boolean): Topology {
  const has = (host: string, nic: number) => topology.links.some((l) => l.host === host && l.nic === nic);
  const added = topology.hosts.filter((h) => wired(h.name)).flatMap((h) => h.nics.filter((n) => !has(h.name, n.index)).map((n) => ({ host: h.name, nic: n.index, faults: {} })));
  if (!added.length) return topology;
  return { ...topology, links: [...topology.links, ...added] };
}

function planHost(topology: Topology, host: HostDef, hostIndex: number, catalog: Catalog, paths: SessionPaths, o: PlanOptions, notes: string[]): HostPlan {
  const system = resolveSystem(topology.file, host, catalog, o);
  const display = planDisplay(topology.file, host, o.display);
  return kindOfSystem(system).plan({ topology, host, hostIndex, system, display, hp: paths.host(host.name), paths, options: o, notes });
}

function resolveSystem(file: string, host: HostDef, catalog: Catalog, o: PlanOptions): SystemEntry {
  const name = o.aliases.get(host.system) ?? host.system;
  const system = catalog.get(name);
  if (system) return system;
  const known = [...catalog.values()].map((s) => `${s.name} (${s.source})`).join(', ');
  const read = o.configFiles.length ? o.configFiles.join(', ') : 'none (give one with -c FILE, or put qemunet.cfg in the working directory)';
  const via = name === host.system ? '' : ` (--alias ${host.system}=${name})`;
  throw new InputError('UNKNOWN_SYSTEM', file, host.line, host.systemColumn, `unknown system "${name}"${via} for host ${host.name}; known systems: ${known}; config files read: ${read}; --alias ${host.system}=tiny runs it on the built-in image`);
}

function planDisplay(file: string, host: HostDef, fallback: DisplayMode): DisplayMode {
  const d = host.display ?? fallback;
  if ((DISPLAY_MODES as readonly string[]).includes(d)) return d as DisplayMode;
  throw new InputError('UNKNOWN_DISPLAY', file, host.line, host.systemColumn, `unknown display mode "${d}" of host ${host.name}; allowed: ${DISPLAY_MODES.join(', ')}`);
}

/** A wirefilter between two vdeplug URLs (the NIC's side first), its stages tied to dpipe's life. */
export function wireArgv(nicUrl: string, mgmt: string, switchUrl: string): string[] {
  const tied = ['setpriv', '--pdeathsig', 'KILL', '--'];
  return ['dpipe', ...tied, 'vde_plug', nicUrl, '=', ...tied, 'wirefilter', '-M', mgmt, '=', ...tied, 'vde_plug', switchUrl];
}
