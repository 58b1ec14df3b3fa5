import type { LinkFaults } from './faults.js';

/**
 * A NIC's faults for a person: "40 ms ±10 ms, 10 % loss, 1 % dup, 10 Mbit/s, MTU 1400"; undefined
 * for none. `qemunet status` and the web page show them so. Pure.
 */
export function faultLabel(f: LinkFaults): string | undefined {
  const parts: string[] = [];
  if (f.delay && (f.delay.ms || f.delay.jitterMs)) parts.push(`${f.delay.ms} ms${f.delay.jitterMs ? ` ±${f.delay.jitterMs} ms` : ''}`);
  if (f.lossPct) parts.push(`${f.lossPct} % loss`);
  if (f.dupPct) parts.push(`${f.dupPct} % dup`);
  if (f.bandwidth) parts.push(formatRate(f.bandwidth));
  if (f.mtu) parts.push(`MTU ${f.mtu}`);
  return parts.length ? parts.join(', ') : undefined;
}

function formatRate(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  if (bits >= 1e9) return `${+(bits / 1e9).toFixed(2)} Gbit/s`;
  if (bits >= 1e6) return `${+(bits / 1e6).toFixed(2)} Mbit/s`;
  return `${+(bits / 1e3).toFixed(2)} kbit/s`;
}
