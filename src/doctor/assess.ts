import { DEBIAN_PACKAGE_OF } from '../process/programs.js';
import type { ImageFacts, MachineFacts } from './facts.js';

/**
 * The judgement of `qemunet doctor`, pure: machine facts in, one line per part out, each ok, missing
 * or degraded with the one command that fixes it. A lab can run when every part marked `required`
 * is ok; the others only take a feature away (KVM, UML hosts, a display mode).
 */
export type CheckStatus = 'ok' | 'missing' | 'degraded';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, or what is missing and what that costs. */
  detail: string;
  /** The one command that fixes it. */
  fix?: string;
  /** Without it no lab runs. */
  required: boolean;
}

export interface DoctorReport {
  qemunet: string;
  /** Every required check is ok. */
  canRunLabs: boolean;
  checks: Check[];
  installScript: string;
}

/**
 * Memory an idle tiny VM takes (proportional set size under TCG with qemunet's settings, measured by
 * bench/scale.bench.ts on 16 VMs, 6 December; README "Memory"): 155 MiB without KSM, 77 with it.
 */
export const TINY_HOST_MIB = { plain: 155, ksm: 77 } as const;
/** The demo LAN's hosts: less memory than this many tiny hosts is degraded. */
const DEMO_HOSTS = 4;

const TINY_BUILD_TOOLS = ['apt-get', 'dpkg-deb', 'mkfs.ext4', 'depmod', 'xz', 'fakeroot', 'strip'];

/** Every program doctor looks for (probe.ts finds each on PATH). */
export const DOCTOR_PROGRAMS = [
  'qemu-system-x86_64', 'qemu-img', 'setpriv', 'vde_switch', 'vde_plug', 'dpipe', 'wirefilter', ...TINY_BUILD_TOOLS,
  'mmdebstrap', 'mkfs.fat', 'mcopy', 'linux.uml', 'uml_mconsole', 'bwrap',
  'tmux', 'screen', 'xterm', 'urxvt', 'xfce4-terminal', 'gnome-terminal', 'xtigervncviewer', 'remote-viewer', 'chromium', 'sshd',
] as const;

export function assess(f: MachineFacts): DoctorReport {
  const install = (...packages: string[]) => `${f.root ? '' : 'sudo '}apt-get install ${[...new Set(packages)].join(' ')}`;
  const missingOf = (programs: readonly string[]) => programs.filter((p) => !f.programs[p]);
  /** A check of programs only: ok when all are there, else `otherwise` with their packages' install command. */
  const programs = (id: string, title: string, list: readonly string[], found: string, otherwise: { required: boolean; cost?: string }): Check => {
    const missing = missingOf(list);
    if (!missing.length) return { id, title, status: 'ok', detail: found, required: otherwise.required };
    return {
      id, title, status: otherwise.required ? 'missing' : 'degraded', required: otherwise.required,
      detail: `${missing.join(', ')} not found on PATH${otherwise.cost ? `: ${otherwise.cost}` : ''}`,
      fix: install(...missing.map(packageOf)),
    };
  };

  const checks: Check[] = [
    nodeCheck(f.nodeVersion),
    programs('qemu', 'QEMU', ['qemu-system-x86_64', 'qemu-img'], `qemu-system-x86_64 ${f.qemuVersion ?? '(version unknown)'}, qemu-img`, { required: true }),
    kvmCheck(f),
    programs('vde', 'VDE switches', ['vde_switch', 'vde_plug'], `vde_switch ${f.vdeVersion ?? '(version unknown)'}, vde_plug`, { required: true }),
    programs('wirefilter', 'link faults', ['wirefilter', 'dpipe'], 'wirefilter, dpipe', { required: false, cost: 'no LINK lines, no qemunet link --delay/--loss' }),
    programs('setpriv', 'process lifetime', ['setpriv'], 'setpriv (VMs die with qemunet)', { required: true }),
    ...imageChecks(f, install),
    programs('start-disks', 'start disks', ['mkfs.fat', 'mcopy'], 'mkfs.fat, mcopy', { required: false, cost: 'no FAT <host>.disk made for a host' }),
    umlCheck(f, install),
    ...displayChecks(f, install),
    programs('chromium', 'chromium (tests)', ['chromium'], 'chromium, for the web page\'s tests', { required: false, cost: 'the web tests cannot run (labs are not affected)' }),
    ksmCheck(f, f.root ? '' : 'sudo '),
    memoryCheck(f),
    cgroupCheck(f),
    programs('sshd', 'sshd (workers)', ['sshd'], 'sshd, for a machine that runs labs for another', { required: false, cost: 'this machine cannot be a worker reached over ssh' }),
  ];
  return { qemunet: f.qemunetVersion, canRunLabs: checks.every((c) => !c.required || c.status === 'ok'), checks, installScript: f.installScript };
}

