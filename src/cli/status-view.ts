import { faultLabel, type HostStatus, type NicStatus, type SessionState } from '../api/index.js';

/**
 * The session as a table: host, state, NICs with their switch ports (marked when their link is down
 * or they are being captured), and how to reach the console; then each NIC's faults, and what
 * needs more than a cell (a stall, a screen, the terminal sessions).
 */
export function renderStatus(state: SessionState): string {
  const rows = [['HOST', 'STATE', 'SYSTEM', 'NICS', 'CONSOLE'], ...state.hosts.map(hostRow)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
  const head = `session ${state.dir} (${state.phase}, ${state.accel.toUpperCase()})`;
  const tmux = state.tmuxSession ? [`consoles in tmux: tmux attach -t ${state.tmuxSession}`] : [];
  const screen = state.screenSession ? [`consoles in GNU screen: screen -r ${state.screenSession}`] : [];
  const screens = state.hosts.filter((h) => h.screen).map((h) => `screen of ${h.name} (${h.screen!.kind}): ${h.screen!.connect}`);
  return [head, ...table, ...state.hosts.flatMap(faultLines), ...state.hosts.flatMap(stallLines), ...screens, ...tmux, ...screen].join('\n');
}

/** A stalled host: why, and the end of its console (which may show where the boot stopped). */
function stallLines(h: HostStatus): string[] {
  if (h.state !== 'stalled') return [];
  return [`${h.name} stalled: ${h.detail ?? ''}`, ...(h.consoleTail ?? []).filter(Boolean).map((l) => `  | ${l}`)];
}

/** `a:eth0 faults: 40 ms, 5 % loss` for each NIC with faults (the state keeps only faults that act). */
function faultLines(h: HostStatus): string[] {
  return h.nics.flatMap((n) => {
    const label = n.faults ? faultLabel(n.faults) : undefined;
    return label ? [`${h.name}:${n.eth} faults: ${label}`] : [];
  });
}

/** `eth0=s1:3`, with `(down)`, `(capture)` or both: what a glance at the table should catch. */
function nicCell(n: NicStatus): string {
  const marks = [...(n.up === false ? ['down'] : []), ...(n.captures?.length ? ['capture'] : [])];
  return `${n.eth}=${n.switch}:${n.port}${marks.length ? `(${marks.join(',')})` : ''}`;
}

function hostRow(h: HostStatus): string[] {
  const state = h.state === 'ready' && h.readyMs !== undefined ? `ready ${(h.readyMs / 1000).toFixed(1)}s` : h.state;
  const nics = h.nics.map(nicCell).join(' ') || '-';
  return [h.name, state, h.accel ? `${h.system} (${h.accel.toUpperCase()})` : h.system, nics, `qemunet console ${h.name}`];
}

/** One line per host state change, for logs and terminals that are not interactive. */
export function hostChangeLine(h: HostStatus): string {
  const extra = h.state === 'ready' && h.readyMs !== undefined ? ` in ${(h.readyMs / 1000).toFixed(1)} s` : h.detail ? `: ${h.detail}` : '';
  return `${h.name}: ${h.state}${extra}`;
}
