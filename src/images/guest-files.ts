/**
 * The files qemunet writes into the `tiny` guest besides its packages: a small busybox-init boot
 * that fulfils the guest contract of docs/guest.md. They are plain data, kept here so that the
 * contract and its implementation read side by side.
 */
export interface GuestFile {
  path: string;
  content: string;
  mode: number;
}

/** The initrd's /init: load the root disk drivers, mount the root filesystem read-write, switch to it. */
export function initrdInit(virtioModules: readonly string[], ataModules: readonly string[], system = 'tiny'): string {
  const insmod = (mods: readonly string[]) => mods.map((m) => `  $bb insmod /lib/modules/${m} 2>/dev/null`).join('\n');
  return `#!/bin/busybox sh
# qemunet ${system} initrd: reach the root disk, mount it, hand over to its init.
bb=/bin/busybox
# The first words on the console: qemunet's boot watchdog tells a silent (hung) guest by their absence.
echo "qemunet: ${system} is booting"
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev
root=/dev/vda rootfstype=ext4 flags=rw init=/sbin/init
for arg in $($bb cat /proc/cmdline); do
  case "$arg" in
    root=*) root="\${arg#root=}" ;;
    rootfstype=*) rootfstype="\${arg#rootfstype=}" ;;
    init=*) init="\${arg#init=}" ;;
    ro) flags=ro ;;
    rw) flags=rw ;;
  esac
done
${insmod(virtioModules)}
case "$root" in
  /dev/vd*) ;;
  *) # IDE or SATA root disk: probing those controllers costs time, so only when asked
${insmod(ataModules).replace(/^ {2}/gm, '    ')}
  ;;
esac
case "$root" in
  LABEL=*|UUID=*) i=0; while ! dev=$($bb findfs "$root" 2>/dev/null) && [ $i -lt 200 ]; do $bb usleep 50000; i=$((i+1)); done; root=$dev ;;
esac
i=0
while [ ! -b "$root" ] && [ $i -lt 200 ]; do $bb usleep 50000; i=$((i+1)); done
rescue() { echo "qemunet initrd: $1; here is a rescue shell"; exec $bb sh; }
[ -b "$root" ] || rescue "root device $root did not appear"
$bb mkdir -p /newroot
$bb mount -t "$rootfstype" -o "$flags" "$root" /newroot || rescue "cannot mount $root ($rootfstype)"
$bb mount --move /dev /newroot/dev
$bb umount /proc /sys
exec $bb switch_root /newroot "$init"
`;
}

/** What each image starts at boot besides acpid: tiny's ssh server; debian starts its daemons with `service`. */
const BOOT_DAEMONS: Record<BuiltinSystem, string> = {
  tiny: `mkdir -p /etc/dropbear
dropbear -R -B -E 2>>/var/log/dropbear.log`,
  // Debian's init scripts want /run/lock, sshd its privilege separation directory. Its host key is
  // made when ssh is first started (etc/qemunet/ssh-hostkey), not here: ssh-keygen took 0.4 s of a
  // TCG boot, for a server most labs never start.
  debian: `mkdir -p /run/lock /run/sshd`,
};

/**
 * What runs once the guest is ready, in the background at the lowest priority: debian makes its ssh
 * host key (unless "service ssh start" has made it already), so an sshd a lab starts by hand finds one.
 */
const AFTER_READY: Record<BuiltinSystem, string> = {
  tiny: '',
  debian: 'nice -n 19 /etc/qemunet/ssh-hostkey </dev/null >/dev/null 2>&1 &\n',
};

/**
 * The sysinit runs under busybox's shell, not /bin/sh (dash in both images): under dash every
 * command was one of Debian's dynamically linked programs, and under TCG an exec of one cost ~180 ms
 * against ~25 ms for a busybox applet (measured in a debian guest); busybox's shell runs its own
 * applets (mount, ip, modprobe, sed...). Start scripts still run under their own interpreter (dash or
 * bash) with the real programs, which QemuNet's start.sh files expect.
 */
const SYSINIT_SHELL = '/bin/busybox sh';

export type BuiltinSystem = 'tiny' | 'debian';

