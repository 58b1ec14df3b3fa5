/**
 * Bumped whenever the guest changes (packages, users, init, and the boot files it shares with tiny:
 * guest-files.ts, so bump it with TINY_RECIPE_VERSION when those change): an image of an older recipe
 * is rebuilt. 4: the shared sysinit learnt UML hosts (hostfs, agent on a serial line) and free page
 * reporting. 5: the sysinit runs under busybox's shell and its applets (dash made every command an
 * exec of a dynamically linked program: slow under TCG; tiny's 12); the ssh host key is made on first use.
 * 6: 5 of two branches together (busybox sysinit and first-use ssh key; UML's ipv6, ubdb, legacy iptables).
 * 7: tiny's 14 (UML on a CPU with AMX: modprobe on demand keeps glibc off AVX).
 */
export const DEBIAN_RECIPE_VERSION = 7;

/**
 * What goes into the built-in `debian` guest: what QemuNet's course labs and a networking or
 * security course use (issue 11). Installed by mmdebstrap with Debian's maintainer scripts, so users,
 * alternatives, apache's default modules, inetd.conf and /etc/init.d/ are as on an installed Debian.
 * No init system package: tiny's busybox init boots it (no systemd, so it boots fast under TCG), and
 * `service NAME start` runs /etc/init.d/NAME (init-system-helpers' `service`).
 */
export const DEBIAN_PACKAGES: readonly string[] = [
  // base and the guest contract
  'init-system-helpers',
  'busybox-static',
  'kmod',
  'procps',
  'psmisc',
  'less',
  'sudo',
  'vim',
  'nano',
  'qemu-guest-agent',
  // network configuration, as QemuNet's start.sh files use it (ifconfig, route, vconfig, brctl)
  'iproute2',
  'iputils-ping',
  'iputils-tracepath',
  'traceroute',
  'net-tools',
  'vlan',
  'bridge-utils',
  'ethtool',
  'iptables',
  'nftables',
  'isc-dhcp-client',
  // services
  'openssh-server',
  'openssh-client',
  'apache2',
  'openbsd-inetd',
  'telnetd',
  'isc-dhcp-server',
  'dnsmasq',
  // tools
  'python3',
  'python3-scapy',
  'openssl',
  'nmap',
  'expect',
  'sshpass',
  'zip',
  'unzip',
  'dsniff',
  'tcpdump',
  'tshark',
  'bind9-dnsutils',
  'curl',
  'wget',
  'socat',
  'netcat-openbsd',
  'telnet',
  'ftp',
  'mtr-tiny',
  'iperf3',
];

/** Left out of the image to keep it small (dpkg's path-exclude): documentation, manuals, translations. */
export const DEBIAN_EXCLUDED_PATHS: readonly string[] = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*'];

/** Licences stay, as Debian's own minimal images keep them. */
export const DEBIAN_INCLUDED_PATHS: readonly string[] = ['/usr/share/doc/*/copyright'];

/** The non-root user of QemuNet's Debian image, in the sudo group. */
export const DEBIAN_USER = 'toto';

/**
 * `toto`, the password of root and of the user, as in QemuNet's image: labs log in with it over ssh.
 * The hash has a fixed salt (`openssl passwd -6 -salt qemunet.toto toto`) so the build is reproducible.
 */
export const DEBIAN_PASSWORD_HASH = '$6$qemunet.toto$1uuH.O7GFJywPD28gqoK9d0hEV2Oqx/sRMJalW3m2kDY2jGHYehmgGrnONxppT738hNSLzKFfyq/FTboJDaKa1';

/**
 * sshd: password logins for root too (labs log in as root with `toto`), and only the ed25519 host
 * key, which the guest makes at its first boot in a few milliseconds (RSA would take seconds under
 * TCG). Each guest thus has its own key, and the image has none.
 */
export const DEBIAN_SSHD_CONFIG = 'PermitRootLogin yes\nPasswordAuthentication yes\nHostKey /etc/ssh/ssh_host_ed25519_key\n';

/**
 * /etc/default/ssh, which Debian's /etc/init.d/ssh reads before any action: Debian's (no sshd
 * options), and the guest's host key made if it has none yet, so `service ssh start` finds one.
 */
export const DEBIAN_SSH_DEFAULTS = '# Read by /etc/init.d/ssh. Options to pass to sshd:\nSSHD_OPTS=\n# qemunet: this guest\'s own host key, made on first use.\n/etc/qemunet/ssh-hostkey\n';

/** inetd.conf's telnet line (printf format: tab-separated fields), with no tcpd (not installed; openbsd-inetd has libwrap built in). */
export const DEBIAN_INETD_TELNET = 'telnet\\tstream\\ttcp\\tnowait\\troot\\t/usr/sbin/telnetd\\ttelnetd';

/** Size of the raw root disk; sparse, so unused space costs nothing. */
export const DEBIAN_DISK_BYTES = 2 * 1024 * 1024 * 1024;

