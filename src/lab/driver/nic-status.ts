import { mergeFaults, type LinkFaults } from '../../protocol/faults.js';
import type { NicCapture, NicStatus } from '../../protocol/session-state.js';
import type { NicPlan } from '../plan.js';

/** What a change to one NIC sets: each given field replaces the recorded one. */
export interface NicPatch {
  up?: boolean;
  wired?: boolean;
  /** The NIC's faults now, all of them (not only what changed). */
  faults?: LinkFaults;
  /** The captures running now, all of them. */
  captures?: readonly NicCapture[];
}

/**
 * A NIC's status when the session starts: up, with the faults of its LINK line, and `wired` when the
 * plan gives it a wirefilter. Pure.
 */
export function initialNicStatus(nic: NicPlan, planned: { faults: LinkFaults } | undefined): NicStatus {
  return patchNic({ eth: nic.eth, switch: nic.switch, port: nic.port, mac: nic.mac, up: true, wired: planned !== undefined }, { faults: planned?.faults ?? {} });
}

/**
 * A NIC's status with `patch` applied. `faults` and `captures` are there only when there are some
 * (a fault set back to nothing is dropped, as `mergeFaults` does), so a reader sees what acts on the
 * NIC's frames and nothing else. Pure: returns a new object.
 */
export function patchNic(nic: NicStatus, patch: NicPatch): NicStatus {
  const { faults: oldFaults, captures: oldCaptures, ...rest } = nic;
  const faults = mergeFaults({}, patch.faults ?? oldFaults ?? {});
  const captures = patch.captures ?? oldCaptures ?? [];
  return {
    ...rest,
    ...(patch.up !== undefined ? { up: patch.up } : {}),
    ...(patch.wired !== undefined ? { wired: patch.wired } : {}),
    ...(Object.keys(faults).length ? { faults } : {}),
    ...(captures.length ? { captures: captures.map((c) => ({ ...c })) } : {}),
  };
}
