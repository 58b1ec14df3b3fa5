/**
 * A vde_switch's `vlan/print` answer as a table. Pure, shared by the server and the page (what the
 * browser's switch console may send is server/switch-console.ts).
 */

export interface VlanPort {
  port: number;
  tagged: boolean;
  active: boolean;
  status: string;
}

export interface VlanRow {
  vlan: number;
  ports: VlanPort[];
}

/**
 * Parses the data lines of `vlan/print`:
 *   VLAN 0100
 *    -- Port 0001 tagged=0 active=1 status=Forwarding
 * Lines it does not know are skipped (later vde_switch versions may add some).
 */
export function parseVlanPrint(lines: readonly string[]): VlanRow[] {
  const rows: VlanRow[] = [];
  for (const line of lines) {
    const vlan = /^VLAN (\d+)/.exec(line);
    if (vlan) {
      rows.push({ vlan: Number(vlan[1]), ports: [] });
      continue;
    }
    const port = /^\s*--\s*Port (\d+) tagged=(\d) active=(\d) status=(\S+)/.exec(line);
    if (port && rows.length) rows[rows.length - 1]!.ports.push({ port: Number(port[1]), tagged: port[2] === '1', active: port[3] === '1', status: port[4]! });
  }
  return rows;
}