const sysinit = (system: BuiltinSystem) => `#!${SYSINIT_SHELL}
# qemunet guest boot (docs/guest.md). Runs once as busybox init's sysinit; the console shell
# starts when it is done. Ready = the guest agent answers; it starts once the start scripts have
# ended or have run for their grace time (qemunet.start_grace=S, default 2 s).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mount -o remount,rw /
mkdir -p /run/qemunet /var/log /var/run /var/lib/misc
say() { echo "qemunet: $*"; }
case " $(cat /proc/cmdline) " in *" qemunet.trace "*) trace() { echo "qemunet-trace $(cut -d" " -f1 /proc/uptime) $*"; } ;; *) trace() { :; } ;; esac
trace sysinit

name=
for arg in $(cat /proc/cmdline); do
  case "$arg" in qemunet.hostname=*|hostname=*) name="\${arg#*=}" ;; esac
done
[ -n "$name" ] || name=$(cat /etc/hostname 2>/dev/null)
hostname "\${name:-tiny}"
grep -q " $(hostname)\\$" /etc/hosts 2>/dev/null || echo "127.0.1.1 $(hostname)" >> /etc/hosts
# IPv6 is built into tiny's QEMU kernel but a module of the UML one: loaded before any interface
# comes up, so each gets its link-local address (and lo its ::1) as under QEMU. Other modules
# (8021q, bridge, nf_tables, vfat, ...) load on demand under both kernels.
modprobe -q ipv6 2>/dev/null
ip link set lo up
# Debian's UML kernel has nf_tables for bridges only (no ip, ip6 or inet family), and the ip_tables
# modules: there iptables is the legacy one (this host's own root, its COW file, keeps the links).
if grep -q "^vendor_id.*User Mode Linux" /proc/cpuinfo; then
  for t in iptables ip6tables; do for s in '' -save -restore; do ln -sf xtables-legacy-multi "/usr/sbin/$t$s"; done; done
  # On a CPU whose FPU state this UML kernel cannot save (AMX), qemunet passes GLIBC_TUNABLES (AVX
  # off) in init's environment; the kernel's own helpers (modprobe on demand) do not inherit it.
  if [ -n "$GLIBC_TUNABLES" ]; then
    printf '#!/bin/sh\nexport GLIBC_TUNABLES=%s\nexec /sbin/modprobe "$@"\n' "$GLIBC_TUNABLES" > /run/qemunet/modprobe
    chmod 755 /run/qemunet/modprobe
    echo /run/qemunet/modprobe > /proc/sys/kernel/modprobe
  fi
fi

# Drivers for the devices present; virtio_pci then reveals the virtio devices.
load_drivers() { cat "$@" 2>/dev/null | sort -u | xargs -r modprobe -qab 2>/dev/null; }
trace drivers
load_drivers /sys/bus/pci/devices/*/modalias /sys/bus/acpi/devices/*/modalias
load_drivers /sys/bus/virtio/devices/*/modalias
modprobe -qa evdev button 2>/dev/null
# qemunet's balloon only reports free pages, which QEMU hands back to the host. The driver asks for
# 2 MiB blocks, which a small idle guest seldom has: every free page is reported instead.
[ -w /sys/module/page_reporting/parameters/page_reporting_order ] && echo 0 > /sys/module/page_reporting/parameters/page_reporting_order

trace naming
# eth0, eth1, ... in PCI slot order, which qemunet makes the order of the topology's switches.
i=0
for dev in $(for n in /sys/class/net/*; do [ -e "$n/device" ] && echo "$(readlink -f "$n/device") \${n##*/}"; done | sort | cut -d' ' -f2); do
  ip link set "$dev" name "qn$i" && i=$((i+1))
done
j=0
while [ $j -lt $i ]; do ip link set "qn$j" name "eth$j"; ip link set "eth$j" up; j=$((j+1)); done

trace daemons
acpid -c /etc/acpi 2>/dev/null
${BOOT_DAEMONS[system]}

# Each start script runs in the background, in its own session (no terminal that could hang it up
# when this script ends) with stdin from /dev/null; its output goes to the console and to the log.
# It gets $grace seconds: one that ends sooner has ended before the next one starts and before the
# guest is ready; one that goes on (a server in the foreground) keeps running, and the boot goes on.
grace=2
for arg in $(cat /proc/cmdline); do
  case "$arg" in qemunet.start_grace=*) grace="\${arg#*=}" ;; esac
done
case "$grace" in ''|*[!0-9]*) grace=2 ;; esac
starts=0
run_start() {
  [ -f "$1/start.sh" ] || return 0
  interp=$(head -n 1 "$1/start.sh" | sed -n 's/^#! *\\([^ ]*\\).*/\\1/p')
  [ -x "$interp" ] || interp=/bin/bash
  starts=$((starts+1))
  ended=/run/qemunet/start.$starts.status
  say "running $1/start.sh"
  (cd "$1" && setsid "$interp" "$1/start.sh" </dev/null 2>&1; echo $? > "$ended") | tee -a /var/log/qemunet-start.log &
  i=0
  while [ ! -e "$ended" ] && [ $i -lt $((grace * 20)) ]; do usleep 50000; i=$((i+1)); done
  [ -e "$ended" ] || say "$1/start.sh still runs after $grace s; the boot goes on"
}

trace disks
# A second disk (QemuNet's <host>.disk, FAT or ext) is mounted on /mnt/disk; its start.sh runs.
# Under UML both disks are ubd devices (ubdb the second), and / shows as /dev/root: the root disk
# is also told by its device number.
modprobe -qa vfat nls_cp437 nls_utf8 nls_iso8859-1 2>/dev/null
rootdev=$(awk '$2 == "/" { print $1 }' /proc/mounts | tail -n 1)
# (busybox's stat, which this shell runs, has no %Hd/%Ld: the major:minor of st_dev as the kernel packs it.)
rootdevnum=$(stat -c %d / 2>/dev/null)
rootnum="$(( (rootdevnum >> 8) & 0xfff )):$(( (rootdevnum & 0xff) | ((rootdevnum >> 12) & 0xfff00) ))"
for blk in /sys/block/vd* /sys/block/sd* /sys/block/hd* /sys/block/ubd*; do
  [ -e "$blk" ] || continue
  dev=/dev/\${blk##*/}
  case "$rootdev" in "$dev"*) continue ;; esac
  [ "$(cat "$blk/dev" 2>/dev/null)" = "$rootnum" ] && continue
  [ -e "\${dev}1" ] && dev="\${dev}1"
  mkdir -p /mnt/disk
  if mount "$dev" /mnt/disk 2>/dev/null; then run_start /mnt/disk; fi
  break
done

# The session's <host>/ directory, shared by 9p with tag "host", is mounted on /mnt/host. A UML
# host (qemunet.hostfs) gets it through hostfs instead: its hostfs= root is that folder.
case " $(cat /proc/cmdline) " in
  *" qemunet.hostfs "*) mkdir -p /mnt/host && mount -t hostfs host /mnt/host && run_start /mnt/host ;;
esac
for tag in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
  [ -e "$tag" ] || continue
  [ "$(tr -d '\\000' < "$tag" 2>/dev/null)" = host ] || continue
  mkdir -p /mnt/host
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /mnt/host && run_start /mnt/host
done

trace agent
touch /run/qemunet/ready
for port in /sys/class/virtio-ports/*; do
  [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
  qemu-ga --daemonize --method=virtio-serial --path="/dev/\${port##*/}" --pidfile=/run/qemu-ga.pid --statedir=/run
done
# A UML host has no virtio: its agent is on a serial line (qemunet.agent=ttyS1).
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    qemunet.agent=tty*) qemu-ga --daemonize --method=isa-serial --path="/dev/\${arg#*=}" --pidfile=/run/qemu-ga.pid --statedir=/run ;;
  esac
done
say "$(hostname) is ready"
${AFTER_READY[system]}`;

