import type { LinkFaults } from './link-syntax.js';
import type { VlanMembership } from './vlan-syntax.js';

/** Exactly what a topology file says, line by line (before any check across lines). */
export type RawStatement =
  | { kind: 'switch'; name: string; hub: boolean; line: number }
  | { kind: 'host'; system: string; systemColumn: number; display?: string; name: string; switches: Array<{ name: string; column: number; vlans?: VlanMembership }>; line: number }
  | { kind: 'trunk'; a: string; b: string; vlans?: number[]; line: number }
  | { kind: 'sleep'; seconds: number; line: number }
  | { kind: 'tap'; name: string; switch: string; column: number; address?: string; line: number }
  | { kind: 'link'; host: string; nic: number; faults: LinkFaults; column: number; line: number };

export interface RawTopology {
  file: string;
  statements: RawStatement[];
}

export interface SwitchDef {
  name: string;
  hub: boolean;
  /** Ports this topology uses on it: hosts from 1, trunks from 21 (QemuNet's numbering). */
  portsUsed: number;
}

export interface NicDef {
  /** eth0, eth1, ... in the order the HOST line lists its switches. */
  index: number;
  switch: string;
  port: number;
  /** VLANs declared in the topology (`s1:100`). */
  vlans?: VlanMembership;
}

export interface HostDef {
  name: string;
  system: string;
  /** Where the system name stands on the HOST line, for "unknown system" errors. */
  systemColumn: number;
  display?: string;
  nics: NicDef[];
  /** Hosts of a lower wave start first; a `sleep` line begins a new wave. */
  wave: number;
  line: number;
}

export interface TrunkDef {
  a: { switch: string; port: number };
  b: { switch: string; port: number };
  /** VLANs it carries, tagged (`TRUNK s1 s2 100,200`). */
  vlans?: number[];
}

/** A tap interface of the host on a switch port (after the hosts' ports, so theirs stay QemuNet's). */
export interface TapDef {
  name: string;
  switch: string;
  port: number;
  address?: string;
}

/** A NIC with a wirefilter between it and its switch (`LINK host:ethN ...`). */
export interface LinkDef {
  host: string;
  nic: number;
  faults: LinkFaults;
}

/** A checked topology with every port assigned; frozen. */
export interface Topology {
  file: string;
  switches: readonly SwitchDef[];
  hosts: readonly HostDef[];
  trunks: readonly TrunkDef[];
  taps: readonly TapDef[];
  links: readonly LinkDef[];
  /** Seconds to wait before each wave after the first (index 0 is always 0). */
  waveDelays: readonly number[];
}
