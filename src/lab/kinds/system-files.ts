import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { SystemEntry } from '../../config/catalog.js';
import { ImageError } from '../../errors.js';

/** A system's FS, KERNEL and INITRD files are there and readable (with how to download them, when the catalog knows). */
export async function checkSystemFiles(system: SystemEntry): Promise<void> {
  const files: Array<[string, string | undefined]> = [['FS', system.fs], ['KERNEL', system.kernel], ['INITRD', system.initrd]];
  for (const [what, file] of files) {
    if (!file) continue;
    const ok = await access(file, constants.R_OK).then(() => true, () => false);
    if (!ok) throw new ImageError('IMAGE_MISSING', `the ${what} file of system ${system.name} (${system.source}) is missing or unreadable: ${file}${system.url ? `; download it with: qemunet -D ${system.name} (from ${system.url})` : ''}`);
  }
}
