import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinCatalog, mergeCatalog } from '../../src/config/catalog.js';
import { parseQemunetCfg } from '../../src/config/qemunet-cfg.js';
import { InputError, QemunetError } from '../../src/errors.js';
import { builtImagePaths } from '../../src/images/store.js';
import { kindOf } from '../../src/lab/kinds/index.js';
import { planLab, type PlanOptions, type UmlHostPlan } from '../../src/lab/plan.js';
import { sessionPaths } from '../../src/session/paths.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { umlArgv, umlJailArgv, type UmlSpec } from '../../src/uml/uml-argv.js';
import { COW_HEADER_BYTES, cowHeaderFor } from '../../src/uml/cow.js';
import { archivedSessionFiles } from '../../src/session/archive-manifest.js';

const SPEC: UmlSpec = {
  name: 'u1',
  kernel: '/usr/bin/linux.uml',
  memoryMiB: 128,
  base: '/store/tiny/tiny.img',
  dir: '/s/u1.uml',
  cow: '/s/u1.uml/disk.cow',
  runDir: '/s/u1.uml/run',
  nics: [{ url: 'ptp:///s/wire/u1-eth0', mac: 'AA:AA:AA:AA:02:00' }, { url: 'ptp:///s/wire/u1-eth1', mac: 'AA:AA:AA:AA:02:01' }],
  socketDirs: ['/s/wire'],
  shareDir: '/s/u1',
  agentSocket: '/s/u1.qga',
  append: ['hostname=u1', 'user=bob', 'quiet'],
};

const UML_ARGS = [
  'umid=u1', 'uml_dir=/s/u1.uml/run', 'mem=128M', 'ubd0c=/s/u1.uml/disk.cow,/store/tiny/tiny.img', 'root=/dev/ubda', 'rw',
  'eth0=vde,ptp:///s/wire/u1-eth0,AA:AA:AA:AA:02:00', 'eth1=vde,ptp:///s/wire/u1-eth1,AA:AA:AA:AA:02:01',
  'con=null', 'ssl=null', 'ssl0=fd:0,fd:1', 'ssl1=fd:3', 'console=ttyS0', 'hostfs=/s/u1', 'qemunet.hostfs', 'qemunet.agent=ttyS1',
  'hostname=u1', 'user=bob', 'quiet',
];

describe('UML command line', () => {
  it('boots the base through a COW file that does not lock it (ubd0c), console on stdio, agent on fd 3, NICs on their wires', () => {
    assert.deepEqual(umlArgv(SPEC), UML_ARGS);
  });

  it('runs in a bubblewrap jail that shows the guest only /usr, its base, its directory, its sockets and its folder', () => {
    assert.deepEqual(umlJailArgv(SPEC), [
      '--die-with-parent', '--unshare-pid', '--unshare-ipc',
      '--ro-bind', '/usr', '/usr',
      '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
      '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--setenv', 'TMPDIR', '/tmp',
      '--ro-bind', '/store/tiny/tiny.img', '/store/tiny/tiny.img',
      '--bind', '/s/u1.uml', '/s/u1.uml',
      '--bind', '/s/wire', '/s/wire',
      '--bind', '/s/u1', '/s/u1',
      '--', '/usr/bin/linux.uml', ...UML_ARGS,
    ]);
  });

  it('gives QemuNet\'s <host>.disk as the second disk, ubdb (ubd1=), bound read-write into the jail', () => {
    const spec = { ...SPEC, disk: '/s/u1.disk' };
    assert.deepEqual(umlArgv(spec).slice(3, 5), ['ubd0c=/s/u1.uml/disk.cow,/store/tiny/tiny.img', 'ubd1=/s/u1.disk']);
    assert.deepEqual(umlArgv(spec).filter((a) => a !== 'ubd1=/s/u1.disk'), UML_ARGS);
    const jail = umlJailArgv(spec);
    assert.deepEqual(jail.slice(jail.indexOf('/s/u1.uml') - 1, jail.indexOf('/s/u1.uml') + 5), ['--bind', '/s/u1.uml', '/s/u1.uml', '--bind', '/s/u1.disk', '/s/u1.disk']);
  });

  it('binds a KERNEL outside /usr read-only, and leaves out hostfs without a host folder (-M)', () => {
    const { shareDir: _, ...noShare } = SPEC;
    const argv = umlJailArgv({ ...noShare, kernel: '/opt/uml/linux' });
    const at = argv.indexOf('/opt/uml/linux');
    assert.deepEqual(argv.slice(at - 1, at + 2), ['--ro-bind', '/opt/uml/linux', '/opt/uml/linux']);
    assert.deepEqual(argv.slice(argv.indexOf('--'), argv.indexOf('--') + 2), ['--', '/opt/uml/linux']);
    assert.equal(argv.some((a) => a.startsWith('hostfs') || a === '/s/u1'), false);
  });
});

