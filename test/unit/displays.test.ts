import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStatus } from '../../src/cli/status-view.js';
import { builtinCatalog } from '../../src/config/catalog.js';
import { QemunetError, UsageError } from '../../src/errors.js';
import { builtImagePaths } from '../../src/images/store.js';
import { checkDisplays } from '../../src/lab/driver/displays.js';
import { planLab, type HostPlan, type PlanOptions, type QemuHostPlan } from '../../src/lab/plan.js';

const vmOf = (h: HostPlan) => (h as QemuHostPlan).vm;
import type { SessionState } from '../../src/lab/state.js';
import { terminalArgv, viewerArgv, viewerFile } from '../../src/lab/driver/terminals.js';
import { tiedArgv } from '../../src/process/start.js';
import { checkUp } from '../../src/lab/driver/up.js';
import { sessionPaths } from '../../src/session/paths.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { qemuArgv, tinyKernelAppend, type DisplaySpec, type VmSpec } from '../../src/vm/qemu-argv.js';

const CATALOG = builtinCatalog((n) => builtImagePaths('/store', n));
const PATHS = sessionPaths('/s');

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return { accel: 'tcg', aliases: new Map(), display: 'none', internet: false, quiet: false, kernelArgs: [], user: 'bob', mountDir: false, mountDisk: false, existingDisks: new Set(), configFiles: [], ...overrides };
}

const MIXED = `SWITCH s1
HOST tiny ser s1
HOST tiny/graphic g s1
HOST tiny/sdl sd s1
HOST tiny/vnc v s1
HOST tiny/spice sp s1
HOST tiny/rxvt r s1
HOST tiny/screen sc s1
`;

function plan(o: Partial<PlanOptions> = {}) {
  return planLab(resolveTopology(parseTopology(MIXED, '/t/mixed.topo')), CATALOG, PATHS, options(o));
}

/** The display part of a VM's argv: everything from -vga/-display on, up to -pidfile. */
function screenArgs(display: DisplaySpec): string[] {
  const spec: VmSpec = { name: 'h', accel: 'tcg', disk: { path: '/h.qcow2', format: 'qcow2', interface: 'virtio' }, nics: [], serialSocket: '/a', qmpSocket: '/b', display };
  const argv = qemuArgv(spec);
  return argv.slice(argv.indexOf('virtio-rng-pci') + 1);
}

describe('display modes: QEMU argv', () => {
  it('gives each kind of screen its exact options', () => {
    assert.deepEqual(screenArgs({ kind: 'none' }), ['-display', 'none', '-vga', 'none']);
    assert.deepEqual(screenArgs({ kind: 'gtk' }), ['-vga', 'std', '-display', 'gtk']);
    assert.deepEqual(screenArgs({ kind: 'sdl' }), ['-vga', 'std', '-display', 'sdl']);
    assert.deepEqual(screenArgs({ kind: 'vnc', listen: { socket: '/s/v.vnc' } }), ['-vga', 'std', '-display', 'none', '-vnc', 'unix:/s/v.vnc']);
    assert.deepEqual(screenArgs({ kind: 'vnc', listen: { port: 5907 } }), ['-vga', 'std', '-display', 'none', '-vnc', '127.0.0.1:7,password=on']);
    assert.deepEqual(screenArgs({ kind: 'spice', listen: { socket: '/s/sp.spice' } }), ['-vga', 'std', '-display', 'none', '-spice', 'unix=on,addr=/s/sp.spice,disable-ticketing=on']);
    assert.deepEqual(screenArgs({ kind: 'spice', listen: { port: 5931 } }), ['-vga', 'std', '-display', 'none', '-spice', 'port=5931,addr=127.0.0.1']);
  });

  it('escapes a comma in a socket path (a session in /tmp/a,b)', () => {
    assert.deepEqual(screenArgs({ kind: 'vnc', listen: { socket: '/tmp/a,b/v.vnc' } }).slice(-1), ['unix:/tmp/a,,b/v.vnc']);
    assert.deepEqual(screenArgs({ kind: 'spice', listen: { socket: '/tmp/a,b/s.spice' } }).slice(-1), ['unix=on,addr=/tmp/a,,b/s.spice,disable-ticketing=on']);
  });

  it('writes the kernel log on tty0 too for a host with a screen, ttyS0 staying the console', () => {
    // Every tiny host has both consoles (QemuNet's arguments), ttyS0 last: a screen shows the kernel on tty0.
    assert.equal(tinyKernelAppend({ hostname: 'g', user: 'bob' }), 'root=/dev/vda rw net.ifnames=0 console=tty0 console=ttyS0 user=bob hostname=g cryptomgr.notests no_timer_check quiet');
  });
});

