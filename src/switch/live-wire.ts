import { QemunetError } from '../errors.js';
import { MAX_VLAN } from '../topology/vlan-syntax.js';

/**
 * A wirefilter put between a NIC and the rest of its switch while the session runs, for a NIC that
 * had none at start (no LINK line, no --wire-all). QEMU 7.2 cannot move a NIC to another netdev (after
 * netdev_del the NIC's peer stays deleted), so the NIC stays on its port and the switch is split
 * instead: the NIC's port goes into a VLAN of its own, shared only with one end of the wirefilter;
 * the other end is a port in the NIC's old VLAN. Frames then cross the wirefilter both ways, and the
 * NIC keeps its port number.
 *
 * The pure parts: reading the switch's answers and choosing the two ports and the private VLAN.
 */


/** The port's untagged VLAN, from `port/print N`'s data lines (`Port 0003 untagged_vlan=0000 ACTIVE ...`). */
export function untaggedVlanOf(portPrint: readonly string[], port: number): number {
  const m = portPrint.map((l) => /^Port (\d+) untagged_vlan=(\d+)/.exec(l)).find((x) => x && Number(x[1]) === port);
  if (!m) throw new QemunetError('SWITCH_COMMAND', `the switch did not describe port ${port}: ${portPrint.join(' ').slice(0, 200)}`);
  return Number(m[2]);
}

/** `vlan/allprint`'s data lines, as each VLAN's ports and whether each is tagged there. */
export function vlanTable(allprint: readonly string[]): Map<number, Array<{ port: number; tagged: boolean }>> {
  const vlans = new Map<number, Array<{ port: number; tagged: boolean }>>();
  let current: Array<{ port: number; tagged: boolean }> | undefined;
  for (const line of allprint) {
    const head = /^VLAN (\d+)/.exec(line);
    if (head) vlans.set(Number(head[1]), (current = []));
    const member = /^\s*-- Port (\d+) tagged=(\d)/.exec(line);
    if (member && current) current.push({ port: Number(member[1]), tagged: member[2] === '1' });
  }
  return vlans;
}

/** The highest VLAN number the switch does not have yet (far from those labs use, 10, 100...). */
export function privateVlan(existing: Iterable<number>): number {
  const taken = new Set(existing);
  for (let v = MAX_VLAN; v > 0; v--) if (!taken.has(v)) return v;
  throw new QemunetError('NO_FREE_VLAN', 'the switch has every VLAN number in use');
}

/**
 * Two free ports for a live wire, from the top (QemuNet gives hosts the low ports, trunks 21 and
 * up): [the NIC's side, in the private VLAN; the network's side]. Undefined when fewer than two are free.
 */
export function freeWirePorts(used: ReadonlySet<number>, highest: number): [number, number] | undefined {
  const free: number[] = [];
  for (let p = highest; p > 0 && free.length < 2; p--) if (!used.has(p)) free.push(p);
  return free.length === 2 ? [free[0]!, free[1]!] : undefined;
}
