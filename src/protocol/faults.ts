import { z } from 'zod';
import { FAULT_NAMES, type FaultName } from './fault-names.js';

export { FAULT_NAMES, type FaultName };

/**
 * Link faults as vde-wirefilter makes them: the one declaration of their values. The text syntax
 * below (`delay=40ms`, `loss=10%`...) reads into it, and the session checks a `faults` command
 * against it: a value the syntax refuses is refused on the socket too.
 */
const percent = z.number().min(0).max(100);
export const linkFaultsSchema = z.strictObject({
  delay: z.strictObject({ ms: z.number().min(0), jitterMs: z.number().min(0) }).optional(),
  lossPct: percent.optional(),
  dupPct: percent.optional(),
  /** Bytes per second. */
  bandwidth: z.number().int().min(0).optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
});
export type LinkFaults = z.infer<typeof linkFaultsSchema>;

/** The field of LinkFaults each fault name sets. */
export const FAULT_FIELD: Readonly<Record<FaultName, keyof LinkFaults>> = { delay: 'delay', loss: 'lossPct', dup: 'dupPct', bandwidth: 'bandwidth', mtu: 'mtu' };

type Parsed = { ok: true; faults: LinkFaults } | { ok: false; problem: string };

const MS = /^(\d+(?:\.\d+)?)(ms)?$/;
const BANDWIDTH_UNIT: Readonly<Record<string, number>> = { kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8 };

/** One `name=value` setting (`delay=40ms` or `40ms+10ms` with jitter, `loss=10%`, `bandwidth=10mbit`...), added to `into`. */
export function parseLinkSetting(name: string, value: string, into: LinkFaults = {}): Parsed {
  const bad = (what: string): Parsed => ({ ok: false, problem: `${name}=${value}: ${what}` });
  if (!(FAULT_NAMES as readonly string[]).includes(name)) return { ok: false, problem: `unknown link setting "${name}"; allowed: ${FAULT_NAMES.join(', ')}` };
  const field = FAULT_FIELD[name as FaultName];
  const read = readValue(name as FaultName, value);
  const checked = read === undefined ? undefined : linkFaultsSchema.shape[field].safeParse(read);
  if (!checked?.success) return bad(HOW_TO_WRITE[name as FaultName]);
  return { ok: true, faults: { ...into, [field]: checked.data } };
}

const HOW_TO_WRITE: Readonly<Record<FaultName, string>> = {
  delay: 'write milliseconds, like 40ms or 40ms+10ms (with jitter)',
  loss: 'write a percentage from 0 to 100, like 10%',
  dup: 'write a percentage from 0 to 100, like 10%',
  bandwidth: 'write bytes per second, or bits with a unit: 500kbit, 10mbit, 1gbit',
  mtu: 'write a size in bytes from 68 to 65535',
};

/** The value a setting's text stands for, before the schema checks its range; undefined when it is not written right. */
function readValue(name: FaultName, value: string): unknown {
  switch (name) {
    case 'delay': {
      const [base, jitter = '0'] = value.split('+');
      const b = MS.exec(base!);
      const j = MS.exec(jitter);
      return b && j ? { ms: Number(b[1]), jitterMs: Number(j[1]) } : undefined;
    }
    case 'loss':
    case 'dup': {
      const m = /^(\d+(?:\.\d+)?)%?$/.exec(value);
      return m ? Number(m[1]) : undefined;
    }
    case 'bandwidth': {
      const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)?$/i.exec(value);
      return m ? Math.round(Number(m[1]) * (BANDWIDTH_UNIT[m[2]?.toLowerCase() ?? ''] ?? 1)) : undefined;
    }
    case 'mtu':
      return /^\d+$/.test(value) ? Number(value) : undefined;
  }
}

/** Settings (`[name, value]`, as `qemunet link` takes them) read into faults; throws nothing, names the first bad one. */
export function parseLinkSettings(settings: ReadonlyArray<readonly [string, string]>, into: LinkFaults = {}): Parsed {
  let faults = into;
  for (const [name, value] of settings) {
    const r = parseLinkSetting(name, value, faults);
    if (!r.ok) return r;
    faults = r.faults;
  }
  return { ok: true, faults };
}
/**
 * Faults set over others: each given one replaces its kind. One set back to nothing (delay 0, loss 0%,
 * bandwidth 0 = unlimited) is dropped, so a NIC's recorded faults list only what acts on its frames.
 */
export function mergeFaults(base: LinkFaults, given: LinkFaults): LinkFaults {
  const merged: LinkFaults = { ...base, ...given };
  if (merged.delay && !merged.delay.ms && !merged.delay.jitterMs) delete merged.delay;
  if (merged.lossPct === 0) delete merged.lossPct;
  if (merged.dupPct === 0) delete merged.dupPct;
  if (merged.bandwidth === 0) delete merged.bandwidth;
  return merged;
}
