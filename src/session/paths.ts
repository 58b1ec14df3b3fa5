import { join } from 'node:path';

/**
 * Every file of a session, in one place. Names follow QemuNet's session layout (`topology`,
 * `<host>.qcow2`, `<host>/`, `<host>.disk`, `switch/<sw>`, `<sw>.mgmt`, `<sw>.cmd`, `*.pid`, `<host>.sh`)
 * so QemuNet's session directories and archives work as they are.
 */
export interface SessionPaths {
  dir: string;
  topology: string;
  /** Held by the qemunet process that drives the session. */
  lock: string;
  /** Written by that process on every change, read by `status`, `ls` and `--detach`. */
  state: string;
  /** Output of a detached supervisor. */
  log: string;
  /** Where the driving qemunet takes requests (freeze/thaw for a save, restart of a host). */
  control: string;
  /** What `save` writes into an archive: qemunet version, hosts, their systems and base images. */
  manifest: string;
  /** Where the web page's nodes were dragged to (see session/layout.ts). */
  layout: string;
  /** The lab checks (src/checks/): from the lab archive, or `up --checks FILE`. */
  checks: string;
  host(name: string): HostPaths;
  switch(name: string): SwitchPaths;
}

export interface HostPaths {
  overlay: string;
  /** Shared into the guest by 9p with tag `host` (its start.sh runs at boot). */
  share: string;
  /** QemuNet's optional second disk. */
  disk: string;
  serial: string;
  /** qemunet's fan-out of the serial console: `qemunet console` attaches here. */
  console: string;
  /** The same console for clients that resume by byte offset (the web front end); see console/cursor.ts. */
  consoleResume: string;
  qmp: string;
  agent: string;
  pid: string;
  /** Console log. */
  log: string;
  /** The VNC server of a `vnc` host (QEMU's; a viewer or a bridge connects here). */
  vnc: string;
  /** The SPICE server of a `spice` host. */
  spice: string;
  /** remote-viewer's connection file of a vnc/spice host on TCP (holds its password; owner-only). */
  viewerFile: string;
  /** Restarts this one VM into the running session. */
  script: string;
  /** A UML host's own directory: its copy-on-write file (`disk.cow`) and UML's run directory (`run/`). */
  uml: string;
  /** The point-to-point socket between NIC ethN and its wirefilter (LINK lines). */
  wire(nic: number): string;
  /** That wirefilter's management socket. */
  wireMgmt(nic: number): string;
}

export interface SwitchPaths {
  /** The socket directory QEMU's `-netdev vde,sock=` names. */
  socket: string;
  mgmt: string;
  pid: string;
  log: string;
  /** vde_switch management commands loaded at start with VLAN support (QemuNet's `.cmd`). */
  commands: string;
}

/** The graph layout's file name in a session directory; save archives carry it (archive-manifest.ts). */
export const LAYOUT_FILE = 'qemunet-layout.json';
/** The lab checks' file name in a session directory and a lab archive. */
export const CHECKS_FILE = 'checks';

export function sessionPaths(dir: string): SessionPaths {
  return {
    dir,
    topology: join(dir, 'topology'),
    lock: join(dir, 'qemunet.lock'),
    state: join(dir, 'qemunet-state.json'),
    log: join(dir, 'qemunet.log'),
    control: join(dir, 'qemunet.ctl'),
    manifest: join(dir, 'qemunet-session.json'),
    layout: join(dir, LAYOUT_FILE),
    checks: join(dir, CHECKS_FILE),
    host: (name) => ({
      overlay: join(dir, `${name}.qcow2`),
      share: join(dir, name),
      disk: join(dir, `${name}.disk`),
      serial: join(dir, `${name}.serial`),
      console: join(dir, `${name}.console`),
      consoleResume: join(dir, `${name}.resume`),
      qmp: join(dir, `${name}.qmp`),
      agent: join(dir, `${name}.qga`),
      pid: join(dir, `${name}.pid`),
      log: join(dir, `${name}.log`),
      vnc: join(dir, `${name}.vnc`),
      spice: join(dir, `${name}.spice`),
      viewerFile: join(dir, `${name}.vv`),
      script: join(dir, `${name}.sh`),
      uml: join(dir, `${name}.uml`),
      wire: (nic) => join(dir, 'wire', `${name}-eth${nic}`),
      wireMgmt: (nic) => join(dir, `${name}-eth${nic}.wf`),
    }),
    switch: (name) => ({
      socket: join(dir, 'switch', name),
      mgmt: join(dir, `${name}.mgmt`),
      pid: join(dir, `${name}.pid`),
      log: join(dir, `${name}.switch.log`),
      commands: join(dir, `${name}.cmd`),
    }),
  };
}

/** Linux limits a unix socket path to 107 bytes. */
export const MAX_SOCKET_PATH = 107;

/** The socket paths of a session that are too long to bind, for a clear error before anything starts. */
export function tooLongSocketPaths(paths: SessionPaths, hosts: readonly string[], switches: readonly string[]): string[] {
  const sockets = [
    ...hosts.flatMap((h) => {
      const p = paths.host(h);
      return [p.serial, p.console, p.consoleResume, p.qmp, p.agent, p.vnc, p.spice];
    }),
    ...switches.flatMap((s) => [join(paths.switch(s).socket, 'ctl'), paths.switch(s).mgmt]),
  ];
  return sockets.filter((s) => Buffer.byteLength(s) > MAX_SOCKET_PATH);
}
