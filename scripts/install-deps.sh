#!/usr/bin/env bash
# Installs the Debian packages qemunet runs and builds its guest image with. Run as root (or with sudo).
set -euo pipefail
PACKAGES=(
  qemu-system-x86 qemu-utils          # the VMs, overlays
  vde-switch vdeplug vde-wirefilter   # virtual switches, plugs, link faults
  e2fsprogs kmod xz-utils fakeroot binutils  # building the tiny image: mkfs.ext4 -d, depmod, kernel unpacking, strip (UML modules)
  mmdebstrap                          # building the debian image: its packages with their maintainer scripts, in a chroot
  dosfstools mtools                   # FAT start disks (QemuNet's <host>.disk)
  util-linux tmux                     # setpriv (VMs die with qemunet), tmux consoles
  tcpdump iputils-ping                # tests: reading `qemunet capture` files, the host pinging through a tap
  qemu-system-gui                     # display graphic/gtk/sdl: QEMU's GTK and SDL windows (only a Recommends of qemu-system-x86)
  xterm rxvt-unicode xfce4-terminal screen  # display modes xterm, rxvt, xfce4, screen
  tigervnc-viewer virt-viewer         # -V: xtigervncviewer (VNC unix sockets), remote-viewer (SPICE, TCP)
  xvfb xdotool imagemagick x11-utils  # tests: a private X server, typing into windows, screenshots (import)
  chromium fonts-dejavu-core          # tests: qemunet web end to end (driven by playwright-core)
  xdg-utils curl                      # qemunet web --open (xdg-open); the page's Wireshark command (curl)
  gcc libc6-dev                       # tests: a shared object that vde_switch's plugin/add would load (the switch-console test)
  user-mode-linux uml-utilities bubblewrap  # UML hosts: the UML kernel, uml_mconsole (freeze for save), the jail around it
)
# Optional, not installed (heavy: GNOME's D-Bus services): gnome-terminal and dbus-x11 for display mode gnome.
# vnc and spice need no package beyond qemu-system-x86 (VNC is built in, SPICE is in qemu-system-common).
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
for p in "${PACKAGES[@]}"; do
  [ "${p#\#}" = "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# apt lists are needed both to install and to build the tiny image from Debian packages.
if [ ${#missing[@]} -gt 0 ] || [ -z "$(ls -A /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ]; then
  $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "system packages ready"
