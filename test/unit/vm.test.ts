import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macAddress, qemuArgv, tinyKernelAppend } from '../../src/vm/qemu-argv.js';

describe('qemu argv', () => {
  it('builds the whole command line of a tiny lab host', () => {
    assert.deepEqual(
      qemuArgv({
        name: 'syl',
        accel: 'tcg',
        memoryMiB: 128,
        disk: { path: '/s/syl.qcow2', format: 'qcow2', interface: 'virtio' },
        extraDisk: { path: '/s/syl,1.disk', format: 'raw', interface: 'virtio' },
        kernel: { path: '/i/tiny.vmlinux', initrd: '/i/tiny.initrd', append: tinyKernelAppend({ hostname: 'syl', user: 'orel' }) },
        nics: [
          { switchSocket: '/s/s1', port: 2, mac: macAddress(1, 0), model: 'e1000' },
          { switchSocket: '/s/s2', port: 1, mac: macAddress(1, 1), model: 'virtio-net-pci' },
        ],
        shareDir: '/s/syl',
        serialSocket: '/s/syl.serial',
        qmpSocket: '/s/syl.qmp',
        agentSocket: '/s/syl.qga',
        display: { kind: 'vnc', listen: { port: 5903 } },
        extra: ['-smp', '1'],
      }),
      [
        '-name', 'syl,process=qemu-syl', '-nodefaults', '-no-user-config', '-machine', 'pc,accel=tcg', '-m', '128', '-rtc', 'base=localtime',
        '-drive', 'file=/s/syl.qcow2,format=qcow2,id=disk0,cache=writeback,if=virtio',
        '-drive', 'file=/s/syl,,1.disk,format=raw,id=disk1,cache=writeback,if=virtio',
        '-kernel', '/i/tiny.vmlinux', '-initrd', '/i/tiny.initrd',
        '-append', 'root=/dev/vda rw net.ifnames=0 console=tty0 console=ttyS0 user=orel hostname=syl cryptomgr.notests no_timer_check quiet',
        '-netdev', 'vde,id=nic0,sock=/s/s1,port=2', '-device', 'e1000,netdev=nic0,mac=AA:AA:AA:AA:01:00,addr=0x10,romfile=',
        '-netdev', 'vde,id=nic1,sock=/s/s2,port=1', '-device', 'virtio-net-pci,netdev=nic1,mac=AA:AA:AA:AA:01:01,addr=0x11,romfile=',
        '-fsdev', 'local,id=share0,path=/s/syl,security_model=none', '-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host',
        '-chardev', 'socket,id=serial0,path=/s/syl.serial,server=on,wait=off', '-serial', 'chardev:serial0',
        '-chardev', 'socket,id=qmp,path=/s/syl.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
        '-device', 'virtio-serial-pci,id=vser0', '-chardev', 'socket,id=qga0,path=/s/syl.qga,server=on,wait=off',
        '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
        '-device', 'virtio-rng-pci', '-vga', 'std', '-display', 'none', '-vnc', '127.0.0.1:3,password=on', '-smp', '1',
      ],
    );
  });
  it('sizes the TCG cache with -accel (it cannot go with -machine accel=), and adds a free-page-reporting balloon', () => {
    const spec = { name: 't', accel: 'tcg' as const, tcgCacheMiB: 16, freePageReporting: true, disk: { path: '/t.qcow2', format: 'qcow2' as const, interface: 'virtio' as const }, nics: [], serialSocket: '/a', qmpSocket: '/b', display: { kind: 'none' as const } };
    const argv = qemuArgv(spec);
    assert.deepEqual(argv.slice(4, 8), ['-machine', 'pc', '-accel', 'tcg,tb-size=16']);
    assert.deepEqual(argv.slice(argv.indexOf('virtio-rng-pci') - 1, argv.indexOf('virtio-rng-pci') + 3), ['-device', 'virtio-rng-pci', '-device', 'virtio-balloon-pci,free-page-reporting=on']);
    // Under KVM there is no translation cache: the size is left out.
    assert.deepEqual(qemuArgv({ ...spec, accel: 'kvm' }).slice(4, 8), ['-machine', 'pc,accel=kvm', '-cpu', 'host']);
  });
  it('uses the host CPU under KVM and an IDE disk when asked', () => {
    const argv = qemuArgv({ name: 'w', accel: 'kvm', memoryMiB: 1024, disk: { path: '/w.qcow2', format: 'qcow2', interface: 'ide' }, nics: [], serialSocket: '/a', qmpSocket: '/b', display: { kind: 'none' } });
    assert.deepEqual(argv.slice(4, 8), ['-machine', 'pc,accel=kvm', '-cpu', 'host']);
    assert.ok(argv.includes('file=/w.qcow2,format=qcow2,id=disk0,cache=writeback,if=ide,index=0'));
  });
  it("gives QemuNet's MACs: AA:AA:AA:AA, then host and NIC index in lowercase hex, as qemunet.sh prints them", () => {
    assert.equal(macAddress(0, 0), 'AA:AA:AA:AA:00:00');
    // vlan.tgz's grave.sh (QemuNet's own command line): the 4th host's first NIC.
    assert.equal(macAddress(3, 0), 'AA:AA:AA:AA:03:00');
    assert.equal(macAddress(26, 11), 'AA:AA:AA:AA:1a:0b');
    assert.equal(macAddress(255, 2), 'AA:AA:AA:AA:ff:02');
  });
  it('refuses an index the MAC scheme cannot hold', () => {
    assert.throws(() => macAddress(256, 0), { name: 'RangeError', message: "host index 256 does not fit QemuNet's MAC scheme (0..255)" });
    assert.throws(() => macAddress(0, -1), { name: 'RangeError', message: "NIC index -1 does not fit QemuNet's MAC scheme (0..255)" });
  });
  it("puts QemuNet's kernel arguments on tiny's line, with ttyS0 last so it is /dev/console, and -z last of all", () => {
    assert.equal(
      tinyKernelAppend({ hostname: 'opeth', user: 'alice', extra: ['qemunet.trace', 'x=1'], quiet: false }),
      'root=/dev/vda rw net.ifnames=0 console=tty0 console=ttyS0 user=alice hostname=opeth cryptomgr.notests no_timer_check qemunet.trace x=1',
    );
  });
});