describe('display modes: plan', () => {
  it('plans a mixed lab: a screen only for graphic, sdl, vnc and spice hosts, sockets in the session', () => {
    const p = plan();
    assert.deepEqual(
      p.hosts.map((h) => [h.name, h.display, vmOf(h).display]),
      [
        ['ser', 'none', { kind: 'none' }],
        ['g', 'graphic', { kind: 'gtk' }],
        ['sd', 'sdl', { kind: 'sdl' }],
        ['v', 'vnc', { kind: 'vnc', listen: { socket: '/s/v.vnc' } }],
        ['sp', 'spice', { kind: 'spice', listen: { socket: '/s/sp.spice' } }],
        ['r', 'rxvt', { kind: 'none' }],
        ['sc', 'screen', { kind: 'none' }],
      ],
    );
    // QemuNet's two consoles on every host; only hosts with a screen have a VGA card that shows tty0.
    assert.deepEqual(
      p.hosts.map((h) => vmOf(h).kernel!.append.includes(' console=tty0 console=ttyS0 ')),
      [true, true, true, true, true, true, true],
    );
  });

  it('takes SDL for graphic when QEMU has no GTK, and TCP ports when they are planned', () => {
    const p = plan({ graphicToolkit: 'sdl', displayPorts: new Map([['v', 5900], ['sp', 5901]]) });
    assert.deepEqual(vmOf(p.hosts.find((h) => h.name === 'g')!).display, { kind: 'sdl' });
    assert.deepEqual(vmOf(p.hosts.find((h) => h.name === 'v')!).display, { kind: 'vnc', listen: { port: 5900 } });
    assert.deepEqual(vmOf(p.hosts.find((h) => h.name === 'sp')!).display, { kind: 'spice', listen: { port: 5901 } });
  });

  it('names the allowed modes for an unknown -d MODE', async () => {
    await assert.rejects(
      checkUp({ topologyFile: '/nonexistent.topo', display: 'x11' }),
      (e: unknown) => e instanceof UsageError && e.message === 'unknown display mode "x11"; allowed: none, nographic, graphic, gtk, sdl, vnc, spice, xterm, rxvt, gnome, xfce4, tmux, screen',
    );
  });
});

