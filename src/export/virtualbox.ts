import { shellCommand } from '../process/shell-quote.js';

export interface VirtualBoxHost {
  /** The session's host the VM stands in for. */
  host: string;
  session: string;
  memoryMiB: number;
  /** In topology order: the switch's socket directory, the host's port on it, its MAC (AA:AA:...). */
  nics: ReadonlyArray<{ eth: string; switchSocket: string; port: number; mac: string }>;
  /** The unix socket VirtualBox makes for the VM's first serial port (its console). */
  serialSocket: string;
}

/**
 * The VBoxManage commands that make a VirtualBox VM on a session's switches, as a shell script: each NIC
 * on VirtualBox's generic VDE driver (`network=<switch socket>[port]`, vdeplug's port syntax, the
 * host's own port), the first serial port a unix socket VirtualBox listens on. Pure; VirtualBox is not
 * in Debian's main archive, so these commands are untested on qemunet's test machine (docs/guest.md).
 */
export function virtualBoxScript(h: VirtualBoxHost): string {
  const vm = `qemunet-${h.host}`;
  const modify = ['VBoxManage', 'modifyvm', vm, '--memory', String(h.memoryMiB), '--cpus', '1', '--audio', 'none', '--boot1', 'disk'];
  h.nics.forEach((n, i) => {
    const k = i + 1;
    modify.push(`--nic${k}`, 'generic', `--nictype${k}`, '82540EM', `--nicgenericdrv${k}`, 'VDE', `--nicproperty${k}`, `network=${n.switchSocket}[${n.port}]`, `--macaddress${k}`, n.mac.replace(/:/g, ''));
  });
  modify.push('--uart1', '0x3F8', '4', '--uartmode1', 'server', h.serialSocket);
  return [
    '#!/bin/sh',
    `# Host ${h.host} of qemunet session ${h.session} as a VirtualBox VM on the session's switches.`,
    '# Written by `qemunet export virtualbox`; UNTESTED: VirtualBox is not installable on the machine qemunet is tested on.',
    "# Needs VirtualBox's VDE driver (VirtualBox built from source with VDE) and libvdeplug.so (package libvdeplug-dev).",
    `# Stop ${h.host} in qemunet first: the VM takes its switch ports (${h.nics.map((n) => `${n.eth} port ${n.port}`).join(', ') || 'none'}).`,
    '# DISK: a bootable disk image of your own (VirtualBox cannot boot a kernel file; convert with qemu-img convert -O vdi).',
    'set -e',
    'DISK=${DISK:?set DISK to a bootable .vdi}',
    shellCommand(['VBoxManage', 'createvm', '--name', vm, '--ostype', 'Linux26_64', '--register']),
    shellCommand(modify),
    shellCommand(['VBoxManage', 'storagectl', vm, '--name', 'SATA', '--add', 'sata', '--portcount', '1']),
    `${shellCommand(['VBoxManage', 'storageattach', vm, '--storagectl', 'SATA', '--port', '0', '--device', '0', '--type', 'hdd', '--medium'])} "$DISK"`,
    shellCommand(['VBoxManage', 'startvm', vm, '--type', 'headless']),
    `# Console: socat - UNIX-CONNECT:${h.serialSocket}   Stop: VBoxManage controlvm ${vm} acpipowerbutton`,
    '',
  ].join('\n');
}