/**
 * debian's ssh host key, made once per guest (so no two guests share one and the image holds none):
 * by /etc/default/ssh, which the init script reads before it starts sshd, and after the boot. flock:
 * both may run at once; ed25519 takes milliseconds, RSA would take seconds under TCG.
 */
const SSH_HOSTKEY = `#!/bin/sh
key=/etc/ssh/ssh_host_ed25519_key
[ -e "$key" ] && exit 0
mkdir -p /run/lock
exec flock /run/lock/qemunet-ssh-hostkey sh -c '[ -e "$1" ] || ssh-keygen -q -t ed25519 -N "" -f "$1"' sh "$key"
`;

const SHUTDOWN = `#!/bin/sh
# Runs when init is asked to power off or reboot: stop the agent, flush and unmount cleanly.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
[ -f /run/qemu-ga.pid ] && kill "$(cat /run/qemu-ga.pid)" 2>/dev/null
killall dropbear acpid 2>/dev/null
sync
umount -a -r 2>/dev/null
mount -o remount,ro / 2>/dev/null
sync
`;

const CONSOLE_SHELL = `#!/bin/sh
# A root shell on each console (serial ttyS0, and tty1 for a graphic display).
export HOME=/root TERM=\${TERM:-vt100}
cd /root
exec /bin/bash -l
`;

