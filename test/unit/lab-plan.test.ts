import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { builtinCatalog, mergeCatalog, type Catalog } from '../../src/config/catalog.js';
import { parseQemunetCfg } from '../../src/config/qemunet-cfg.js';
import { InputError, QemunetError } from '../../src/errors.js';
import { builtImagePaths } from '../../src/images/store.js';
import { planLab, type HostPlan, type LabPlan, type PlanOptions, type QemuHostPlan } from '../../src/lab/plan.js';
import { sessionPaths } from '../../src/session/paths.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import type { Topology } from '../../src/topology/types.js';
import { qemuArgv } from '../../src/vm/qemu-argv.js';
import { fixture } from '../helpers/fixtures.js';

const CFG = fixture('qemunet.cfg');
const cfg = parseQemunetCfg(readFileSync(CFG, 'utf8'), CFG, { qemunetDir: '/opt/qemunet', configDir: dirname(CFG), env: { HOME: '/home/u' } });
const BUILTIN = builtinCatalog((n) => builtImagePaths('/store', n));
const CATALOG: Catalog = mergeCatalog(BUILTIN, [cfg]).catalog;
const DIR = '/tmp/qn-gw';
const PATHS = sessionPaths(DIR);

function topologyFile(name: string): Topology {
  const file = fixture('topologies', name);
  return resolveTopology(parseTopology(readFileSync(file, 'utf8'), file));
}

function topologyText(text: string, file = '/t/test.topo'): Topology {
  return resolveTopology(parseTopology(text, file));
}

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    accel: 'kvm',
    aliases: new Map(),
    display: 'none',
    internet: false,
    quiet: false,
    kernelArgs: [],
    user: 'bob',
    mountDir: true,
    mountDisk: true,
    existingDisks: new Set(),
    configFiles: [CFG],
    ...overrides,
  };
}

/** A QEMU host's plan (these topologies have no other kind). */
function qemu(h: HostPlan): QemuHostPlan {
  assert.equal(h.kind, 'qemu');
  return h as QemuHostPlan;
}

function host(plan: LabPlan, name: string): QemuHostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  assert.ok(h, `no host ${name} in the plan`);
  return qemu(h);
}

