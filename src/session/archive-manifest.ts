import { CHECKS_FILE, LAYOUT_FILE } from './paths.js';

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

/** A UML host's COW file, relative to the session directory (sessionPaths' `<host>.uml/disk.cow`). */
export function umlCowFile(host: string): string {
  return `${host}.uml/disk.cow`;
}

/**
 * Files of a session that belong in an archive: the lab itself (with where its graph's nodes were
 * dragged, and its checks), not the runtime of one machine.
 */
export function archivedSessionFiles(names: readonly string[], hosts: readonly string[]): string[] {
  const keep = new Set(['topology', LAYOUT_FILE, CHECKS_FILE, ...hosts.flatMap((h) => [h, `${h}.disk`, `${h}.qcow2`])]);
  // A UML host's disk is the COW file in its own directory (not UML's run directory beside it).
  const uml = new Set(hosts.map((h) => `${h}.uml`));
  return names.flatMap((n) => (uml.has(n) ? [umlCowFile(n.slice(0, -4))] : keep.has(n) || n.endsWith('.cmd') ? [n] : [])).sort((a, b) => (a === 'topology' ? -1 : b === 'topology' ? 1 : a.localeCompare(b)));
}

/** Runtime files a restored archive may carry from another machine: removed, then made afresh. */
export function staleRuntimeFile(name: string): boolean {
  return /\.(pid|sh|log|serial|console|qmp|qga|mgmt|ctl|wf|vnc|spice|vv)$/.test(name) || ['qemunet.lock', 'qemunet-state.json', 'qemunet.log', 'switch', 'wire'].includes(name);
}