const INITTAB = `# busybox init (qemunet tiny)
::sysinit:/etc/qemunet/sysinit
ttyS0::respawn:/etc/qemunet/console-shell
tty1::respawn:/etc/qemunet/console-shell
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/qemunet/shutdown
`;

/**
 * busybox udhcpc hands each DHCP event to this script, as ISC dhclient does to dhclient-script: the
 * lease's address, default route, MTU and DNS are applied; without a lease nothing is configured.
 */
const UDHCPC_SCRIPT = `#!/bin/sh
[ -n "$interface" ] || exit 1
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up ;;
  bound|renew)
    # A renewal of the same address keeps it (and the connections that use it).
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/\${mask:-24} "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/\${mask:-24}" \${broadcast:+broadcast "$broadcast"} dev "$interface"
    fi
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    if [ -n "$router" ]; then
      while ip route del default dev "$interface" 2>/dev/null; do :; done
      for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    fi
    if [ -n "$dns" ] || [ -n "$domain" ]; then
      {
        [ -n "$domain" ] && echo "domain $domain"
        [ -n "$search$domain" ] && echo "search \${search:-$domain}"
        for d in $dns; do echo "nameserver $d"; done
      } > /etc/resolv.conf.dhcp && mv /etc/resolv.conf.dhcp /etc/resolv.conf
    fi ;;
esac
exit 0
`;

/**
 * ISC dhclient's command line, as labs and QemuNet's guides use it, on busybox udhcpc: -4, -1, -v,
 * -r (release), -x (stop), -nw, -d, an interface list (default: every ethN). The hostname is sent (as
 * Debian's dhclient.conf does), so dnsmasq's dhcp-host=NAME,... matches. Once bound, a client stays
 * in the background and renews the lease, as ISC's does.
 */
const DHCLIENT = `#!/bin/sh
usage() { echo "usage: dhclient [-4] [-1] [-v] [-q] [-d] [-nw] [-r|-x] [-cf FILE] [-lf FILE] [-pf FILE] [interface ...]" >&2; exit 1; }
mode=bind once= verbose= nowait= foreground=
while [ $# -gt 0 ]; do
  case "$1" in
    -4) ;;
    -6) echo "dhclient: DHCPv6 (-6) is not available in this guest" >&2; exit 1 ;;
    -r) mode=release ;;
    -x) mode=stop ;;
    -1) once=1 ;;
    -v) verbose=1 ;;
    -q) verbose= ;;
    -d) foreground=1 ;;
    -nw) nowait=1 ;;
    -cf|-lf|-pf|-sf|-e|-p|-s) [ $# -ge 2 ] || usage; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
  shift
done
ifaces="$*"
if [ -z "$ifaces" ]; then
  for n in /sys/class/net/eth*; do case "\${n##*/}" in eth*.*|'eth*') ;; *) ifaces="$ifaces \${n##*/}" ;; esac; done
fi
[ -n "$ifaces" ] || { echo "dhclient: no interface" >&2; exit 1; }
name=$(hostname)
case "$name" in ''|'(none)'|localhost) name= ;; esac
stop() { # interface, signal before the end (USR2: release the lease)
  pidf=/run/dhclient.$1.pid
  [ -f "$pidf" ] || return 1
  pid=$(cat "$pidf"); rm -f "$pidf"
  kill -0 "$pid" 2>/dev/null || return 1
  [ -n "$2" ] && kill -"$2" "$pid" && usleep 200000
  kill "$pid" 2>/dev/null
  return 0
}
status=0
pids=
for i in $ifaces; do
  [ -e "/sys/class/net/$i" ] || { echo "dhclient: no interface $i" >&2; status=1; continue; }
  case "$mode" in
    release) stop "$i" USR2 || interface=$i /etc/udhcpc/default.script deconfig; continue ;;
    stop) stop "$i"; continue ;;
  esac
  stop "$i"
  ip link set "$i" up
  log=/run/dhclient.$i.log
  set -- -i "$i" -s /etc/udhcpc/default.script -p "/run/dhclient.$i.pid" -C -t 20 -T 3
  [ -n "$name" ] && set -- "$@" -x "hostname:$name"
  if [ -n "$once" ]; then set -- "$@" -n; else set -- "$@" -b; fi
  [ -n "$foreground" ] && set -- "$@" -f
  if [ -n "$nowait" ]; then udhcpc "$@" </dev/null >"$log" 2>&1 & continue; fi
  udhcpc "$@" </dev/null >"$log" 2>&1 &
  pids="$pids $!:$i"
done
for p in $pids; do
  i=\${p#*:}
  if wait "\${p%%:*}" && ip -4 addr show dev "$i" | grep -q "inet "; then
    [ -n "$verbose" ] && cat "/run/dhclient.$i.log" >&2
    [ -n "$verbose" ] && echo "bound to $(ip -4 -o addr show dev "$i" | awk '{ print $4; exit }') on $i" >&2
  else
    cat "/run/dhclient.$i.log" >&2
    echo "dhclient: no lease on $i" >&2
    [ -n "$once" ] && status=2
  fi
done
exit $status
`;

