import { InputError, type ErrorCode } from '../errors.js';
import type { HostDef, LinkDef, RawTopology, SwitchDef, TapDef, Topology, TrunkDef } from './types.js';

/** QemuNet's port numbering: hosts on 1..20, trunks on 21..32. */
export const SWITCH_PORTS = 32;
export const FIRST_TRUNK_PORT = 21;
export const MAX_HOST_PORTS = FIRST_TRUNK_PORT - 1;

/**
 * Checks a raw topology across lines and assigns ports exactly as QemuNet numbers them: on each
 * switch, 1, 2, ... in HOST line order; trunks from 21. `.cmd` files written for QemuNet stay valid.
 */
export function resolveTopology(raw: RawTopology): Topology {
  const { file } = raw;
  const switches = new Map<string, SwitchDef & { line: number; trunkPorts: number }>();
  const hostNames = new Map<string, number>();
  const fail = (line: number, column: number, msg: string, code: ErrorCode = 'TOPOLOGY_INVALID'): never => {
    throw new InputError(code, file, line, column, msg);
  };
  for (const s of raw.statements) {
    if (s.kind !== 'switch') continue;
    const prev = switches.get(s.name);
    if (prev) fail(s.line, 1, `switch ${s.name} is already defined at line ${prev.line}`, 'DUPLICATE_NAME');
    switches.set(s.name, { name: s.name, hub: s.hub, portsUsed: 0, line: s.line, trunkPorts: 0 });
  }
  const known = () => (switches.size ? [...switches.keys()].join(', ') : 'none: define one with SWITCH name');
  const hosts: HostDef[] = [];
  const trunks: TrunkDef[] = [];
  const waveDelays = [0];
  const hostPorts = new Map<string, number>();
  for (const s of raw.statements) {
    if (s.kind === 'sleep') {
      if (hosts.some((h) => h.wave === waveDelays.length - 1)) waveDelays.push(s.seconds);
      else waveDelays[waveDelays.length - 1]! += s.seconds;
    } else if (s.kind === 'host') {
      const dup = hostNames.get(s.name) ?? switches.get(s.name)?.line;
      if (dup !== undefined) fail(s.line, 1, `the name ${s.name} is already used at line ${dup}`, 'DUPLICATE_NAME');
      hostNames.set(s.name, s.line);
      const nics = s.switches.map((sw, index) => {
        if (!switches.has(sw.name)) fail(s.line, sw.column, `HOST ${s.name} is on switch ${sw.name}, which is not defined; defined switches: ${known()}`, 'UNKNOWN_SWITCH');
        const port = (hostPorts.get(sw.name) ?? 0) + 1;
        if (port > MAX_HOST_PORTS) fail(s.line, sw.column, `switch ${sw.name} has no free port for ${s.name}: at most ${MAX_HOST_PORTS} host NICs per switch (ports ${FIRST_TRUNK_PORT}-${SWITCH_PORTS} are for trunks)`, 'SWITCH_FULL');
        hostPorts.set(sw.name, port);
        return { index, switch: sw.name, port, ...(sw.vlans ? { vlans: sw.vlans } : {}) };
      });
      hosts.push({ name: s.name, system: s.system, systemColumn: s.systemColumn, ...(s.display ? { display: s.display } : {}), nics, wave: waveDelays.length - 1, line: s.line });
    } else if (s.kind === 'trunk') {
      if (s.a === s.b) fail(s.line, 1, `TRUNK joins switch ${s.a} with itself; name two different switches`);
      const ends = [s.a, s.b].map((name) => {
        const sw = switches.get(name) ?? fail(s.line, 1, `TRUNK names switch ${name}, which is not defined; defined switches: ${known()}`, 'UNKNOWN_SWITCH');
        const port = FIRST_TRUNK_PORT + sw.trunkPorts++;
        if (port > SWITCH_PORTS) fail(s.line, 1, `switch ${name} has no free trunk port (ports ${FIRST_TRUNK_PORT}-${SWITCH_PORTS})`, 'SWITCH_FULL');
        return { switch: name, port };
      });
      trunks.push({ a: ends[0]!, b: ends[1]!, ...(s.vlans ? { vlans: s.vlans } : {}) });
    }
  }
  if (!hosts.length) fail(1, 1, 'the topology has no HOST line', 'TOPOLOGY_EMPTY');
  const taps: TapDef[] = [];
  for (const s of raw.statements) {
    if (s.kind !== 'tap') continue;
    if (!switches.has(s.switch)) fail(s.line, s.column, `TAP ${s.name} is on switch ${s.switch}, which is not defined; defined switches: ${known()}`, 'UNKNOWN_SWITCH');
    const dup = taps.find((t) => t.name === s.name);
    if (dup) fail(s.line, 1, `tap ${s.name} is defined twice`, 'DUPLICATE_NAME');
    const port = (hostPorts.get(s.switch) ?? 0) + 1;
    if (port > MAX_HOST_PORTS) fail(s.line, s.column, `switch ${s.switch} has no free port for tap ${s.name}: at most ${MAX_HOST_PORTS} host NICs and taps per switch`, 'SWITCH_FULL');
    hostPorts.set(s.switch, port);
    taps.push({ name: s.name, switch: s.switch, port, ...(s.address ? { address: s.address } : {}) });
  }
  const links: LinkDef[] = [];
  for (const s of raw.statements) {
    if (s.kind !== 'link') continue;
    const host = hosts.find((h) => h.name === s.host) ?? fail(s.line, s.column, `LINK names host ${s.host}, which is not defined`, 'UNKNOWN_HOST');
    if (s.nic >= host.nics.length) fail(s.line, s.column, `host ${s.host} has no eth${s.nic}; it has ${host.nics.map((n) => `eth${n.index}`).join(', ') || 'no NIC'}`, 'UNKNOWN_NIC');
    if (links.some((l) => l.host === s.host && l.nic === s.nic)) fail(s.line, s.column, `LINK ${s.host}:eth${s.nic} is given twice`, 'DUPLICATE_NAME');
    links.push({ host: s.host, nic: s.nic, faults: s.faults });
  }
  const switchDefs = [...switches.values()].map(({ name, hub, trunkPorts }) => ({ name, hub, portsUsed: (hostPorts.get(name) ?? 0) + trunkPorts }));
  return deepFreeze({ file, switches: switchDefs, hosts, trunks, taps, links, waveDelays });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}
