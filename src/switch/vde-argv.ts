/**
 * Ports of a session's vde_switch, 0..63: QemuNet numbers up to 32 (its 12th trunk on a switch, which
 * `-numports 32`, ports 0..31, refuses: checked), and the ports above are for wirefilters put in live.
 */
export const VDE_SWITCH_PORTS = 64;

export interface SwitchSpec {
  name: string;
  hub: boolean;
  /** The switch's socket directory, which QEMU's `-netdev vde,sock=` and vde_plug name. */
  socket: string;
  /** Its management console socket (`<switch>.mgmt`), for vdeterm and `.cmd` files. */
  mgmt: string;
  ports?: number;
}

/**
 * vde_switch in the foreground. qemunet keeps its stdin open as a pipe: vde_switch exits on EOF of
 * stdin ("EOF on stdin, cleaning up and exiting"), so a switch never outlives a killed qemunet.
 * Only the session's owner may plug in or manage it: the socket directory is 0700, its sockets 0600
 * (vde2 defaults to a setgid 02700 directory, and other vde builds differ: stated, not assumed).
 */
export function vdeSwitchArgv(spec: SwitchSpec): string[] {
  return ['-sock', spec.socket, '-mode', '0600', '-dirmode', '0700', '-mgmt', spec.mgmt, '-mgmtmode', '0600', '-numports', String(spec.ports ?? VDE_SWITCH_PORTS), ...(spec.hub ? ['-hub'] : [])];
}