/** qemunet's files in a built-in guest: the boot of docs/guest.md, shared; tiny's own accounts and dhclient. */
export function guestFiles(system: BuiltinSystem, extra: readonly GuestFile[] = []): GuestFile[] {
  const text = (path: string, content: string, mode = 0o644): GuestFile => ({ path, content, mode });
  const boot = [
    text('etc/inittab', INITTAB),
    text('etc/qemunet/sysinit', sysinit(system), 0o755),
    text('etc/qemunet/shutdown', SHUTDOWN, 0o755),
    text('etc/qemunet/console-shell', CONSOLE_SHELL, 0o755),
    // busybox acpid runs <confdir>/<event> on an ACPI event: the power button powers off. The clean-up
    // is done here and then the power is cut at once, skipping busybox init's two seconds of sleeps.
    text('etc/acpi/PWRF/00000080', '#!/bin/sh\n/etc/qemunet/shutdown\nexec /sbin/poweroff -f\n', 0o755),
  ];
  if (system === 'debian') {
    // Debian's own accounts (base-passwd, the packages' maintainer scripts), dhclient (ISC's) and
    // shell files stay; the recipe adds its user and passwords.
    return [...boot, text('etc/qemunet/ssh-hostkey', SSH_HOSTKEY, 0o755), text('etc/hostname', 'debian\n'), text('etc/hosts', HOSTS), text('etc/fstab', FSTAB), ...extra];
  }
  return [
    ...boot,
    // Where Debian's busybox udhcpc looks for it; dhclient names it too, so no build default matters.
    text('etc/udhcpc/default.script', UDHCPC_SCRIPT, 0o755),
    // Labs run "dhclient -4 eth0"; QemuNet's guides say "dhclient eth0" for the internet NIC (-i).
    text('usr/sbin/dhclient', DHCLIENT, 0o755),
    text('etc/hostname', 'tiny\n'),
    text('etc/hosts', HOSTS),
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\ndnsmasq:x:100:65534:dnsmasq:/nonexistent:/usr/sbin/nologin\ntcpdump:x:101:101:tcpdump:/nonexistent:/usr/sbin/nologin\n'),
    text('etc/group', 'root:x:0:\ntty:x:5:\ntcpdump:x:101:\nnogroup:x:65534:\n'),
    // Root has no password: this is a throwaway lab guest reachable only from its lab network.
    text('etc/shadow', 'root::19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\ndnsmasq:*:19000:0:99999:7:::\ntcpdump:*:19000:0:99999:7:::\n', 0o640),
    text('etc/shells', '/bin/sh\n/bin/bash\n/usr/bin/bash\n'),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n'),
    text('etc/fstab', FSTAB),
    text('root/.bashrc', "PS1='\\u@\\h:\\w\\$ '\nalias ll='ls -l'\n"),
    text('root/.profile', '[ -f ~/.bashrc ] && . ~/.bashrc\n'),
  ];
}

const HOSTS = '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n';
const FSTAB = '# the root filesystem and the rest are mounted by /etc/qemunet/sysinit\n';
