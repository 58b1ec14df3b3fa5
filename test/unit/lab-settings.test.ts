import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labEnvironment } from '../../src/api/lab-environment.js';
import { accelFromEnvironment, catalogSettings, tuningFromEnvironment, upSettings } from '../../src/cli/lab-settings.js';
import { parseUpOptions } from '../../src/cli/up-options.js';
import { EnvironmentError, UsageError } from '../../src/errors.js';
import type { LabEnvironment, UpSettings } from '../../src/lab/driver/settings.js';

const HOME = '/home/u';
const QEMUNET = ['/usr/bin/node', '/opt/qemunet/main.js'];
const settingsOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => upSettings(parseUpOptions(argv), { env, home: HOME, qemunetCommand: QEMUNET });

/** The environment of an empty `env`: everything under the home directory, no desktop. */
const BARE: LabEnvironment = {
  imageStore: '/home/u/.cache/qemunet/images',
  accelCache: '/home/u/.cache/qemunet/accel.json',
  registryDir: '/home/u/.local/state/qemunet/sessions',
  home: '',
  tmpDir: '/tmp',
  wayland: false,
  dbusSession: false,
  programPath: '',
};

/** An invalid variable: an EnvironmentError (code ENV_INVALID, exit 2) naming it and what is allowed. */
function assertRefused(env: NodeJS.ProcessEnv, message: string): void {
  assert.throws(
    () => settingsOf(['lab.topo'], env),
    (e: unknown) => {
      assert.ok(e instanceof EnvironmentError, `expected an EnvironmentError, got ${String(e)}`);
      assert.equal(e.code, 'ENV_INVALID');
      assert.equal(e.message, message);
      return true;
    },
  );
}

describe('up settings from the command line and the environment', () => {
  it('gives the defaults of `qemunet up FILE` in an empty environment', () => {
    const expected: UpSettings = {
      topologyFile: 'lab.topo',
      display: 'none',
      force: false,
      vlan: false,
      switchConsoles: false,
      aliases: new Map(),
      accel: 'probe',
      accelHint: 'QEMUNET_ACCEL=kvm forces KVM; -K skips this check',
      internet: false,
      quiet: false,
      kernelArgs: [],
      mountDir: true,
      mountDisk: true,
      qemunetCommand: QEMUNET,
      environment: BARE,
    };
    assert.deepEqual(settingsOf(['lab.topo']), expected);
  });

  it('maps each option onto the setting that does it', () => {
    const s = settingsOf(['-t', 'lab.topo', '--session', 's', '-c', 'my.cfg', '-d', 'tmux', '-u', 'ann', '--from', 'a.tgz', '-a', 'x.tgz', '--force', '-v', '-y', '-V', '--display-tcp', '--no-taps', '--alias', 'debian=tiny', '-K', '-i', '-q', '-z', 'a=1 b', '-M', '-F', '--boot-silence', '5']);
    assert.deepEqual(s, {
      topologyFile: 'lab.topo', sessionDir: 's', configFile: 'my.cfg', display: 'tmux', user: 'ann', from: 'a.tgz', extraArchive: 'x.tgz',
      force: true, vlan: true, hostNetwork: false, switchConsoles: true, viewers: true, displayTcp: true,
      aliases: new Map([['debian', 'tiny']]), accel: 'tcg', accelHint: 'QEMUNET_ACCEL=kvm forces KVM; -K skips this check', internet: true, quiet: true, kernelArgs: ['a=1', 'b'], mountDir: false, mountDisk: false,
      bootLimits: { silentMs: 5000, notReadyMs: 180000 }, qemunetCommand: QEMUNET, environment: BARE,
    });
  });

  it('wires every NIC with --wire-all, and with --web (faults from a browser on any link)', () => {
    assert.equal(settingsOf(['lab.topo', '--wire-all']).wireAll, true);
    assert.equal(settingsOf(['lab.topo', '--web']).wireAll, true);
    assert.equal(settingsOf(['lab.topo']).wireAll, undefined);
  });

  it('opens xterms by default when there is an X display; -d wins', () => {
    assert.equal(settingsOf(['lab.topo'], { DISPLAY: ':0' }).display, 'xterm');
    assert.equal(settingsOf(['lab.topo', '-d', 'none'], { DISPLAY: ':0' }).display, 'none');
    assert.equal(settingsOf(['lab.topo', '-x']).display, 'xterm');
  });

  it('names the allowed modes for an unknown -d MODE (a usage error, exit 2)', () => {
    assert.throws(() => settingsOf(['lab.topo', '-d', 'x11']), (e: unknown) => e instanceof UsageError && e.message === 'unknown display mode "x11"; allowed: none, nographic, graphic, gtk, sdl, vnc, spice, xterm, rxvt, gnome, xfce4, tmux, screen');
  });

  it('takes the accelerator from -K first, then QEMUNET_ACCEL, else probes', () => {
    assert.equal(settingsOf(['lab.topo', '-K'], { QEMUNET_ACCEL: 'kvm' }).accel, 'tcg');
    assert.equal(settingsOf(['lab.topo', '-K'], { QEMUNET_ACCEL: 'xen' }).accel, 'tcg', '-K does not look at QEMUNET_ACCEL');
    assert.equal(settingsOf(['lab.topo', '-k'], { QEMUNET_ACCEL: 'kvm' }).accel, 'kvm');
    assert.deepEqual(['TCG', ' kvm ', 'auto', 'probe', '', undefined].map(accelFromEnvironment), ['tcg', 'kvm', 'probe', 'probe', 'probe', 'probe']);
    assertRefused({ QEMUNET_ACCEL: 'xen' }, 'QEMUNET_ACCEL="xen" is not allowed; allowed: kvm (no probe), tcg, auto (probe; the default)');
  });

  it('reads the tuning variables; empty ones are unset', () => {
    assert.deepEqual(tuningFromEnvironment({ QEMUNET_TCG_CACHE: '16', QEMUNET_BOOT_SLOTS: '3', QEMUNET_KSM: 'on', QEMUNET_OWNER_PID: '4242' }), { tcgCacheMiB: 16, bootSlots: 3, ksm: 'on', ownerPid: 4242 });
    assert.deepEqual(tuningFromEnvironment({ QEMUNET_TCG_CACHE: '', QEMUNET_BOOT_SLOTS: '', QEMUNET_KSM: '', QEMUNET_OWNER_PID: '' }), {});
    assert.deepEqual(tuningFromEnvironment({ QEMUNET_KSM: 'off' }), { ksm: 'off' });
    const s = settingsOf(['lab.topo'], { QEMUNET_TCG_CACHE: '4096', QEMUNET_BOOT_SLOTS: '1' });
    assert.deepEqual([s.tcgCacheMiB, s.bootSlots], [4096, 1]);
  });

  it('refuses a value it cannot use, naming the variable and what is allowed', () => {
    for (const bad of ['0', '16M', '-1', '99999', 'lots']) {
      assertRefused({ QEMUNET_TCG_CACHE: bad }, `QEMUNET_TCG_CACHE="${bad}" is not allowed; allowed: a size in MiB from 4 to 4096 (TCG's translation cache of each VM; tiny's default is 32, 16 saves memory at the cost of slower boots)`);
    }
    assertRefused({ QEMUNET_KSM: 'yes' }, 'QEMUNET_KSM="yes" is not allowed; allowed: on (turn KSM on), off (no hint)');
    assertRefused({ QEMUNET_BOOT_SLOTS: '0' }, 'QEMUNET_BOOT_SLOTS="0" is not allowed; allowed: a number of guests from 1 (how many boot at once; the default is twice the CPUs)');
    assertRefused({ QEMUNET_OWNER_PID: 'me' }, 'QEMUNET_OWNER_PID="me" is not allowed; allowed: a process id (the session ends when that process does)');
  });
});

