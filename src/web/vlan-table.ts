/**
 * A vde_switch's `vlan/print` answer as a table, and the checks of management commands sent from
 * the browser. Pure, shared by the server and the page.
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

/**
 * Management commands the browser may not send: `load` reads a file of the machine running qemunet,
 * `shutdown` ends the switch under the session, `logout` ends a console the page does not hold.
 */
const REFUSED = new Set(['load', 'shutdown', 'logout']);

/** Checks a management command typed in the page; returns it trimmed, or throws with why not. */
export function checkSwitchCommand(command: unknown): string {
  if (typeof command !== 'string') throw new Error('give the management command as a string, like "vlan/print"');
  const c = command.trim();
  if (!c) throw new Error('the management command is empty; try "help" or "vlan/print"');
  if (c.length > 200) throw new Error('the management command is over 200 characters');
  if (/[^\x20-\x7e]/.test(c)) throw new Error('the management command is one line of printable ASCII');
  const verb = c.split(/\s+/)[0]!;
  if (REFUSED.has(verb)) throw new Error(`"${verb}" is not available from the browser (${[...REFUSED].join(', ')} are not); use qemunet switch on the machine itself`);
  return c;
}
