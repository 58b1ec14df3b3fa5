import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256File } from './builder.js';
import { parseManifest } from './manifest.js';

export interface BaseIdentity {
  sha256: string;
  bytes: number;
}

type Cache = Record<string, { bytes: number; mtimeMs: number; sha256: string }>;

/**
 * The checksum of a base image, which says whether an overlay made on one machine fits the base on
 * another. Hashing gigabytes takes a while, so the result is kept per (path, size, mtime); a built
 * image's own manifest already holds it.
 */
export async function baseIdentity(image: string, cacheDir: string): Promise<BaseIdentity> {
  const built = await builtBaseIdentity(image);
  if (built) return built;
  const s = await stat(image);
  const cacheFile = join(cacheDir, 'base-checksums.json');
  const cache = (await readFile(cacheFile, 'utf8').then((t) => JSON.parse(t) as Cache).catch(() => ({}))) as Cache;
  const hit = cache[image];
  if (hit && hit.bytes === s.size && hit.mtimeMs === s.mtimeMs) return { sha256: hit.sha256, bytes: s.size };
  const sha256 = await sha256File(image);
  cache[image] = { bytes: s.size, mtimeMs: s.mtimeMs, sha256 };
  await mkdir(cacheDir, { recursive: true });
  await writeFile(`${cacheFile}.${process.pid}`, JSON.stringify(cache, null, 1));
  await rename(`${cacheFile}.${process.pid}`, cacheFile);
  return { sha256, bytes: s.size };
}

/** The checksum a built image's manifest holds for it (undefined for other files, or one that changed size). */
export async function builtBaseIdentity(image: string): Promise<BaseIdentity | undefined> {
  const s = await stat(image);
  const built = parseManifest(await readFile(join(dirname(image), 'manifest.json'), 'utf8').catch(() => ''))?.files[basename(image)];
  return built && built.bytes === s.size ? { sha256: built.sha256, bytes: s.size } : undefined;
}
