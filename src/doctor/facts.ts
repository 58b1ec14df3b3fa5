/**
 * What `qemunet doctor` finds out about this machine: plain data, gathered by probe.ts and judged by
 * assess.ts (pure), so the judgement is tested with exact machines that need not exist.
 */

export interface KvmFacts {
  accel: 'kvm' | 'tcg';
  /** Why KVM is not used (the labs' own probe's words). */
  reason?: string;
  /** A fresh probe, the labs' cached verdict, or a setting (QEMUNET_ACCEL). */
  source: 'probe' | 'cache' | 'setting';
}

export interface ImageFacts {
  name: string;
  /** Every file of the image is in the store. */
  built: boolean;
  /** The size of its files on disk. */
  bytes: number;
}

export interface MachineFacts {
  qemunetVersion: string;
  nodeVersion: string;
  root: boolean;
  /** The login the fix commands are for (usermod -aG kvm). */
  user: string;
  /** Every program doctor asks about, with its path, or undefined when it is not on PATH. */
  programs: Readonly<Record<string, string | undefined>>;
  /** `qemu-system-x86_64 --version`'s version, `vde_switch -v`'s. */
  qemuVersion?: string;
  vdeVersion?: string;
  /** QEMU's display backends (`-display help`): gtk and sdl come with qemu-system-gui. */
  qemuDisplays?: readonly string[];
  /** The labs' KVM verdict, or why it could not be reached. */
  kvm: KvmFacts | { error: string };
  /** 'intel' or 'amd' (which kvm module), from /proc/cpuinfo. */
  cpuVendor?: 'intel' | 'amd';
  images: readonly ImageFacts[];
  /** bwrap made the PID namespace UML hosts run in: true, or what it said. */
  bwrap?: true | string;
  /** An unprivileged user namespace could be made (mmdebstrap's unshare mode): true, or what failed. */
  userNamespaces?: true | string;
  /** /sys/kernel/mm/ksm/run: '0' off, '1' on; undefined without KSM in the kernel. */
  ksmRun?: string;
  /** MemAvailable of /proc/meminfo. */
  memAvailableMiB?: number;
  cgroup?: 'v2' | 'v1' | 'hybrid';
  /** $DISPLAY. */
  display?: string;
  /** The script of the package that installs every Debian package qemunet uses. */
  installScript: string;
}
