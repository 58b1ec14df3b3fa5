import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The source tree (tests run from build/test/, the sources are read where they are written). */
export const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Every .ts file under `dir` (none for a folder that is not there). */
export async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) files.push(...(await sources(join(dir, e.name))));
    else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
  }
  return files;
}
