/**
 * Link faults, as vde-wirefilter makes them, written `delay=40ms` (or `40ms+10ms` with jitter),
 * `loss=10%`, `dup=1%`, `bandwidth=10mbit` (or bytes per second), `mtu=1400`; in the topology on a
 * `LINK host:ethN ...` line (an extension of QemuNet's syntax) and live with `qemunet link`.
 */
// The faults' names and values are declared once, with the control protocol.
export { parseLinkSetting, type LinkFaults } from '../protocol/faults.js';
import type { LinkFaults } from '../protocol/faults.js';

/** wirefilter's management commands for these faults (the same words as its command-line options). */
export function wirefilterCommands(f: LinkFaults): string[] {
  const out: string[] = [];
  if (f.delay) out.push(`delay ${f.delay.ms}${f.delay.jitterMs ? `+${f.delay.jitterMs}` : ''}`);
  if (f.lossPct !== undefined) out.push(`loss ${f.lossPct}`);
  if (f.dupPct !== undefined) out.push(`dup ${f.dupPct}`);
  if (f.bandwidth !== undefined) out.push(`bandwidth ${f.bandwidth}`);
  if (f.mtu !== undefined) out.push(`mtu ${f.mtu}`);
  return out;
}
