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
        kernel: { path: '/i/tiny.vmlinux', initrd: '/i/tiny.initrd', append: tinyKernelAppend('syl') },
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
        '-name', 'syl,process=qemu-syl', '-nodefaults', '-no-user-config', '-machine', 'pc,accel=tcg', '-m', '128', '-rtc', 'base=utc',
        '-drive', 'file=/s/syl.qcow2,format=qcow2,id=disk0,cache=writeback,if=virtio',
        '-drive', 'file=/s/syl,,1.disk,format=raw,id=disk1,cache=writeback,if=virtio',
        '-kernel', '/i/tiny.vmlinux', '-initrd', '/i/tiny.initrd',
        '-append', 'console=ttyS0 root=/dev/vda rw hostname=syl cryptomgr.notests no_timer_check quiet',
        '-netdev', 'vde,id=nic0,sock=/s/s1,port=2', '-device', 'e1000,netdev=nic0,mac=52:54:00:00:01:00,addr=0x10,romfile=',
        '-netdev', 'vde,id=nic1,sock=/s/s2,port=1', '-device', 'virtio-net-pci,netdev=nic1,mac=52:54:00:00:01:01,addr=0x11,romfile=',
        '-fsdev', 'local,id=share0,path=/s/syl,security_model=none', '-device', 'virtio-9p-pci,fsdev=share0,mount_tag=host',
        '-chardev', 'socket,id=serial0,path=/s/syl.serial,server=on,wait=off', '-serial', 'chardev:serial0',
        '-chardev', 'socket,id=qmp,path=/s/syl.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
        '-device', 'virtio-serial-pci,id=vser0', '-chardev', 'socket,id=qga0,path=/s/syl.qga,server=on,wait=off',
        '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
        '-device', 'virtio-rng-pci', '-vga', 'std', '-display', 'none', '-vnc', '127.0.0.1:3,password=on', '-smp', '1',
      ],
    );
  });
  it('uses the host CPU under KVM and an IDE disk when asked', () => {
    const argv = qemuArgv({ name: 'w', accel: 'kvm', memoryMiB: 1024, disk: { path: '/w.qcow2', format: 'qcow2', interface: 'ide' }, nics: [], serialSocket: '/a', qmpSocket: '/b', display: { kind: 'none' } });
    assert.deepEqual(argv.slice(4, 8), ['-machine', 'pc,accel=kvm', '-cpu', 'host']);
    assert.ok(argv.includes('file=/w.qcow2,format=qcow2,id=disk0,cache=writeback,if=ide,index=0'));
  });
  it('gives unique MACs per host and NIC', () => {
    assert.equal(macAddress(0, 0), '52:54:00:00:00:00');
    assert.equal(macAddress(300, 2), '52:54:00:01:2c:02');
  });
});
