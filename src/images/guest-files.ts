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
export function initrdInit(virtioModules: readonly string[], ataModules: readonly string[]): string {
  const insmod = (mods: readonly string[]) => mods.map((m) => `  $bb insmod /lib/modules/${m} 2>/dev/null`).join('\n');
  return `#!/bin/busybox sh
# qemunet tiny initrd: reach the root disk, mount it, hand over to its init.
bb=/bin/busybox
# The first words on the console: qemunet's boot watchdog tells a silent (hung) guest by their absence.
echo "qemunet: tiny is booting"
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

const SYSINIT = `#!/bin/sh
# qemunet guest boot (docs/guest.md). Runs once as busybox init's sysinit; the console shell
# starts when it is done. Ready = the guest agent answers, and it starts last.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mount -o remount,rw /
mkdir -p /run/qemunet /var/log /var/run
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
ip link set lo up

# Drivers for the devices present; virtio_pci then reveals the virtio devices.
load_drivers() { cat "$@" 2>/dev/null | sort -u | xargs -r modprobe -qab 2>/dev/null; }
trace drivers
load_drivers /sys/bus/pci/devices/*/modalias /sys/bus/acpi/devices/*/modalias
load_drivers /sys/bus/virtio/devices/*/modalias
modprobe -qa evdev button 2>/dev/null

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
mkdir -p /etc/dropbear
dropbear -R -B -E 2>>/var/log/dropbear.log

run_start() {
  [ -f "$1/start.sh" ] || return 0
  interp=$(head -n 1 "$1/start.sh" | sed -n 's/^#! *\\([^ ]*\\).*/\\1/p')
  [ -x "$interp" ] || interp=/bin/bash
  say "running $1/start.sh"
  (cd "$1" && "$interp" "$1/start.sh") 2>&1 | tee -a /var/log/qemunet-start.log
}

trace disks
# A second disk (QemuNet's <host>.disk, FAT or ext) is mounted on /mnt/disk; its start.sh runs.
modprobe -qa vfat nls_cp437 nls_utf8 nls_iso8859-1 2>/dev/null
rootdev=$(awk '$2 == "/" { print $1 }' /proc/mounts | tail -n 1)
for blk in /sys/block/vd* /sys/block/sd* /sys/block/hd*; do
  [ -e "$blk" ] || continue
  dev=/dev/\${blk##*/}
  case "$rootdev" in "$dev"*) continue ;; esac
  [ -e "\${dev}1" ] && dev="\${dev}1"
  mkdir -p /mnt/disk
  if mount "$dev" /mnt/disk 2>/dev/null; then run_start /mnt/disk; fi
  break
done

# The session's <host>/ directory, shared by 9p with tag "host", is mounted on /mnt/host.
for tag in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
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
say "$(hostname) is ready"
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

/** busybox udhcpc hands a lease to this script; without one it configures nothing. */
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    if [ -n "$router" ]; then
      ip route del default dev "$interface" 2>/dev/null
      for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    fi
    if [ -n "$dns" ]; then : > /etc/resolv.conf; for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done; fi ;;
esac
`;

export function guestFiles(): GuestFile[] {
  const text = (path: string, content: string, mode = 0o644): GuestFile => ({ path, content, mode });
  return [
    text('etc/inittab', INITTAB),
    text('etc/qemunet/sysinit', SYSINIT, 0o755),
    text('etc/qemunet/shutdown', SHUTDOWN, 0o755),
    text('etc/qemunet/console-shell', CONSOLE_SHELL, 0o755),
    // busybox acpid runs <confdir>/<event> on an ACPI event: the power button powers off. The clean-up
    // is done here and then the power is cut at once, skipping busybox init's two seconds of sleeps.
    text('etc/acpi/PWRF/00000080', '#!/bin/sh\n/etc/qemunet/shutdown\nexec /sbin/poweroff -f\n', 0o755),
    // Where Debian's busybox udhcpc looks for it; dhclient names it too, so no build default matters.
    text('etc/udhcpc/default.script', UDHCPC_SCRIPT, 0o755),
    // QemuNet's guides say "dhclient eth0" for the internet NIC (-i).
    text('usr/sbin/dhclient', '#!/bin/sh\nexec udhcpc -q -n -s /etc/udhcpc/default.script -i "${1:-eth0}"\n', 0o755),
    text('etc/hostname', 'tiny\n'),
    text('etc/hosts', '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n'),
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\ndnsmasq:x:100:65534:dnsmasq:/nonexistent:/usr/sbin/nologin\ntcpdump:x:101:101:tcpdump:/nonexistent:/usr/sbin/nologin\n'),
    text('etc/group', 'root:x:0:\ntty:x:5:\ntcpdump:x:101:\nnogroup:x:65534:\n'),
    // Root has no password: this is a throwaway lab guest reachable only from its lab network.
    text('etc/shadow', 'root::19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\ndnsmasq:*:19000:0:99999:7:::\ntcpdump:*:19000:0:99999:7:::\n', 0o640),
    text('etc/shells', '/bin/sh\n/bin/bash\n/usr/bin/bash\n'),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n'),
    text('etc/fstab', '# the root filesystem and the rest are mounted by /etc/qemunet/sysinit\n'),
    text('root/.bashrc', "PS1='\\u@\\h:\\w\\$ '\nalias ll='ls -l'\n"),
    text('root/.profile', '[ -f ~/.bashrc ] && . ~/.bashrc\n'),
  ];
}
