import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { QemunetError, UsageError } from '../../errors.js';
import type { LabFile } from '../actions-protocol.js';
import { labKind } from './actions-requests.js';

/**
 * `qemunet web --labs DIR`: the topologies and session archives of one folder, and nothing else.
 * A name from the browser is a plain name (its schema, action-schemas.ts, checks it); here it must
 * also lead, once its links are followed, to a regular file of the folder itself.
 */
export class LabsFolder {
  private constructor(readonly root: string) {}

  static async open(dir: string): Promise<LabsFolder> {
    const root = await realpath(dir).catch(() => {
      throw new UsageError(`--labs ${dir}: no such folder`);
    });
    if (!(await stat(root)).isDirectory()) throw new UsageError(`--labs ${dir} is not a folder`);
    return new LabsFolder(root);
  }

  /** The .topo and .tgz files of the folder (links that lead out of it are left out), by name. */
  async list(): Promise<LabFile[]> {
    const out: LabFile[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      const kind = labKind(entry.name);
      if (!kind || entry.name.startsWith('.')) continue;
      const file = await this.inside(entry.name).catch(() => undefined);
      if (file) out.push({ name: entry.name, kind, size: file.size });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The path of a file the browser asked to start; a BAD_LAB_PATH (400) for anything else. */
  async resolve(name: string): Promise<{ path: string; kind: LabFile['kind'] }> {
    // The name's shape was checked by the request's schema; where it leads is checked here, on the disk.
    const kind = labKind(name);
    if (!kind) throw new QemunetError('BAD_LAB_PATH', `"${name.slice(0, 200)}" is neither a topology (.topo) nor a session archive (.tgz)`);
    const file = await this.inside(name);
    return { path: file.path, kind };
  }

  private async inside(name: string): Promise<{ path: string; size: number }> {
    const path = await realpath(join(this.root, name)).catch(() => {
      throw new QemunetError('BAD_LAB_PATH', `the labs folder has no file "${name}"`);
    });
    if (dirname(path) !== this.root) throw new QemunetError('BAD_LAB_PATH', `"${name}" leads out of the labs folder (${this.root}); only its own files can be started`);
    const s = await stat(path);
    if (!s.isFile()) throw new QemunetError('BAD_LAB_PATH', `"${name}" is not a regular file`);
    return { path, size: s.size };
  }
}
