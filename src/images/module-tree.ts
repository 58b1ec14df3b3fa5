import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../process/run.js';
import { parseModulesDep, selectModuleClosure, type ModuleDeps } from './kernel-modules.js';

/**
 * The modules of `trees` (and all they need) from a kernel's module directory into the guest's
 * /lib/modules/<version>, indexed by depmod for the guest's modprobe. `stripDebug` for a package that
 * ships them with their debug information (user-mode-linux: 83 MB of a lab's trees, 27 MB stripped).
 */
export async function installModuleTree(moduleDir: string, root: string, version: string, trees: readonly string[], signal?: AbortSignal, stripDebug = false): Promise<ModuleDeps> {
  const deps = parseModulesDep(await readFile(join(moduleDir, 'modules.dep'), 'utf8'));
  const guestModules = join(root, 'usr/lib/modules', version);
  const picked = selectModuleClosure(deps, trees);
  for (const m of picked) {
    await mkdir(dirname(join(guestModules, m)), { recursive: true });
    await copyFile(join(moduleDir, m), join(guestModules, m));
  }
  if (stripDebug && picked.length) await run('strip', ['--strip-debug', ...picked.map((m) => join(guestModules, m))], { signal });
  for (const f of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']) await copyFile(join(moduleDir, f), join(guestModules, f));
  await run('depmod', ['-b', root, version], { signal });
  return deps;
}
