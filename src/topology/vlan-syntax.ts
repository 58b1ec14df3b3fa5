/**
 * VLANs written in the topology, so no `.cmd` file is needed (an extension of QemuNet's syntax;
 * QemuNet's own files stay valid):
 *   HOST tiny syl s1:100          syl's NIC is an untagged member of VLAN 100
 *   HOST tiny immortal s1:100,200 a tagged member of VLANs 100 and 200 (the guest makes eth0.100 ...)
 *   HOST tiny probe s1:100t       a tagged member of VLAN 100 only
 *   TRUNK s1 s2 100,200           the trunk carries VLANs 100 and 200, tagged
 */
export interface VlanMembership {
  untagged?: number;
  tagged: number[];
}

export const MIN_VLAN = 1;
/** 802.1Q allows 4094, but vde_switch 2.3.2 refuses `vlan/create 4094` (checked): refused here, with the line. */
export const MAX_VLAN = 4093;

export type VlanParse<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A comma list of VLAN ids, each 1..4093, no repeats. */
export function parseVlanList(text: string): VlanParse<number[]> {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    if (!/^\d+$/.test(part)) return { ok: false, problem: `"${part}" is not a VLAN id; write numbers from ${MIN_VLAN} to ${MAX_VLAN}, separated by commas` };
    const id = Number(part);
    if (id < MIN_VLAN || id > MAX_VLAN) return { ok: false, problem: `VLAN ${id} is outside ${MIN_VLAN}..${MAX_VLAN}` };
    if (ids.includes(id)) return { ok: false, problem: `VLAN ${id} is listed twice` };
    ids.push(id);
  }
  return { ok: true, value: ids };
}

/** The part after `switch:` on a HOST line. */
export function parsePortVlans(text: string): VlanParse<VlanMembership> {
  const tagged = text.endsWith('t');
  const list = parseVlanList(tagged ? text.slice(0, -1) : text);
  if (!list.ok) return list;
  if (list.value.length === 1 && !tagged) return { ok: true, value: { untagged: list.value[0]!, tagged: [] } };
  return { ok: true, value: { tagged: list.value } };
}

/** vde_switch management commands for the VLANs a topology declares on one switch. */
export function switchVlanCommands(ports: ReadonlyArray<{ port: number; vlans?: VlanMembership }>): string[] {
  const all = new Set<number>();
  for (const p of ports) {
    if (p.vlans?.untagged) all.add(p.vlans.untagged);
    p.vlans?.tagged.forEach((v) => all.add(v));
  }
  const commands = [...all].sort((a, b) => a - b).map((v) => `vlan/create ${v}`);
  for (const p of ports) {
    if (p.vlans?.untagged) commands.push(`port/setvlan ${p.port} ${p.vlans.untagged}`);
    for (const v of p.vlans?.tagged ?? []) commands.push(`vlan/addport ${v} ${p.port}`);
  }
  return commands;
}
