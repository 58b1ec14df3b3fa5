/**
 * Link faults, as vde-wirefilter makes them, written `delay=40ms` (or `40ms+10ms` with jitter),
 * `loss=10%`, `dup=1%`, `bandwidth=10mbit` (or bytes per second), `mtu=1400`; in the topology on a
 * `LINK host:ethN ...` line (an extension of QemuNet's syntax) and live with `qemunet link`.
 */
export interface LinkFaults {
  delay?: { ms: number; jitterMs: number };
  lossPct?: number;
  dupPct?: number;
  /** Bytes per second. */
  bandwidth?: number;
  mtu?: number;
}

export const LINK_SETTINGS = ['delay', 'loss', 'dup', 'bandwidth', 'mtu'] as const;
export type LinkSetting = (typeof LINK_SETTINGS)[number];

type Parsed = { ok: true; faults: LinkFaults } | { ok: false; problem: string };

const MS = /^(\d+(?:\.\d+)?)(ms)?$/;

/** One `name=value` setting, added to `into`. */
export function parseLinkSetting(name: string, value: string, into: LinkFaults = {}): Parsed {
  const bad = (what: string): Parsed => ({ ok: false, problem: `${name}=${value}: ${what}` });
  switch (name) {
    case 'delay': {
      const [base, jitter = '0'] = value.split('+');
      const b = MS.exec(base!);
      const j = MS.exec(jitter);
      if (!b || !j) return bad('write milliseconds, like 40ms or 40ms+10ms (with jitter)');
      return { ok: true, faults: { ...into, delay: { ms: Number(b[1]), jitterMs: Number(j[1]) } } };
    }
    case 'loss':
    case 'dup': {
      const m = /^(\d+(?:\.\d+)?)%?$/.exec(value);
      if (!m || Number(m[1]) > 100) return bad('write a percentage from 0 to 100, like 10%');
      return { ok: true, faults: { ...into, [name === 'loss' ? 'lossPct' : 'dupPct']: Number(m[1]) } };
    }
    case 'bandwidth': {
      const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)?$/i.exec(value);
      if (!m) return bad('write bytes per second, or bits with a unit: 500kbit, 10mbit, 1gbit');
      const unit = { kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8 }[m[2]?.toLowerCase() as 'kbit'] ?? 1;
      return { ok: true, faults: { ...into, bandwidth: Math.round(Number(m[1]) * unit) } };
    }
    case 'mtu': {
      if (!/^\d+$/.test(value) || Number(value) < 68 || Number(value) > 65535) return bad('write a size in bytes from 68 to 65535');
      return { ok: true, faults: { ...into, mtu: Number(value) } };
    }
    default:
      return { ok: false, problem: `unknown link setting "${name}"; allowed: ${LINK_SETTINGS.join(', ')}` };
  }
}

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