describe('display modes: terminals and viewers', () => {
  const w = { title: 'alpha', argv: ['qemunet', 'console', 'alpha'] };
  it('opens each terminal with a title and the console command as its own argv', () => {
    assert.deepEqual(terminalArgv('xterm', w), ['xterm', '-T', 'alpha', '-e', 'qemunet', 'console', 'alpha']);
    assert.deepEqual(terminalArgv('rxvt', w), ['urxvt', '-title', 'alpha', '-e', 'qemunet', 'console', 'alpha']);
    assert.deepEqual(terminalArgv('xfce4', w), ['xfce4-terminal', '--disable-server', '-T', 'alpha', '-x', 'qemunet', 'console', 'alpha']);
    assert.deepEqual(terminalArgv('gnome', w), ['gnome-terminal', '--wait', '--title=alpha', '--', 'qemunet', 'console', 'alpha']);
    assert.deepEqual(tiedArgv('TERM', ['xterm']), ['setpriv', '--pdeathsig', 'TERM', '--', 'xterm']);
  });

  it('opens TigerVNC on a VNC socket, remote-viewer on a SPICE socket, and a connection file on TCP', () => {
    assert.deepEqual(viewerArgv('v', { protocol: 'vnc', socket: '/s/v.vnc' }), ['xtigervncviewer', '/s/v.vnc']);
    assert.deepEqual(viewerArgv('sp', { protocol: 'spice', socket: '/s/sp.spice' }), ['remote-viewer', '--title', 'sp', 'spice+unix:///s/sp.spice']);
    assert.deepEqual(viewerArgv('v', { protocol: 'vnc', port: 5900, password: 'pw', viewerFile: '/s/v.vv' }), ['remote-viewer', '/s/v.vv']);
    assert.equal(viewerFile('v', { protocol: 'vnc', port: 5900, password: 'pw' }), '[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=5900\npassword=pw\ntitle=v\ndelete-this-file=0\n');
  });
});

describe('display modes: checks before start', () => {
  it('refuses windows without an X display, naming the hosts', async () => {
    await assert.rejects(
      checkDisplays(plan(), { env: {}, viewers: false, switchXterms: false }),
      (e: unknown) => e instanceof QemunetError && e.code === 'NO_X_DISPLAY' && e.message === 'g (graphic), sd (sdl), r (rxvt) open a window, but DISPLAY is not set (no X display); run under X, or use vnc or spice (a server on a unix socket) or tmux/screen',
    );
  });

  it('names qemu-system-gui when QEMU has neither GTK nor SDL', async () => {
    await assert.rejects(
      checkDisplays(plan(), { env: { DISPLAY: ':9' }, viewers: false, switchXterms: false, qemuBackends: new Set(['none', 'curses']) }),
      (e: unknown) => e instanceof QemunetError && e.code === 'PROGRAM_MISSING' && e.message === "display mode graphic of host g needs QEMU's GTK display, which this QEMU does not have. Install it with: apt-get install qemu-system-gui",
    );
  });

  it('names the package of a missing terminal program', async () => {
    const p = planLab(resolveTopology(parseTopology('SWITCH s1\nHOST tiny/rxvt r s1\n', '/t/r.topo')), CATALOG, PATHS, options());
    await assert.rejects(
      checkDisplays(p, { env: { DISPLAY: ':9', PATH: '/nonexistent' }, viewers: false, switchXterms: false }),
      (e: unknown) => e instanceof QemunetError && e.message === 'display mode rxvt runs urxvt, which was not found on PATH. Install it with: apt-get install rxvt-unicode',
    );
  });
});

describe('display modes: status', () => {
  it('says how to reach each screen and the GNU screen session', () => {
    const state: SessionState = {
      version: 1, dir: '/s', topology: '/t/m.topo', pid: 1, phase: 'running', accel: 'tcg', startedAt: '2025-01-01T00:00:00Z', switches: [],
      screenSession: 'qemunet-s',
      hosts: [
        { name: 'v', system: 'tiny', base: '/b', state: 'running', display: 'vnc', nics: [], console: '/s/v.console', agent: false, screen: { kind: 'vnc', socket: '/s/v.vnc', connect: 'xtigervncviewer /s/v.vnc' } },
        { name: 'g', system: 'tiny', base: '/b', state: 'running', display: 'graphic', nics: [], console: '/s/g.console', agent: false, screen: { kind: 'window', connect: 'QEMU\'s window "QEMU (g)" on X display :9' } },
      ],
    };
    assert.deepEqual(renderStatus(state).split('\n').slice(-3), [
      'screen of v (vnc): xtigervncviewer /s/v.vnc',
      'screen of g (window): QEMU\'s window "QEMU (g)" on X display :9',
      'consoles in GNU screen: screen -r qemunet-s',
    ]);
  });
});