describe('planning UML hosts', () => {
  const catalog = builtinCatalog((n) => builtImagePaths('/store', n));
  const options: PlanOptions = { accel: 'tcg', aliases: new Map(), display: 'none', internet: false, quiet: false, kernelArgs: ['x=1'], user: 'bob', mountDir: true, mountDisk: true, existingDisks: new Set(), configFiles: [] };
  const topo = (text: string) => resolveTopology(parseTopology(text, '/t/mixed.topo'));
  const MIXED = 'SWITCH s1\nSWITCH s2\nHOST tiny q1 s1\nHOST tiny-uml u1 s1 s2\n';

  it('plans tiny-uml next to tiny: its NICs through wirefilters (link state), QEMU NICs straight on the switch', () => {
    const plan = planLab(topo(MIXED), catalog, sessionPaths('/s'), options);
    assert.deepEqual(plan.hosts.map((h) => h.kind), ['qemu', 'uml']);
    const u1 = plan.hosts[1] as UmlHostPlan;
    assert.deepEqual(u1.uml, {
      name: 'u1', kernel: '/store/tiny/tiny.linux-uml', memoryMiB: 128, base: '/store/tiny/tiny.img', dir: '/s/u1.uml', cow: '/s/u1.uml/disk.cow', runDir: '/s/u1.uml/run',
      nics: [{ url: 'ptp:///s/wire/u1-eth0', mac: 'AA:AA:AA:AA:01:00' }, { url: 'ptp:///s/wire/u1-eth1', mac: 'AA:AA:AA:AA:01:01' }],
      socketDirs: ['/s/wire'], shareDir: '/s/u1', agentSocket: '/s/u1.qga', append: ['hostname=u1', 'user=bob', 'quiet', 'x=1'],
    });
    assert.deepEqual(u1.nics.map((n) => `${n.eth}=${n.switch}:${n.port}`), ['eth0=s1:2', 'eth1=s2:1']);
    assert.deepEqual(plan.wires.map((w) => `${w.host}:eth${w.nic}>${w.switch}:${w.port}`), ['u1:eth0>s1:2', 'u1:eth1>s2:1']);
    assert.equal(u1.agent, true);
    assert.deepEqual(kindOf(u1).command(u1), ['bwrap', ...umlJailArgv(u1.uml)]);
  });

  it('plans <host>.disk as the UML host\'s second disk when it exists and -F is not given', () => {
    const disk = (o: Partial<PlanOptions>) => (planLab(topo(MIXED), catalog, sessionPaths('/s'), { ...options, ...o }).hosts[1] as UmlHostPlan).uml.disk;
    assert.equal(disk({ existingDisks: new Set(['u1']) }), '/s/u1.disk');
    assert.equal(disk({ existingDisks: new Set(['q1']) }), undefined);
    assert.equal(disk({ existingDisks: new Set(['u1']), mountDisk: false }), undefined);
  });

  it('reads SYS[name]=uml from qemunet.cfg, with KERNEL as the UML binary', () => {
    const cfg = parseQemunetCfg('SYS[deb-uml]=uml\nFS[deb-uml]=/img/deb.img\nKERNEL[deb-uml]=/opt/linux\n', '/c/qemunet.cfg', { qemunetDir: '/c', configDir: '/c' });
    const { catalog: merged } = mergeCatalog(catalog, [cfg]);
    const plan = planLab(topo('SWITCH s1\nHOST deb-uml d1 s1\n'), merged, sessionPaths('/s'), options);
    const d1 = plan.hosts[0] as UmlHostPlan;
    assert.deepEqual([d1.kind, d1.uml.kernel, d1.uml.base, d1.agent, d1.uml.append], ['uml', '/opt/linux', '/img/deb.img', false, ['hostname=d1', 'user=bob', 'x=1']]);
  });

  it('refuses a session path UML would split (blank or comma), naming the host and the path', () => {
    assert.throws(() => planLab(topo(MIXED), catalog, sessionPaths('/tmp/a,b'), options), (e: unknown) => {
      assert.ok(e instanceof QemunetError);
      assert.equal(e.code, 'UML_PATH');
      assert.equal(e.message, 'host u1 runs UML system tiny-uml (built-in), whose command line cannot hold the session directory /tmp/a,b/u1.uml: UML splits it on blanks and commas; use paths without them');
      return true;
    });
  });

  it('refuses a screen display for a UML host, with the file and line', () => {
    assert.throws(() => planLab(topo('SWITCH s1\nHOST tiny-uml/vnc u1 s1\n'), catalog, sessionPaths('/s'), options), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.code, 'UML_DISPLAY');
      assert.match(e.message, /^\/t\/mixed\.topo:2:\d+: host u1 runs system tiny-uml, a UML system, which has no screen for display mode vnc; allowed: none, nographic, tmux, screen, xterm, rxvt, gnome, xfce4$/);
      return true;
    });
  });
});

