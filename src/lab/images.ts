import { lstat, rm, stat } from 'node:fs/promises';
import type { SystemEntry } from '../config/catalog.js';
import { ImageError } from '../errors.js';
import type { BuildProgress } from '../images/builder.js';
import { buildBuiltinImage } from '../images/builtin.js';
import { downloadSystem, type DownloadProgress, type DownloadResult } from '../images/download.js';
import { builtImagePaths } from '../images/store.js';
import { loadCatalog, type CatalogOptions } from './catalog.js';

export type FileState = 'present' | 'missing' | 'downloadable' | 'buildable';

export interface ImageRow {
  name: string;
  sys: string;
  source: string;
  files: Array<{ role: 'FS' | 'KERNEL' | 'INITRD'; path: string; state: FileState; bytes?: number }>;
}

/** Every known system with its files, their state and sizes (`qemunet image list`). */
export async function listImages(options: CatalogOptions): Promise<{ rows: ImageRow[]; configFiles: string[]; notes: string[] }> {
  const { catalog, configFiles, notes } = await loadCatalog(options);
  const rows: ImageRow[] = [];
  for (const s of catalog.values()) rows.push({ name: s.name, sys: s.sys, source: s.source, files: await fileStates(s) });
  return { rows, configFiles, notes };
}

async function fileStates(s: SystemEntry): Promise<ImageRow['files']> {
  const roles: Array<['FS' | 'KERNEL' | 'INITRD', string | undefined]> = [['FS', s.fs], ['KERNEL', s.kernel], ['INITRD', s.initrd]];
  const out: ImageRow['files'] = [];
  for (const [role, path] of roles) {
    if (!path) continue;
    const st = await stat(path).catch(() => undefined);
    const absent: FileState = s.builtin ? 'buildable' : s.url ? 'downloadable' : 'missing';
    out.push(st ? { role, path, state: 'present', bytes: st.size } : { role, path, state: absent });
  }
  return out;
}

export async function buildImage(name: string, options: CatalogOptions & { force?: boolean; signal?: AbortSignal; onProgress?: (p: BuildProgress) => void }) {
  const { catalog, storeDir } = await loadCatalog(options);
  const entry = catalog.get(name);
  if (!entry?.builtin) {
    const builtins = [...catalog.values()].filter((s) => s.builtin).map((s) => s.name);
    throw new ImageError('NOT_BUILDABLE', `qemunet can build ${builtins.join(', ')}; ${name} ${entry ? `comes from ${entry.source}` : 'is not a known system'}`);
  }
  return buildBuiltinImage(entry.builtin, { storeDir, ...(options.force ? { force: true } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
}

/** Removes a built image from the store; images declared in qemunet.cfg are the user's files and stay. */
export async function removeImage(name: string, options: CatalogOptions): Promise<string> {
  const { catalog, storeDir } = await loadCatalog(options);
  const entry = catalog.get(name);
  if (!entry?.builtin) throw new ImageError('NOT_REMOVABLE', `only images qemunet built can be removed; ${name} ${entry ? `is declared in ${entry.source}` : 'is not a known system'}`);
  const dir = builtImagePaths(storeDir, name).dir;
  if (!(await lstat(dir).then(() => true, () => false))) throw new ImageError('NOT_BUILT', `${name} is not built (nothing in ${dir})`);
  await rm(dir, { recursive: true, force: true });
  return dir;
}

/** Downloads a system's image from its URL[..] (`qemunet -D SYS`, `qemunet image pull SYS`). */
export async function pullImage(name: string, options: CatalogOptions & { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void }): Promise<DownloadResult> {
  const { catalog } = await loadCatalog(options);
  const entry = catalog.get(name);
  if (!entry) throw new ImageError('UNKNOWN_SYSTEM', `unknown system ${name}; known systems: ${[...catalog.keys()].join(', ')}`);
  return downloadSystem(entry, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
}