/** Asserts the thrown error's class, code and exact message (and place, for InputError). */
function assertThrows(fn: () => unknown, cls: abstract new (...args: never[]) => QemunetError, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

describe('planLab: gw.topo with --alias debian=tiny', () => {
  const gw = topologyFile('gw.topo');
  const plan = planLab(gw, CATALOG, PATHS, options({ aliases: new Map([['debian', 'tiny']]), kernelArgs: ['loglevel=3'] }));

  it('plans the hosts in HOST order, resolved through the alias, in one wave', () => {
    assert.equal(plan.dir, DIR);
    assert.equal(plan.topologyFile, fixture('topologies', 'gw.topo'));
    assert.deepEqual(
      plan.hosts.map((h) => [h.name, h.systemName, h.system.name, h.system.source, h.display, h.wave, h.agent]),
      [
        ['immortal', 'debian', 'tiny', 'built-in', 'none', 0, true],
        ['opeth', 'debian', 'tiny', 'built-in', 'none', 0, true],
        ['syl', 'debian', 'tiny', 'built-in', 'none', 0, true],
        ['grave', 'debian', 'tiny', 'built-in', 'none', 0, true],
      ],
    );
    assert.deepEqual(plan.waveDelays, [0]);
    assert.deepEqual(plan.notes, []);
  });

  it("numbers ports 1..n per switch in HOST order and gives MACs AA:AA:AA:AA:HH:NN", () => {
    assert.deepEqual(Object.fromEntries(plan.hosts.map((h) => [h.name, h.nics])), {
      immortal: [
        { eth: 'eth0', switch: 's1', port: 1, mac: 'AA:AA:AA:AA:00:00' },
        { eth: 'eth1', switch: 's2', port: 1, mac: 'AA:AA:AA:AA:00:01' },
      ],
      opeth: [{ eth: 'eth0', switch: 's2', port: 2, mac: 'AA:AA:AA:AA:01:00' }],
      syl: [{ eth: 'eth0', switch: 's2', port: 3, mac: 'AA:AA:AA:AA:02:00' }],
      grave: [{ eth: 'eth0', switch: 's1', port: 2, mac: 'AA:AA:AA:AA:03:00' }],
    });
  });

  it("refuses a 257th host: QemuNet's MAC scheme has one byte for the host", () => {
    // At most 20 hosts per switch (ports 21.. are for trunks).
    const switches = Array.from({ length: 13 }, (_, i) => `SWITCH s${i}`);
    const hosts = Array.from({ length: 257 }, (_, i) => `HOST tiny h${i} s${Math.floor(i / 20)}`);
    const text = [...switches, ...hosts, ''].join('\n');
    assert.throws(() => planLab(topologyText(text), CATALOG, PATHS, options()), { message: "/t/test.topo: 257 hosts; QemuNet's MAC scheme (AA:AA:AA:AA:HH:NN) numbers at most 256" });
  });

  it('plans the switches with their session paths and vde_switch argv', () => {
    assert.deepEqual(plan.switches, [
      {
        name: 's1',
        hub: false,
        paths: { socket: '/tmp/qn-gw/switch/s1', mgmt: '/tmp/qn-gw/s1.mgmt', pid: '/tmp/qn-gw/s1.pid', log: '/tmp/qn-gw/s1.switch.log', commands: '/tmp/qn-gw/s1.cmd' },
        argv: ['-sock', '/tmp/qn-gw/switch/s1', '-mode', '0600', '-dirmode', '0700', '-mgmt', '/tmp/qn-gw/s1.mgmt', '-mgmtmode', '0600', '-numports', '64'],
        vlanCommands: [],
        portsInUse: 2,
      },
      {
        name: 's2',
        hub: false,
        paths: { socket: '/tmp/qn-gw/switch/s2', mgmt: '/tmp/qn-gw/s2.mgmt', pid: '/tmp/qn-gw/s2.pid', log: '/tmp/qn-gw/s2.switch.log', commands: '/tmp/qn-gw/s2.cmd' },
        argv: ['-sock', '/tmp/qn-gw/switch/s2', '-mode', '0600', '-dirmode', '0700', '-mgmt', '/tmp/qn-gw/s2.mgmt', '-mgmtmode', '0600', '-numports', '64'],
        vlanCommands: [],
        portsInUse: 3,
      },
    ]);
  });

  it('builds the whole QEMU command line of immortal (two NICs, tiny kernel, 9p share, agent)', () => {
    assert.deepEqual(qemuArgv(host(plan, 'immortal').vm), [
      '-name', 'immortal,process=qemu-immortal', '-nodefaults', '-no-user-config',
      '-machine', 'pc,accel=kvm', '-cpu', 'host', '-m', '128', '-rtc', 'base=localtime',
      '-drive', 'file=/tmp/qn-gw/immortal.qcow2,format=qcow2,id=disk0,cache=writeback,if=virtio',
      '-kernel', '/store/tiny/tiny.vmlinux', '-initrd', '/store/tiny/tiny.initrd',
      '-append', 'root=/dev/vda rw net.ifnames=0 console=tty0 console=ttyS0 user=bob hostname=immortal cryptomgr.notests no_timer_check quiet loglevel=3',
      '-netdev', 'vde,id=nic0,sock=/tmp/qn-gw/switch/s1,port=1', '-device', 'e1000,netdev=nic0,mac=AA:AA:AA:AA:00:00,addr=0x10,romfile=',
      '-netdev', 'vde,id=nic1,sock=/tmp/qn-gw/switch/s2,port=1', '-device', 'e1000,netdev=nic1,mac=AA:AA:AA:AA:00:01,addr=0x11,romfile=',
      '-fsdev', 'local,id=share0,path=/tmp/qn-gw/immortal,security_model=none', '-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host',
      '-chardev', 'socket,id=serial0,path=/tmp/qn-gw/immortal.serial,server=on,wait=off', '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=qmp,path=/tmp/qn-gw/immortal.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
      '-device', 'virtio-serial-pci,id=vser0',
      '-chardev', 'socket,id=qga0,path=/tmp/qn-gw/immortal.qga,server=on,wait=off',
      '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
      '-device', 'virtio-rng-pci', '-device', 'virtio-balloon-pci,free-page-reporting=on', '-display', 'none', '-vga', 'none',
      '-pidfile', '/tmp/qn-gw/immortal.pid',
    ]);
  });

  it('uses the session paths of each host', () => {
    const { wire, wireMgmt, ...files } = host(plan, 'syl').paths;
    assert.equal(wire(0), '/tmp/qn-gw/wire/syl-eth0');
    assert.equal(wireMgmt(0), '/tmp/qn-gw/syl-eth0.wf');
    assert.deepEqual(files, {
      overlay: '/tmp/qn-gw/syl.qcow2',
      share: '/tmp/qn-gw/syl',
      disk: '/tmp/qn-gw/syl.disk',
      serial: '/tmp/qn-gw/syl.serial',
      console: '/tmp/qn-gw/syl.console',
      consoleResume: '/tmp/qn-gw/syl.resume',
      qmp: '/tmp/qn-gw/syl.qmp',
      agent: '/tmp/qn-gw/syl.qga',
      pid: '/tmp/qn-gw/syl.pid',
      log: '/tmp/qn-gw/syl.log',
      script: '/tmp/qn-gw/syl.sh',
      uml: '/tmp/qn-gw/syl.uml',
      vnc: '/tmp/qn-gw/syl.vnc',
      spice: '/tmp/qn-gw/syl.spice',
      viewerFile: '/tmp/qn-gw/syl.vv',
    });
  });

  it('attaches <host>.disk as second drive for the hosts that have one, unless mountDisk is off', () => {
    const withDisk = planLab(gw, CATALOG, PATHS, options({ aliases: new Map([['debian', 'tiny']]), existingDisks: new Set(['syl']) }));
    assert.deepEqual(
      withDisk.hosts.map((h) => [h.name, qemu(h).vm.extraDisk]),
      [['immortal', undefined], ['opeth', undefined], ['syl', { path: '/tmp/qn-gw/syl.disk', format: 'raw', interface: 'virtio' }], ['grave', undefined]],
    );
    const off = planLab(gw, CATALOG, PATHS, options({ aliases: new Map([['debian', 'tiny']]), existingDisks: new Set(['syl']), mountDisk: false }));
    assert.equal(host(off, 'syl').vm.extraDisk, undefined);
  });

  it('leaves the 9p share out with mountDir off', () => {
    const off = planLab(gw, CATALOG, PATHS, options({ aliases: new Map([['debian', 'tiny']]), mountDir: false }));
    assert.deepEqual(off.hosts.map((h) => qemu(h).vm.shareDir), [undefined, undefined, undefined, undefined]);
    assert.equal(qemuArgv(host(off, 'immortal').vm).includes('-fsdev'), false);
  });
});

describe('planLab: a session directory whose path has commas', () => {
  // Unescaped, `path=/tmp/lab,path=/etc/...` would end the value at the comma and add a second path key.
  const dir = '/tmp/lab,path=/etc';
  const topology = topologyText('SWITCH s1\nSWITCH s2\nHOST tiny a s1 s2\nLINK a:eth1 loss=5%\n');
  const plan = planLab(topology, CATALOG, sessionPaths(dir), options({ existingDisks: new Set(['a']), accel: 'tcg' }));

  it('doubles every comma of a path inside a QEMU option, and leaves plain arguments as they are', () => {
    assert.deepEqual(qemuArgv(host(plan, 'a').vm), [
      '-name', 'a,process=qemu-a', '-nodefaults', '-no-user-config',
      '-machine', 'pc', '-accel', 'tcg,tb-size=32', '-m', '128', '-rtc', 'base=localtime',
      '-drive', 'file=/tmp/lab,,path=/etc/a.qcow2,format=qcow2,id=disk0,cache=writeback,if=virtio',
      '-drive', 'file=/tmp/lab,,path=/etc/a.disk,format=raw,id=disk1,cache=writeback,if=virtio',
      '-kernel', '/store/tiny/tiny.vmlinux', '-initrd', '/store/tiny/tiny.initrd',
      '-append', 'root=/dev/vda rw net.ifnames=0 console=tty0 console=ttyS0 user=bob hostname=a cryptomgr.notests no_timer_check quiet',
      '-netdev', 'vde,id=nic0,sock=/tmp/lab,,path=/etc/switch/s1,port=1', '-device', 'e1000,netdev=nic0,mac=AA:AA:AA:AA:00:00,addr=0x10,romfile=',
      '-netdev', 'vde,id=nic1,sock=ptp:///tmp/lab,,path=/etc/wire/a-eth1', '-device', 'e1000,netdev=nic1,mac=AA:AA:AA:AA:00:01,addr=0x11,romfile=',
      '-fsdev', 'local,id=share0,path=/tmp/lab,,path=/etc/a,security_model=none', '-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host',
      '-chardev', 'socket,id=serial0,path=/tmp/lab,,path=/etc/a.serial,server=on,wait=off', '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=qmp,path=/tmp/lab,,path=/etc/a.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
      '-device', 'virtio-serial-pci,id=vser0',
      '-chardev', 'socket,id=qga0,path=/tmp/lab,,path=/etc/a.qga,server=on,wait=off',
      '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
      '-device', 'virtio-rng-pci', '-device', 'virtio-balloon-pci,free-page-reporting=on', '-display', 'none', '-vga', 'none',
      '-pidfile', '/tmp/lab,path=/etc/a.pid',
    ]);
  });

  it('passes paths to vde_switch and the wirefilter chain as they are: plain arguments, no option syntax', () => {
    assert.deepEqual(plan.switches[0]!.argv.slice(0, 2), ['-sock', '/tmp/lab,path=/etc/switch/s1']);
    assert.deepEqual(plan.wires[0]!.argv.filter((w) => w.includes('/')), ['ptp:///tmp/lab,path=/etc/wire/a-eth1', '/tmp/lab,path=/etc/a-eth1.wf', 'vde:///tmp/lab,path=/etc/switch/s2[1]']);
  });
});

describe('planLab: --wire-all', () => {
  it('puts a wirefilter on every NIC, each NIC plugged into its own, the switch ports unchanged', () => {
    const aliases = new Map([['debian', 'tiny']]);
    const plain = planLab(topologyFile('gw.topo'), CATALOG, PATHS, options({ aliases }));
    const wired = planLab(topologyFile('gw.topo'), CATALOG, PATHS, options({ aliases, wireAll: true }));
    assert.deepEqual(plain.wires, []);
    assert.deepEqual(
      wired.wires.map((w) => [`${w.host}:eth${w.nic}`, `${w.switch}[${w.port}]`, w.faults]),
      plain.hosts.flatMap((h) => h.nics.map((n) => [`${h.name}:${n.eth}`, `${n.switch}[${n.port}]`, {}])),
    );
    for (const h of wired.hosts) {
      assert.deepEqual(qemu(h).vm.nics.map((n) => [n.switchSocket, n.port]), h.nics.map((_, i) => [`ptp://${DIR}/wire/${h.name}-eth${i}`, undefined]));
    }
  });
});

describe('planLab: systems of qemunet.cfg', () => {
  const gw = topologyFile('gw.topo');

  it("boots debian with its KERNEL/INITRD and QemuNet's kernel line, IDE disks, and no -m of its own", () => {
    const plan = planLab(gw, CATALOG, PATHS, options({ quiet: true, kernelArgs: ['a=1', 'b'], existingDisks: new Set(['immortal']) }));
    const immortal = host(plan, 'immortal');
    assert.equal(immortal.system.source, `${CFG}:38`);
    assert.equal(immortal.agent, false);
    assert.deepEqual(qemuArgv(immortal.vm), [
      '-name', 'immortal,process=qemu-immortal', '-nodefaults', '-no-user-config',
      '-machine', 'pc,accel=kvm', '-cpu', 'host', '-rtc', 'base=localtime',
      '-drive', 'file=/tmp/qn-gw/immortal.qcow2,format=qcow2,id=disk0,cache=writeback,if=ide,index=0',
      '-drive', 'file=/tmp/qn-gw/immortal.disk,format=raw,id=disk1,cache=writeback,if=ide,index=1',
      '-kernel', '/opt/qemunet/images/debian10.vmlinuz', '-initrd', '/opt/qemunet/images/debian10.initrd',
      '-append', 'root=/dev/sda1 rw net.ifnames=0 console=ttyS0 console=tty0 user=bob quiet a=1 b',
      '-netdev', 'vde,id=nic0,sock=/tmp/qn-gw/switch/s1,port=1', '-device', 'e1000,netdev=nic0,mac=AA:AA:AA:AA:00:00,addr=0x10,romfile=',
      '-netdev', 'vde,id=nic1,sock=/tmp/qn-gw/switch/s2,port=1', '-device', 'e1000,netdev=nic1,mac=AA:AA:AA:AA:00:01,addr=0x11,romfile=',
      '-fsdev', 'local,id=share0,path=/tmp/qn-gw/immortal,security_model=none', '-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host',
      '-chardev', 'socket,id=serial0,path=/tmp/qn-gw/immortal.serial,server=on,wait=off', '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=qmp,path=/tmp/qn-gw/immortal.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
      '-device', 'virtio-rng-pci', '-display', 'none', '-vga', 'none',
      '-pidfile', '/tmp/qn-gw/immortal.pid',
      '-m', '200',
    ]);
  });

  it('leaves quiet out without quiet, and passes the user', () => {
    const plan = planLab(gw, CATALOG, PATHS, options({ user: 'alice' }));
    assert.equal(host(plan, 'grave').vm.kernel?.append, 'root=/dev/sda1 rw net.ifnames=0 console=ttyS0 console=tty0 user=alice');
  });

  it('adds no -m for a system whose QEMUOPT sets none', () => {
    const extra = parseQemunetCfg('SYS[plain]="linux"\nFS[plain]="/img/plain.img"\nQEMUOPT[plain]="-smp 2"\n', '/etc/qn/extra.cfg', { qemunetDir: '/opt/qemunet', configDir: '/etc/qn' });
    const catalog = mergeCatalog(BUILTIN, [cfg, extra]).catalog;
    const plan = planLab(topologyText('SWITCH s1\nHOST plain p s1\n'), catalog, PATHS, options());
    const p = host(plan, 'p');
    assert.equal(p.vm.memoryMiB, undefined);
    assert.equal(p.vm.kernel, undefined);
    assert.deepEqual(p.vm.extra, ['-smp', '2']);
    assert.equal(qemuArgv(p.vm).includes('-m'), false);
  });

  it("keeps QEMUOPT's -cpu host under KVM, and drops it under TCG with a note per host", () => {
    const aliases = new Map([['debian', 'debian10']]);
    const kvm = planLab(gw, CATALOG, PATHS, options({ aliases }));
    assert.deepEqual(host(kvm, 'syl').vm.extra, ['-cpu', 'host', '-m', '200']);
    assert.deepEqual(kvm.notes, []);
    const tcg = planLab(gw, CATALOG, PATHS, options({ aliases, accel: 'tcg' }));
    assert.deepEqual(host(tcg, 'syl').vm.extra, ['-m', '200']);
    assert.equal(qemuArgv(host(tcg, 'syl').vm).includes('-cpu'), false);
    assert.deepEqual(tcg.notes, [
      'immortal: "-cpu host" of QEMUOPT[debian10] needs KVM; left out under TCG',
      'opeth: "-cpu host" of QEMUOPT[debian10] needs KVM; left out under TCG',
      'syl: "-cpu host" of QEMUOPT[debian10] needs KVM; left out under TCG',
      'grave: "-cpu host" of QEMUOPT[debian10] needs KVM; left out under TCG',
    ]);
  });

  it('gives a windows system rtl8139 NICs (also for -i), no kernel and no 9p share', () => {
    const plan = planLab(topologyFile('win.topo'), CATALOG, PATHS, options({ internet: true }));
    assert.deepEqual(host(plan, 'winxp').vm, {
      name: 'winxp',
      accel: 'kvm',
      disk: { path: '/tmp/qn-gw/winxp.qcow2', format: 'qcow2', interface: 'ide' },
      nics: [{ switchSocket: '/tmp/qn-gw/switch/s2', port: 2, mac: 'AA:AA:AA:AA:03:00', model: 'rtl8139' }],
      internet: true,
      internetModel: 'rtl8139',
      serialSocket: '/tmp/qn-gw/winxp.serial',
      qmpSocket: '/tmp/qn-gw/winxp.qmp',
      pidFile: '/tmp/qn-gw/winxp.pid',
      display: { kind: 'none' },
      extra: ['-cpu', 'host', '-m', '1G'],
    });
    assert.deepEqual(host(plan, 'syl').vm.nics.map((n) => n.model), ['e1000']);
    assert.equal(host(plan, 'syl').vm.internetModel, 'e1000');
  });

  it('plans xchain.topo in two waves, 5 s apart, with per-host displays', () => {
    const plan = planLab(topologyFile('xchain.topo'), CATALOG, PATHS, options({ display: 'tmux' }));
    assert.deepEqual(plan.waveDelays, [0, 5]);
    assert.deepEqual(
      plan.hosts.map((h) => [h.name, h.wave, h.display, h.system.name, h.nics.map((n) => `${n.eth}=${n.switch}:${n.port}`).join(' ')]),
      [
        ['immortal', 0, 'xterm', 'debian', 'eth0=s1:1 eth1=s2:1'],
        ['grave', 0, 'xterm', 'debian', 'eth0=s2:2 eth1=s3:1'],
        ['syl', 0, 'xterm', 'debian', 'eth0=s3:2'],
        ['opeth', 1, 'tmux', 'win10', 'eth0=s1:2'],
        ['nile', 1, 'tmux', 'debianx', 'eth0=s1:3'],
      ],
    );
    assert.deepEqual(plan.switches.map((s) => s.name), ['s1', 's2', 's3']);
    assert.equal(host(plan, 'nile').vm.kernel, undefined);
  });
});

describe('planLab: refusals', () => {
  const gwFile = fixture('topologies', 'gw.topo');

  it("plans QemuNet's gw.topo on the built-in debian with no config and no alias: tiny's boot, 256 MiB", () => {
    const plan = planLab(topologyFile('gw.topo'), BUILTIN, PATHS, options({ configFiles: [] }));
    const vm = host(plan, 'immortal').vm;
    assert.equal(host(plan, 'immortal').system.builtin, 'debian');
    assert.deepEqual([vm.memoryMiB, vm.disk.interface, vm.kernel?.path, vm.kernel?.initrd, vm.agentSocket !== undefined], [256, 'virtio', '/store/debian/debian.vmlinux', '/store/debian/debian.initrd', true]);
    assert.match(vm.kernel!.append, /^root=\/dev\/vda rw net\.ifnames=0 console=tty0 console=ttyS0 user=\S+ hostname=immortal /);
  });

  it('names the place, the known systems and the config files read for an unknown system', () => {
    assert.throws(
      () => planLab(topologyFile('gw.topo'), new Map([['tiny', BUILTIN.get('tiny')!]]), PATHS, options({ configFiles: [] })),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual([e.code, e.file, e.line, e.column], ['UNKNOWN_SYSTEM', gwFile, 19, 6]);
        assert.equal(
          e.message,
          `${gwFile}:19:6: unknown system "debian" for host immortal; known systems: tiny (built-in); ` +
            'config files read: none (give one with -c FILE, or put qemunet.cfg in the working directory); --alias debian=tiny runs it on the built-in image',
        );
        return true;
      },
    );
  });

  it('names the alias that led to an unknown system', () => {
    const known = [
      'tiny (built-in)',
      // The config's debian takes the built-in one's place.
      `debian (${CFG}:38)`,
      'tiny-uml (built-in)',
      `tinycore (${CFG}:15)`,
      `debian9 (${CFG}:21)`,
      `debian10 (${CFG}:29)`,
      `debian10x (${CFG}:48)`,
      `debianx (${CFG}:55)`,
      `alpine (${CFG}:62)`,
      `alpinex (${CFG}:68)`,
      `kali (${CFG}:74)`,
      `winxp (${CFG}:80)`,
      `win10 (${CFG}:86)`,
    ].join(', ');
    assertThrows(
      () => planLab(topologyFile('gw.topo'), CATALOG, PATHS, options({ aliases: new Map([['debian', 'debian11']]) })),
      InputError,
      'UNKNOWN_SYSTEM',
      `${gwFile}:19:6: unknown system "debian11" (--alias debian=debian11) for host immortal; known systems: ${known}; config files read: ${CFG}; --alias debian=tiny runs it on the built-in image`,
    );
  });

  it('refuses two nographic hosts, from HOST lines or from the default display', () => {
    assertThrows(
      () => planLab(topologyText('SWITCH s1\nHOST tiny/nographic a s1\nHOST tiny b s1\nHOST tiny/nographic c s1\n'), CATALOG, PATHS, options()),
      QemunetError,
      'DISPLAY_NOGRAPHIC',
      'display mode nographic puts one host on this terminal, but 2 hosts use it (a, c); use tmux or xterm for several',
    );
    assertThrows(
      () => planLab(topologyText('SWITCH s1\nHOST tiny/xterm a s1\nHOST tiny b s1\nHOST tiny c s1\n'), CATALOG, PATHS, options({ display: 'nographic' })),
      QemunetError,
      'DISPLAY_NOGRAPHIC',
      'display mode nographic puts one host on this terminal, but 2 hosts use it (b, c); use tmux or xterm for several',
    );
    const one = planLab(topologyText('SWITCH s1\nHOST tiny/xterm a s1\nHOST tiny b s1\n'), CATALOG, PATHS, options({ display: 'nographic' }));
    assert.deepEqual(one.hosts.map((h) => h.display), ['xterm', 'nographic']);
  });

  it('refuses a TRUNK topology without -v, as QemuNet does; with -v plans one vde_plug per trunk', () => {
    const file = fixture('topologies', 'trunk.topo');
    assertThrows(
      () => planLab(topologyFile('trunk.topo'), CATALOG, PATHS, options()),
      QemunetError,
      'VLAN_REQUIRED',
      `${file}: TRUNK joins switches for VLANs; run with -v (VLAN support), as QemuNet requires`,
    );
    const plan = planLab(topologyFile('trunk.topo'), CATALOG, PATHS, options({ vlan: true, aliases: new Map([['debian', 'tiny']]) }));
    assert.deepEqual(plan.trunks, [
      { a: { switch: 's1', port: 21 }, b: { switch: 's2', port: 21 }, argv: [`vde://${PATHS.switch('s1').socket}[21]`, `vde://${PATHS.switch('s2').socket}[21]`] },
    ]);
    assert.equal(plan.vlan, true);
  });

  it("counts every plug of each switch (its ballast is sized from it): hosts' NICs, trunk ends, taps, a LINK wire for its NIC", () => {
    const text = 'SWITCH s1\nSWITCH s2\nTAP qtap0 s1 10.0.0.254/24\nHOST tiny a s1 s2\nHOST tiny b s1\nTRUNK s1 s2 10\nLINK b:eth0 delay=10ms\n';
    const plan = planLab(topologyText(text), CATALOG, PATHS, options({ vlan: true }));
    assert.deepEqual(plan.switches.map((s) => [s.name, s.portsInUse]), [['s1', 4], ['s2', 2]]);
  });
});

describe('planLab: TCG translation cache (the tcgCacheMiB setting)', () => {
  const topology = topologyText('SWITCH s1\nHOST tiny a s1\nHOST debian d s1\n');
  const cacheOf = (plan: ReturnType<typeof planLab>, name: string) => host(plan, name).vm.tcgCacheMiB;

  it("gives tiny its measured 32 MiB and leaves debian at QEMU's default; none under KVM", () => {
    const plan = planLab(topology, CATALOG, PATHS, options({ accel: 'tcg' }));
    assert.deepEqual([cacheOf(plan, 'a'), cacheOf(plan, 'd')], [32, undefined]);
    const kvm = planLab(topology, CATALOG, PATHS, options({ accel: 'kvm' }));
    assert.deepEqual([cacheOf(kvm, 'a'), cacheOf(kvm, 'd')], [undefined, undefined]);
  });

  it('gives every TCG host the size the user set', () => {
    const plan = planLab(topology, CATALOG, PATHS, options({ accel: 'tcg', tcgCacheMiB: 16 }));
    assert.deepEqual([cacheOf(plan, 'a'), cacheOf(plan, 'd')], [16, 16]);
  });
});
