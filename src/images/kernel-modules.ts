import { ImageError } from '../errors.js';

/** modules.dep as written by depmod: "path.ko: dep1.ko dep2.ko", paths relative to the module tree. */
export type ModuleDeps = ReadonlyMap<string, readonly string[]>;

export function parseModulesDep(text: string): ModuleDeps {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(path, rest ? rest.split(/\s+/) : []);
  }
  return deps;
}

/** The module's name as modprobe knows it: file name without .ko(.xz|.zst), dashes as underscores. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.ko(\.\w+)?$/, '');
  return base.replace(/-/g, '_');
}

/**
 * The module files to load, dependencies first, for the given module names; each file once.
 * Used to make an initrd that loads its few drivers with plain insmod, no modprobe needed.
 */
export function moduleLoadOrder(deps: ModuleDeps, wanted: readonly string[], builtin: ReadonlySet<string> = new Set()): string[] {
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(moduleName(path), path);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string, chain: string[]) => {
    if (seen.has(path)) return;
    if (chain.includes(path)) throw new ImageError('MODULE_CYCLE', `kernel module dependency cycle: ${[...chain, path].join(' -> ')}`);
    for (const dep of deps.get(path) ?? []) visit(dep, [...chain, path]);
    seen.add(path);
    order.push(path);
  };
  for (const name of wanted) {
    const key = name.replace(/-/g, '_');
    if (builtin.has(key)) continue;
    const path = byName.get(key);
    if (!path) throw new ImageError('MODULE_MISSING', `kernel module ${name} is not in this kernel's modules.dep`);
    visit(path, []);
  }
  return order;
}

/** modules.builtin lists drivers compiled into the kernel, one path a line. */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}

/** Every module under one of the given subtrees (or naming that file), plus all they depend on. */
export function selectModuleClosure(deps: ModuleDeps, trees: readonly string[]): string[] {
  const picked = new Set<string>();
  const add = (path: string) => {
    if (picked.has(path)) return;
    picked.add(path);
    for (const dep of deps.get(path) ?? []) add(dep);
  };
  for (const path of deps.keys()) {
    if (trees.some((t) => path === t || path.startsWith(t.endsWith('/') ? t : `${t}/`))) add(path);
  }
  return [...picked].sort();
}