describe('UML COW header', () => {
  const header = () => {
    const h = Buffer.alloc(COW_HEADER_BYTES);
    h.writeUInt32BE(0x4f4f4f4d, 0);
    h.writeUInt32BE(3, 4);
    h.writeUInt32BE(1796585715, 8);
    h.writeBigUInt64BE(2n ** 30n, 12);
    h.writeUInt32BE(512, 20);
    h.writeUInt32BE(4096, 24);
    Buffer.from('/work/images-uml/tiny/tiny.img').copy(h, 32);
    return h;
  };

  it('points the COW at this machine\'s base: its path, mtime and size; the rest is kept', () => {
    const fixed = cowHeaderFor(header(), '/b/t.img', 1577836800, 2n ** 31n)!;
    assert.equal(fixed.readUInt32BE(8), 1577836800);
    assert.equal(fixed.readBigUInt64BE(12), 2n ** 31n);
    assert.deepEqual([fixed.readUInt32BE(20), fixed.readUInt32BE(24)], [512, 4096]);
    assert.equal(fixed.subarray(32, 32 + 64).toString('latin1').replace(/\0+$/, ''), '/b/t.img');
    assert.deepEqual(fixed.subarray(0, 8), header().subarray(0, 8));
  });

  it('leaves anything that is not a version 3 COW header alone', () => {
    const v2 = header();
    v2.writeUInt32BE(2, 4);
    assert.equal(cowHeaderFor(v2, '/b/t.img', 1, 1n), undefined);
    assert.equal(cowHeaderFor(Buffer.alloc(10), '/b/t.img', 1, 1n), undefined);
  });
});

describe('saving a UML host', () => {
  it('archives its COW file, not UML run directory beside it', () => {
    assert.deepEqual(archivedSessionFiles(['topology', 'q1.qcow2', 'q1', 'u1.uml', 'u1', 'u1.qga', 'u1.log', 's1.cmd'], ['q1', 'u1']), ['topology', 'q1', 'q1.qcow2', 's1.cmd', 'u1', 'u1.uml/disk.cow']);
  });
});