function packageOf(program: string): string {
  return DEBIAN_PACKAGE_OF[program] ?? program;
}

function nodeCheck(version: string): Check {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  return major >= 20
    ? { id: 'node', title: 'Node.js', status: 'ok', detail: version, required: true }
    : { id: 'node', title: 'Node.js', status: 'missing', detail: `${version}; qemunet needs Node.js 20 or later`, fix: 'apt-get install nodejs (Debian 13), or Node.js 20 from nodejs.org', required: true };
}

function kvmCheck(f: MachineFacts): Check {
  const base = { id: 'kvm', title: 'KVM', required: false };
  if ('error' in f.kvm) return { ...base, status: 'degraded', detail: `not checked: ${f.kvm.error}; labs run under TCG emulation (slower)` };
  const how = f.kvm.source === 'cache' ? 'the labs\' cached verdict' : f.kvm.source === 'probe' ? 'a test boot, now cached for the labs' : 'QEMUNET_ACCEL';
  if (f.kvm.accel === 'kvm') return { ...base, status: 'ok', detail: `usable (${how})` };
  const reason = f.kvm.reason ?? 'no reason given';
  const detail = `not usable: ${reason} (${how}); labs run under TCG emulation (slower)`;
  if (/does not exist/.test(reason)) return { ...base, status: 'degraded', detail, fix: `${f.root ? '' : 'sudo '}modprobe kvm_${f.cpuVendor ?? 'intel'}   (and virtualization on in the firmware)` };
  if (/no read-write access/.test(reason)) return { ...base, status: 'degraded', detail, fix: `sudo usermod -aG kvm ${f.user}   (then log in again)` };
  // A KVM that is there and hangs (nested, paravirtualised) has no command that fixes it.
  return { ...base, status: 'degraded', detail };
}

