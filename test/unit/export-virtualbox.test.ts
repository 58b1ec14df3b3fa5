import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { virtualBoxScript } from '../../src/export/virtualbox.js';

describe('qemunet export virtualbox', () => {
  it('attaches each NIC to its switch port through the VDE driver, and the serial port to a socket', () => {
    const script = virtualBoxScript({
      host: 'u1',
      session: '/s',
      memoryMiB: 128,
      nics: [
        { eth: 'eth0', switchSocket: '/s/switch/s1', port: 3, mac: 'AA:AA:AA:AA:02:00' },
        { eth: 'eth1', switchSocket: '/s/switch/s2', port: 1, mac: 'AA:AA:AA:AA:02:01' },
      ],
      serialSocket: '/s/u1.vbox-serial',
    });
    assert.equal(
      script,
      [
        '#!/bin/sh',
        "# Host u1 of qemunet session /s as a VirtualBox VM on the session's switches.",
        '# Written by `qemunet export virtualbox`; UNTESTED: VirtualBox is not installable on the machine qemunet is tested on.',
        "# Needs VirtualBox's VDE driver (VirtualBox built from source with VDE) and libvdeplug.so (package libvdeplug-dev).",
        '# Stop u1 in qemunet first: the VM takes its switch ports (eth0 port 3, eth1 port 1).',
        '# DISK: a bootable disk image of your own (VirtualBox cannot boot a kernel file; convert with qemu-img convert -O vdi).',
        'set -e',
        'DISK=${DISK:?set DISK to a bootable .vdi}',
        'VBoxManage createvm --name qemunet-u1 --ostype Linux26_64 --register',
        "VBoxManage modifyvm qemunet-u1 --memory 128 --cpus 1 --audio none --boot1 disk --nic1 generic --nictype1 82540EM --nicgenericdrv1 VDE --nicproperty1 'network=/s/switch/s1[3]' --macaddress1 AAAAAAAA0200 --nic2 generic --nictype2 82540EM --nicgenericdrv2 VDE --nicproperty2 'network=/s/switch/s2[1]' --macaddress2 AAAAAAAA0201 --uart1 0x3F8 4 --uartmode1 server /s/u1.vbox-serial",
        'VBoxManage storagectl qemunet-u1 --name SATA --add sata --portcount 1',
        'VBoxManage storageattach qemunet-u1 --storagectl SATA --port 0 --device 0 --type hdd --medium "$DISK"',
        'VBoxManage startvm qemunet-u1 --type headless',
        '# Console: socat - UNIX-CONNECT:/s/u1.vbox-serial   Stop: VBoxManage controlvm qemunet-u1 acpipowerbutton',
        '',
      ].join('\n'),
    );
  });
});
