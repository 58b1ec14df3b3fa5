import type { BuiltImagePaths } from '../images/store.js';
import type { ParsedConfig, SystemDecl } from './qemunet-cfg.js';

/** A system a topology can name, fully resolved. */
export interface SystemEntry {
  name: string;
  /** QemuNet's SYS value: linux, windows, ...; `uml`: a User-Mode Linux system (FS its root filesystem, KERNEL its `linux` binary, optional). */
  sys: string;
  fs: string;
  kernel?: string;
  initrd?: string;
  url?: string;
  qemuopt: string;
  /** Set for systems qemunet builds itself (`tiny`, `debian`). */
  builtin?: 'tiny' | 'debian';
  /** Where it was declared: "built-in" or file:line. */
  source: string;
}

export type Catalog = ReadonlyMap<string, SystemEntry>;

/**
 * The systems qemunet builds: `tiny`, `debian` for QemuNet's labs (which name their system so),
 * and `tiny-uml`: tiny's root filesystem under Debian's User-Mode Linux kernel (package user-mode-linux,
 * built into the store with tiny, which holds that kernel's modules).
 */
export function builtinCatalog(images: (name: 'tiny' | 'debian') => BuiltImagePaths): Map<string, SystemEntry> {
  const catalog = new Map<string, SystemEntry>(
    (['tiny', 'debian'] as const).map((name) => {
      const p = images(name);
      return [name, { name, sys: 'linux', fs: p.fs, kernel: p.kernel, initrd: p.initrd, qemuopt: '', builtin: name, source: 'built-in' } satisfies SystemEntry];
    }),
  );
  // Its kernel is the store's (built with tiny, whose root holds that kernel's modules), not /usr/bin/linux.uml.
  const tiny = images('tiny');
  catalog.set('tiny-uml', { name: 'tiny-uml', sys: 'uml', fs: tiny.fs, kernel: tiny.umlKernel, qemuopt: '', builtin: 'tiny', source: 'built-in' });
  return catalog;
}

/** Config systems override built-in ones of the same name; a system without FS is left out with a note. */
export function mergeCatalog(base: Map<string, SystemEntry>, configs: readonly ParsedConfig[]): { catalog: Map<string, SystemEntry>; notes: string[] } {
  const catalog = new Map(base);
  const notes: string[] = [];
  for (const cfg of configs) {
    for (const d of cfg.systems.values()) {
      const entry = toEntry(d);
      if (entry) catalog.set(d.name, entry);
      else notes.push(`${d.declaredAt}: system ${d.name} has no FS[${d.name}], so it is left out`);
    }
  }
  return { catalog, notes };
}

function toEntry(d: SystemDecl): SystemEntry | undefined {
  if (!d.fs) return undefined;
  return {
    name: d.name,
    sys: d.sys ?? 'linux',
    fs: d.fs,
    ...(d.kernel ? { kernel: d.kernel } : {}),
    ...(d.initrd ? { initrd: d.initrd } : {}),
    ...(d.url ? { url: d.url } : {}),
    qemuopt: d.qemuopt ?? '',
    source: d.declaredAt,
  };
}
