import { faultLabel, type SessionState, type Topology } from '../../api/index.js';
import type { ChecksView, SessionView } from '../protocol.js';

/**
 * The page's view of a session: its recorded state (each NIC's link, faults, wirefilter and
 * captures, whoever set them), with trunks and taps from its topology. Pure.
 */
export function buildView(state: SessionState, topology: Topology | undefined): SessionView {
  const live = new Set(liveWireable(state, topology));
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
        const capturing = (n.captures?.length ?? 0) > 0;
        // Faults can be set on a NIC a wirefilter carries, or one that can get a wirefilter live.
        return { ref, eth: n.eth, switch: n.switch, port: n.port, mac: n.mac, up: n.up !== false, faultable: n.wired === true || live.has(ref), ...(label ? { faults: label } : {}), ...(capturing ? { capturing } : {}) };
      }),
    })),
    switches: state.switches.map((s) => ({ name: s.name, hub: s.hub, state: s.state })),
    trunks: (topology?.trunks ?? []).map((t) => ({ a: { ...t.a }, b: { ...t.b } })),
    taps: (topology?.taps ?? []).map((t) => ({ name: t.name, switch: t.switch, port: t.port })),
    ...(state.checks ? { checks: checksView(state.checks) } : {}),
  };
}

/**
 * The Checks panel's rows: the state's, which is the student's view already (the session leaves
 * hidden checks out of it), copied field by field so nothing else the state may grow reaches the page.
 */
function checksView(c: NonNullable<SessionState['checks']>): ChecksView {
  return {
    running: c.running,
    startedAt: c.startedAt,
    ...(c.student !== undefined ? { student: c.student } : {}),
    checks: c.checks.map((r) => ({ name: r.name, host: r.host, kind: r.kind, points: r.points, status: r.status, earned: r.earned, ...(r.seen !== undefined ? { seen: r.seen } : {}) })),
    score: { earned: c.score.earned, possible: c.score.possible, passed: c.score.passed, total: c.score.total },
    ...(c.error !== undefined ? { error: c.error } : {}),
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