describe("the lab's environment", () => {
  it('puts the store, the probe cache and the registry where the XDG and QEMUNET variables say', () => {
    assert.deepEqual(labEnvironment({ XDG_CACHE_HOME: '/c', XDG_STATE_HOME: '/st', HOME: '/h' }, HOME), {
      ...BARE, imageStore: '/c/qemunet/images', accelCache: '/c/qemunet/accel.json', registryDir: '/st/qemunet/sessions', home: '/h',
    });
    const own = labEnvironment({ QEMUNET_IMAGES: '/img', QEMUNET_STATE_DIR: '/state', XDG_CACHE_HOME: '/c' }, HOME);
    assert.deepEqual([own.imageStore, own.accelCache, own.registryDir], ['/img', '/c/qemunet/accel.json', '/state/sessions']);
  });

  it('finds the temporary directory as os.tmpdir() does', () => {
    assert.equal(labEnvironment({ TMPDIR: '/var/tmp/' }, HOME).tmpDir, '/var/tmp');
    assert.equal(labEnvironment({ TMP: '/t' }, HOME).tmpDir, '/t');
    assert.equal(labEnvironment({ TMPDIR: '' }, HOME).tmpDir, '/tmp');
  });

  it('says what desktop there is and where programs are', () => {
    assert.deepEqual(labEnvironment({ DISPLAY: ':1', WAYLAND_DISPLAY: 'wayland-0', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/bus', PATH: '/bin:/usr/bin' }, HOME), {
      ...BARE, xDisplay: ':1', wayland: true, dbusSession: true, programPath: '/bin:/usr/bin',
    });
  });

  it('gives the image commands the same store', () => {
    assert.deepEqual(catalogSettings('q.cfg', { env: { QEMUNET_IMAGES: '/img', HOME: '/h' }, home: HOME }), { configFile: 'q.cfg', storeDir: '/img', home: '/h' });
    assert.deepEqual(catalogSettings(undefined, { env: {}, home: HOME }), { storeDir: '/home/u/.cache/qemunet/images', home: '' });
  });
});
