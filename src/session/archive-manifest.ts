/** What `qemunet save` records next to the session's files, and what a restore checks. */
export interface SessionManifest {
  format: 'qemunet-session';
  version: 1;
  qemunetVersion: string;
  savedAt: string;
  hosts: Array<{ name: string; system: string; base: { sha256: string; bytes: number } }>;
}

export function parseSessionManifest(text: string): SessionManifest | undefined {
  try {
    const m = JSON.parse(text) as SessionManifest;
    return m.format === 'qemunet-session' && Array.isArray(m.hosts) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Files of a session that belong in an archive: the lab itself, not the runtime of one machine. */
export function archivedSessionFiles(names: readonly string[], hosts: readonly string[]): string[] {
  const keep = new Set(['topology', ...hosts.flatMap((h) => [h, `${h}.disk`, `${h}.qcow2`])]);
  return names.filter((n) => keep.has(n) || n.endsWith('.cmd')).sort((a, b) => (a === 'topology' ? -1 : b === 'topology' ? 1 : a.localeCompare(b)));
}

/** Runtime files a restored archive may carry from another machine: removed, then made afresh. */
export function staleRuntimeFile(name: string): boolean {
  return /\.(pid|sh|log|serial|console|qmp|qga|mgmt|ctl|wf|vnc|spice|vv)$/.test(name) || ['qemunet.lock', 'qemunet-state.json', 'qemunet.log', 'switch', 'wire'].includes(name);
}
