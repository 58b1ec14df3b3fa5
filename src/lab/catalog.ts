import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { builtinCatalog, mergeCatalog, type Catalog } from '../config/catalog.js';
import { parseQemunetCfg } from '../config/qemunet-cfg.js';
import { QemunetError } from '../errors.js';
import { builtImagePaths } from '../images/store.js';

export interface CatalogOptions {
  /** The qemunet.cfg to read; else ./qemunet.cfg when it exists. */
  configFile?: string;
  cwd?: string;
  /** Where built images are kept (the caller finds it; cli/ from its environment). */
  storeDir: string;
  /** The user's home directory, for `${HOME}` in qemunet.cfg. */
  home: string;
}

export interface LoadedCatalog {
  catalog: Catalog;
  storeDir: string;
  /** The config files that were read, for "unknown system" messages. */
  configFiles: string[];
  notes: string[];
}

/** The systems a topology can use: built-in ones merged with qemunet.cfg, looked up as QemuNet does. */
export async function loadCatalog(options: CatalogOptions): Promise<LoadedCatalog> {
  const storeDir = options.storeDir;
  const cwd = options.cwd ?? process.cwd();
  const configFiles: string[] = [];
  const candidate = options.configFile ? resolve(cwd, options.configFile) : resolve(cwd, 'qemunet.cfg');
  const parsed = [];
  const present = await stat(candidate).then((s) => s.isFile(), () => false);
  if (options.configFile && !present) throw new QemunetError('CONFIG_MISSING', `config file ${candidate} does not exist or is not a file`);
  if (present) {
    const text = await readFile(candidate, 'utf8');
    configFiles.push(candidate);
    parsed.push(parseQemunetCfg(text, candidate, { qemunetDir: dirname(candidate), configDir: dirname(candidate), env: { HOME: options.home } }));
  }
  const { catalog, notes } = mergeCatalog(builtinCatalog((name) => builtImagePaths(storeDir, name)), parsed);
  return { catalog, storeDir, configFiles, notes };
}
