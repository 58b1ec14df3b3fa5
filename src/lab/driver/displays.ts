import { createServer } from 'node:net';
import { QemunetError } from '../../errors.js';
import { findProgram, run } from '../../process/run.js';
import { missingProgramMessage } from '../../process/programs.js';
import type { Topology } from '../../topology/types.js';
import { VNC_BASE_PORT } from '../../vm/qemu-argv.js';
import { kindOf } from '../kinds/index.js';
import { TERMINAL_DISPLAYS, type DisplayMode, type LabPlan } from '../plan.js';
import { terminalArgv, viewerArgv } from './terminals.js';

/** The display of each host: its HOST line's, else the session's. */
export function hostDisplays(topology: Topology, fallback: DisplayMode): Map<string, DisplayMode> {
  return new Map(topology.hosts.map((h) => [h.name, (h.display ?? fallback) as DisplayMode]));
}

/** QEMU's display backends on this machine (`-display help`): gtk and sdl come with qemu-system-gui. */
export async function qemuDisplayBackends(signal?: AbortSignal): Promise<Set<string>> {
  const { stdout } = await run('qemu-system-x86_64', ['-display', 'help'], signal ? { signal } : {});
  return new Set(stdout.split('\n').map((l) => l.trim()).filter((l) => /^[a-z-]+$/.test(l)));
}

/**
 * `count` TCP ports on 127.0.0.1 that are free now, from VNC's first port up (a VNC server listens at
 * 5900 + its display number). Another program may take one before QEMU does; QEMU then fails to
 * start with "Address already in use", which the launch error shows.
 */
export async function freeLoopbackPorts(count: number, from = VNC_BASE_PORT): Promise<number[]> {
  const ports: number[] = [];
  for (let port = from; ports.length < count && port < 65536; port++) if (await canListen(port)) ports.push(port);
  return ports;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface DisplayCheck {
  env: NodeJS.ProcessEnv;
  /** -V: viewers for vnc/spice hosts. */
  viewers: boolean;
  /** -y with the xterm display: switch consoles in xterms. */
  switchXterms: boolean;
  /** What `qemu-system-x86_64 -display help` lists; probed when a host wants QEMU's window. */
  qemuBackends?: ReadonlySet<string>;
}

/**
 * Everything the display modes of a plan need, before anything starts: an X display for windows,
 * QEMU's GTK/SDL module, and each terminal or viewer program (with the package that provides it).
 */
export async function checkDisplays(plan: LabPlan, c: DisplayCheck): Promise<void> {
  const needX: string[] = [];
  const programs = new Map<string, string>();
  for (const h of plan.hosts) {
    const d = h.display;
    const screen = kindOf(h).screen?.display(h);
    // QEMU's own window (graphic, gtk, sdl): what the kind's screen shows on the X display.
    if (screen?.kind === 'gtk' || screen?.kind === 'sdl') {
      const kind = screen.kind;
      needX.push(`${h.name} (${d})`);
      if (c.qemuBackends && !c.qemuBackends.has(kind)) {
        throw new QemunetError('PROGRAM_MISSING', `display mode ${d} of host ${h.name} needs QEMU's ${kind === 'sdl' ? 'SDL' : 'GTK'} display, which this QEMU does not have. Install it with: apt-get install qemu-system-gui`);
      }
    }
    if ((TERMINAL_DISPLAYS as readonly string[]).includes(d)) {
      needX.push(`${h.name} (${d})`);
      programs.set(terminalArgv(d as (typeof TERMINAL_DISPLAYS)[number], { title: '', argv: [] })[0]!, d);
    }
    if (d === 'tmux' || d === 'screen') programs.set(d, d);
    if (c.viewers && (screen?.kind === 'vnc' || screen?.kind === 'spice')) {
      needX.push(`the viewer of ${h.name} (-V)`);
      const l = screen.listen;
      programs.set(viewerArgv(h.name, 'socket' in l ? { protocol: screen.kind, socket: l.socket } : { protocol: screen.kind, port: l.port, password: '', viewerFile: '' })[0]!, '-V');
    }
  }
  if (c.switchXterms) programs.set('xterm', '-y');
  if (needX.length && !c.env.DISPLAY && !c.env.WAYLAND_DISPLAY) {
    throw new QemunetError('NO_X_DISPLAY', `${needX.join(', ')} open${needX.length === 1 ? 's' : ''} a window, but DISPLAY is not set (no X display); run under X, or use vnc or spice (a server on a unix socket) or tmux/screen`);
  }
  if (programs.has('gnome-terminal') && !c.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new QemunetError('NO_DBUS', 'display mode gnome needs a D-Bus session bus (gnome-terminal opens its windows through it), and DBUS_SESSION_BUS_ADDRESS is not set; use xterm, rxvt or xfce4, or run inside dbus-run-session');
  }
  for (const [program, why] of programs) {
    if ((await findProgram(program, c.env)) === undefined) throw new QemunetError('PROGRAM_MISSING', `${why === '-V' ? '-V' : `display mode ${why}`} runs ${program}, which was not found on PATH.${missingProgramMessage(program).replace(/^.*?PATH\./, '')}`);
  }
}
