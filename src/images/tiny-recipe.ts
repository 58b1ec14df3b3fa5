/** Bumped whenever the guest changes (files, packages, init): an image of an older recipe is rebuilt. */
// 11: UML hosts (hostfs, agent on a serial line; 9) and free page reporting (10), together.
// 12: the sysinit runs under busybox's shell (its commands were dynamically linked programs under dash).
// 12 (other branch): the UML kernel and its modules (IPv6, 802.1Q, bridge, legacy iptables, vfat under UML); ubdb as second disk.
// 13: both 12s together.
// 14: UML on a CPU with AMX: modprobe on demand gets init's GLIBC_TUNABLES (uml/legacy-fpu.ts).
export const TINY_RECIPE_VERSION = 14;

/**
 * What goes into the built-in `tiny` guest. Changing a list here changes the image; the build
 * records the exact package versions it used in the manifest.
 */
export const TINY_KERNEL_PACKAGE = 'linux-image-amd64';

/** Userland: the real tools of networking exercises, each with its shared libraries. */
export const TINY_PACKAGES: readonly string[] = [
  'bash',
  // /bin/sh is dash, as on Debian: busybox's sh would run its own small applets (ifconfig, ip) for
  // commands that the real packages provide, and QemuNet's start.sh files expect the real ones.
  'dash',
  'busybox-static',
  'coreutils',
  'kmod',
  'procps',
  'iproute2',
  'iputils-ping',
  'iputils-tracepath',
  'traceroute',
  'net-tools',
  'ethtool',
  'tcpdump',
  'iptables',
  'nftables',
  'dnsmasq-base',
  'iperf3',
  'netcat-openbsd',
  'dropbear-bin',
  'qemu-guest-agent',
  'bridge-utils',
  'less',
];

/** Only maintainer scripts need these; the image runs no maintainer script. */
export const TINY_EXCLUDED_PACKAGES: readonly RegExp[] = [
  /^perl$/,
  /^perl-modules-/,
  /^libperl/,
  /-perl$/,
  /^usrmerge$/,
  /^debconf$/,
  /^adduser$/,
  /^init-system-helpers$/,
];

/** Paths left out of the image to keep it small: documentation, manuals, translations. */
export const TINY_PRUNED_PATHS: readonly string[] = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian'];

/** Drivers the initrd loads to reach the root disk (virtio-blk or IDE/SATA) and mount ext4. */
export const INITRD_MODULES: readonly string[] = [
  'virtio_pci',
  'virtio_blk',
  'ata_piix',
  'ahci',
  'sd_mod',
  'crc32c_generic',
  'ext4',
];

/** Kernel module subtrees copied into the root filesystem: what a lab can need, not GPUs or WiFi. */
export const TINY_MODULE_TREES: readonly string[] = [
  'kernel/arch',
  'kernel/crypto',
  'kernel/lib',
  'kernel/fs',
  'kernel/net',
  'kernel/drivers/block/virtio_blk.ko',
  'kernel/drivers/block/loop.ko',
  'kernel/drivers/block/nbd.ko',
  'kernel/drivers/char/virtio_console.ko',
  'kernel/drivers/char/hw_random',
  'kernel/drivers/input/evdev.ko',
  'kernel/drivers/acpi/button.ko',
  // The screen of hosts with a graphic display (-vga std): the PVH entry leaves no VGA text console,
  // so a DRM driver with fbdev emulation gives fbcon, tty1 and the kernel log. Loaded by modalias,
  // so a host without a display (-vga none) never loads it. About 2 MB with drm and ttm.
  'kernel/drivers/gpu/drm/tiny/bochs.ko',
  'kernel/drivers/virtio',
  'kernel/drivers/net/ethernet/intel',
  'kernel/drivers/net/ethernet/realtek',
  'kernel/drivers/net/ethernet/amd',
  'kernel/drivers/net/virtio_net.ko',
  'kernel/drivers/net/net_failover.ko',
  'kernel/drivers/net/tun.ko',
  'kernel/drivers/net/veth.ko',
  'kernel/drivers/net/dummy.ko',
  'kernel/drivers/net/macvlan.ko',
  'kernel/drivers/net/vxlan',
  'kernel/drivers/net/geneve.ko',
  'kernel/drivers/net/bonding',
  'kernel/drivers/net/team',
  'kernel/drivers/net/wireguard',
  'kernel/drivers/net/mii.ko',
  'kernel/drivers/net/mdio.ko',
  'kernel/drivers/net/phy',
  'kernel/drivers/net/ipvlan',
  'kernel/drivers/net/ifb.ko',
  'kernel/drivers/net/nlmon.ko',
];

/**
 * Debian's User-Mode Linux kernel, for `tiny-uml`: its `linux` binary goes into the store beside
 * tiny's QEMU kernel and its modules into tiny's root, so a UML guest's modprobe finds modules of the
 * very kernel it runs (pinned in the manifest; the installed user-mode-linux may be another version).
 */
export const TINY_UML_KERNEL_PACKAGE = 'user-mode-linux';

/** What a lab needs under UML (IPv6 and most of netfilter are modules there); about 27 MB stripped. */
export const TINY_UML_MODULE_TREES: readonly string[] = [
  'kernel/crypto',
  'kernel/lib',
  'kernel/fs',
  'kernel/net',
  'kernel/drivers/net',
  'kernel/drivers/block/loop.ko',
  'kernel/drivers/block/nbd.ko',
];

/** Size of the raw root disk; sparse, so unused space costs nothing. */
export const TINY_DISK_BYTES = 1024 * 1024 * 1024;

/**
 * Links that Debian's maintainer scripts would make with update-alternatives. Made before the
 * busybox applets, so the real tools win over busybox's smaller ones.
 */
export const TINY_ALTERNATIVES: Readonly<Record<string, string>> = {
  'usr/sbin/iptables': 'xtables-nft-multi',
  'usr/sbin/iptables-save': 'xtables-nft-multi',
  'usr/sbin/iptables-restore': 'xtables-nft-multi',
  'usr/sbin/ip6tables': 'xtables-nft-multi',
  'usr/sbin/ip6tables-save': 'xtables-nft-multi',
  'usr/sbin/ip6tables-restore': 'xtables-nft-multi',
  'usr/bin/nc': 'nc.openbsd',
  'usr/bin/netcat': 'nc.openbsd',
  'usr/bin/traceroute': 'traceroute.db',
  'usr/bin/traceroute6': 'traceroute6.db',
  'usr/bin/pager': 'less',
  'usr/bin/sh': 'dash',
};