function sizeText(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function imageChecks(f: MachineFacts, install: (...p: string[]) => string): Check[] {
  const image = (name: string): ImageFacts | undefined => f.images.find((i) => i.name === name);
  const tiny = image('tiny');
  const buildMissing = TINY_BUILD_TOOLS.filter((p) => !f.programs[p]);
  const tinyCheck: Check = tiny?.built
    ? { id: 'image-tiny', title: 'image tiny', status: 'ok', detail: `built, ${sizeText(tiny.bytes)}`, required: true }
    : buildMissing.length
      ? { id: 'image-tiny', title: 'image tiny', status: 'missing', detail: `not built, and ${buildMissing.join(', ')} (needed to build it) not found on PATH`, fix: install(...buildMissing.map(packageOf)), required: true }
      : { id: 'image-tiny', title: 'image tiny', status: 'degraded', detail: 'not built (about 30 s, from Debian packages; a lab builds it when it needs it)', fix: 'qemunet image build tiny', required: false };
  const debian = image('debian');
  const namespaces = f.root || f.userNamespaces === true;
  const debianBuild = !f.programs.mmdebstrap
    ? { detail: 'mmdebstrap not found on PATH, needed to build it', fix: install('mmdebstrap') }
    : !namespaces
      ? { detail: `building it needs root or unprivileged user namespaces (${typeof f.userNamespaces === 'string' ? f.userNamespaces : 'not checked'})`, fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1' }
      : { detail: 'not built (QemuNet\'s labs name it; several minutes, from a Debian mirror)', fix: 'qemunet image build debian' };
  const debianCheck: Check = debian?.built
    ? { id: 'image-debian', title: 'image debian', status: 'ok', detail: `built, ${sizeText(debian.bytes)}`, required: false }
    : { id: 'image-debian', title: 'image debian', status: 'degraded', required: false, ...debianBuild };
  return [tinyCheck, debianCheck];
}

function umlCheck(f: MachineFacts, install: (...p: string[]) => string): Check {
  const base = { id: 'uml', title: 'UML hosts', required: false };
  const missing = ['linux.uml', 'uml_mconsole', 'bwrap', 'dpipe'].filter((p) => !f.programs[p]);
  if (missing.length) return { ...base, status: 'degraded', detail: `${missing.join(', ')} not found on PATH: no tiny-uml hosts`, fix: install(...missing.map(packageOf)) };
  if (f.bwrap !== true) return { ...base, status: 'degraded', detail: `bwrap cannot make the PID namespace UML hosts run in (${f.bwrap ?? 'not checked'})`, fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1' };
  return { ...base, status: 'ok', detail: 'linux.uml, uml_mconsole, bwrap (its PID namespace works)' };
}

/** Each display mode's program (table "Display modes" of the README), and X for the windowed ones. */
function displayChecks(f: MachineFacts, install: (...p: string[]) => string): Check[] {
  const modes: Array<[string, string, string]> = [
    ['tmux', 'tmux', 'display tmux, and -y'], ['screen', 'screen', 'display screen'], ['xterm', 'xterm', 'display xterm (-x)'],
    ['rxvt', 'urxvt', 'display rxvt'], ['xfce4', 'xfce4-terminal', 'display xfce4'], ['gnome', 'gnome-terminal', 'display gnome'],
    ['vnc-viewer', 'xtigervncviewer', '-V on vnc hosts'], ['spice-viewer', 'remote-viewer', '-V on spice hosts'],
  ];
  const checks: Check[] = modes.map(([id, program, what]) => f.programs[program]
    ? { id: `display-${id}`, title: program, status: 'ok', detail: `for ${what}`, required: false }
    : { id: `display-${id}`, title: program, status: 'degraded', detail: `not found on PATH: no ${what}`, fix: install(packageOf(program)), required: false });
  const gui = f.qemuDisplays?.filter((d) => d === 'gtk' || d === 'sdl') ?? [];
  checks.push(gui.length
    ? { id: 'display-graphic', title: 'QEMU windows', status: 'ok', detail: `display graphic (${gui.join(', ')})`, required: false }
    : { id: 'display-graphic', title: 'QEMU windows', status: 'degraded', detail: f.qemuDisplays ? 'this QEMU has neither gtk nor sdl: no display graphic' : 'not checked (no QEMU)', fix: install('qemu-system-gui'), required: false });
  checks.push(f.display
    ? { id: 'display-x', title: 'X display', status: 'ok', detail: `DISPLAY=${f.display}`, required: false }
    : { id: 'display-x', title: 'X display', status: 'degraded', detail: 'DISPLAY is not set: window modes (xterm, graphic...) cannot open; none, tmux, screen, vnc and qemunet web can', required: false });
  return checks;
}

function ksmCheck(f: MachineFacts, sudo: string): Check {
  const base = { id: 'ksm', title: 'KSM', required: false };
  if (f.ksmRun === undefined) return { ...base, status: 'degraded', detail: 'this kernel has no KSM: VMs of one image do not share their identical pages' };
  if (f.ksmRun === '1') return { ...base, status: 'ok', detail: 'on: VMs of one image share their identical pages' };
  return { ...base, status: 'degraded', detail: `off: each idle tiny VM takes about ${TINY_HOST_MIB.plain} MiB instead of ${TINY_HOST_MIB.ksm}`, fix: `echo 1 | ${sudo}tee /sys/kernel/mm/ksm/run` };
}

function memoryCheck(f: MachineFacts): Check {
  const base = { id: 'memory', title: 'memory', required: true };
  if (f.memAvailableMiB === undefined) return { ...base, status: 'degraded', required: false, detail: 'MemAvailable not found in /proc/meminfo' };
  const per = f.ksmRun === '1' ? TINY_HOST_MIB.ksm : TINY_HOST_MIB.plain;
  const hosts = Math.floor(f.memAvailableMiB / per);
  const detail = `${f.memAvailableMiB} MiB available: about ${hosts} idle tiny hosts (${per} MiB each${f.ksmRun === '1' ? ', KSM on' : ''})`;
  if (hosts < 1) return { ...base, status: 'missing', detail, fix: 'close programs or add memory' };
  if (hosts < DEMO_HOSTS) return { ...base, status: 'degraded', required: false, detail: `${detail}; the demo LAN has ${DEMO_HOSTS}` };
  return { ...base, status: 'ok', detail };
}

function cgroupCheck(f: MachineFacts): Check {
  const base = { id: 'cgroups', title: 'cgroups (hub)', required: false };
  if (f.cgroup === 'v2') return { ...base, status: 'ok', detail: 'v2 (unified hierarchy), for limiting a lab server\'s labs' };
  if (f.cgroup) return { ...base, status: 'degraded', detail: `${f.cgroup} hierarchy: a lab server limits its labs through cgroup v2`, fix: 'boot with systemd.unified_cgroup_hierarchy=1' };
  return { ...base, status: 'degraded', detail: '/sys/fs/cgroup has no cgroup hierarchy' };
}
