/** Which Debian package provides each external program qemunet runs, for "not found" messages. */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  vde_switch: 'vde-switch',
  vde_plug: 'vdeplug',
  dpipe: 'vdeplug',
  wirefilter: 'vde-wirefilter',
  'vde_plug2tap': 'vde-switch',
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  'mkfs.ext4': 'e2fsprogs',
  depmod: 'kmod',
  xz: 'xz-utils',
  tar: 'tar',
  tmux: 'tmux',
  xterm: 'xterm',
  urxvt: 'rxvt-unicode',
  'xfce4-terminal': 'xfce4-terminal',
  'gnome-terminal': 'gnome-terminal',
  screen: 'screen',
  xtigervncviewer: 'tigervnc-viewer',
  'remote-viewer': 'virt-viewer',
  setpriv: 'util-linux',
  'mkfs.fat': 'dosfstools',
  mcopy: 'mtools',
  fakeroot: 'fakeroot',
  'linux.uml': 'user-mode-linux',
  strip: 'binutils',
  uml_mconsole: 'uml-utilities',
  bwrap: 'bubblewrap',
  mmdebstrap: 'mmdebstrap',
  chromium: 'chromium',
  sshd: 'openssh-server',
  unshare: 'util-linux',
};

export function missingProgramMessage(program: string): string {
  const pkg = DEBIAN_PACKAGE_OF[program];
  const hint = pkg ? ` Install it with: apt-get install ${pkg}` : '';
  return `${program} was not found on PATH.${hint}`;
}
