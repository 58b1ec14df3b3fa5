import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package's own folder (a clone, or where npm installed it): build/src/lab/ is three levels down. */
const PACKAGE_ROOT = new URL('../../../', import.meta.url);

/** This qemunet's version, from its package.json (recorded in saved sessions). */
export const QEMUNET_VERSION: string = (JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string }).version;

/** A file the package ships (demo/lan.topo, scripts/install-deps.sh), as an absolute path. */
export function packageFile(relative: string): string {
  return fileURLToPath(new URL(relative, PACKAGE_ROOT));
}
