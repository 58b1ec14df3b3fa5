import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { QemunetError } from '../errors.js';

/**
 * Where the nodes of a session's graph were put by hand (the web page's drag and drop), kept in
 * the session directory so a reload or another browser draws the same picture. The file comes
 * from a browser: it is checked whole before it is written, and again when it is read.
 */
export interface GraphLayout {
  /** Graph node id (`host:NAME`, `sw:NAME`, `tap:NAME`) to its position in graph coordinates. */
  positions: Record<string, { x: number; y: number }>;
}

/** More than a topology has nodes; keeps the file small (about 60 bytes a node). */
export const LAYOUT_MAX_NODES = 1000;
export const LAYOUT_MAX_BYTES = 64 * 1024;
const NODE_ID = /^(host|sw|tap):[A-Za-z0-9_.+-]{1,64}$/;
/** Further out than any drawing goes; also keeps NaN, Infinity and 1e308 out. */
const MAX_COORD = 1e6;

/** Checks a layout (JSON already parsed); throws LAYOUT naming what is wrong. Pure. */
export function parseLayout(value: unknown): GraphLayout {
  const bad = (why: string) => new QemunetError('LAYOUT', `graph layout: ${why}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('give {"positions": {"host:NAME": {"x": 10, "y": 20}, ...}}');
  const keys = Object.keys(value);
  if (keys.some((k) => k !== 'positions')) throw bad(`unknown field ${JSON.stringify(keys.find((k) => k !== 'positions'))}; allowed: positions`);
  const positions = (value as { positions?: unknown }).positions;
  if (positions === null || typeof positions !== 'object' || Array.isArray(positions)) throw bad('positions: an object of node id to {"x": N, "y": N}');
  const out: GraphLayout['positions'] = {};
  const ids = Object.keys(positions);
  if (ids.length > LAYOUT_MAX_NODES) throw bad(`${ids.length} nodes; at most ${LAYOUT_MAX_NODES}`);
  for (const id of ids) {
    if (!NODE_ID.test(id)) throw bad(`node id ${JSON.stringify(id.slice(0, 80))}: write host:NAME, sw:NAME or tap:NAME`);
    const p = (positions as Record<string, unknown>)[id] as Record<string, unknown> | null;
    const ok = p !== null && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 2 && [p.x, p.y].every((c) => typeof c === 'number' && Math.abs(c) <= MAX_COORD);
    if (!ok) throw bad(`${id}: give {"x": N, "y": N} with numbers from -${MAX_COORD} to ${MAX_COORD}`);
    out[id] = { x: p.x as number, y: p.y as number };
  }
  return { positions: out };
}

/** The layout kept in `file`; undefined when there is none or it is not a valid one (a hand-edited file is ignored, not fatal). */
export async function readLayout(file: string): Promise<GraphLayout | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > LAYOUT_MAX_BYTES) return undefined;
    return parseLayout(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Writes a checked layout whole (temp file + rename), owner-only like the rest of the session. */
export async function writeLayout(file: string, layout: GraphLayout): Promise<void> {
  const checked = parseLayout(layout);
  const text = `${JSON.stringify(checked)}\n`;
  if (text.length > LAYOUT_MAX_BYTES) throw new QemunetError('LAYOUT', `graph layout: ${text.length} bytes; at most ${LAYOUT_MAX_BYTES}`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/**
 * A layout that came in a session archive (untrusted): kept when it is a plain file holding a valid
 * layout, removed otherwise (a symlink, a directory, junk), so the page lays that graph out afresh.
 */
export async function keepValidLayout(file: string): Promise<'kept' | 'none' | 'removed'> {
  const stat = await lstat(file).catch(() => undefined);
  if (!stat) return 'none';
  if (stat.isFile() && (await readLayout(file))) return 'kept';
  await rm(file, { recursive: true, force: true });
  return 'removed';
}
