import type { LinkFaults, SessionState, Topology } from '../../api/index.js';
import type { SessionView } from '../protocol.js';

/** "40 ms ±10 ms, 10 % loss, 1 % dup, 10 Mbit/s, MTU 1400"; undefined for no faults. */
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

/**
 * The page's view of a session: its recorded state (each NIC's faults, wirefilter and running
 * captures, whoever set them), with trunks and taps from its topology. A state that does not say
 * whether a NIC is `wired` (a session of an older qemunet) is completed by `wired`: the NICs that have
 * a wirefilter now, as their sockets show (beyond the topology's LINK lines). Pure.
 */
export function buildView(state: SessionState, topology: Topology | undefined, wired: ReadonlySet<string> = new Set()): SessionView {
  // Faults can be set on a NIC a wirefilter carries, or one that can get a wirefilter live.
  const live = new Set(liveWireable(state, topology));
  const seen = new Set([...wired, ...(topology?.links ?? []).map((l) => `${l.host}:eth${l.nic}`), ...live]);
  return {
    dir: state.dir,
    topology: state.topology,
    phase: state.phase,
    hosts: state.hosts.map((h) => ({
      name: h.name,
      system: h.system,
      state: h.state,
      ...(h.detail ? { detail: h.detail } : {}),
      // A vnc host on TCP (--display-tcp) is not bridged: it wants its password.
      ...(h.display === 'vnc' && !(h.screen && !h.screen.socket) ? { screen: true as const } : {}),
      nics: h.nics.map((n) => {
        const ref = `${h.name}:${n.eth}`;
        const label = n.faults ? faultLabel(n.faults) : undefined;
        const faultable = n.wired === undefined ? seen.has(ref) : n.wired || live.has(ref);
        const capturing = (n.captures?.length ?? 0) > 0;
        return { ref, eth: n.eth, switch: n.switch, port: n.port, mac: n.mac, up: !h.linksDown?.includes(n.eth), faultable, ...(label ? { faults: label } : {}), ...(capturing ? { capturing } : {}) };
      }),
    })),
    switches: state.switches.map((s) => ({ name: s.name, hub: s.hub, state: s.state })),
    trunks: (topology?.trunks ?? []).map((t) => ({ a: { ...t.a }, b: { ...t.b } })),
    taps: (topology?.taps ?? []).map((t) => ({ name: t.name, switch: t.switch, port: t.port })),
  };
}

/**
 * NICs that get a wirefilter live when their faults are first set: those on a switch, as long as the
 * topology gives them no tagged VLAN (a hub has no VLANs to split, a tagged port cannot be split).
 */
function liveWireable(state: SessionState, topology: Topology | undefined): string[] {
  const hubs = new Set(state.switches.filter((s) => s.hub).map((s) => s.name));
  const tagged = new Set(topology?.hosts.flatMap((h) => h.nics.filter((n) => n.vlans?.tagged.length).map((n) => `${h.name}:eth${n.index}`)) ?? []);
  return state.hosts.flatMap((h) => h.nics.filter((n) => !hubs.has(n.switch)).map((n) => `${h.name}:${n.eth}`)).filter((ref) => !tagged.has(ref));
}
