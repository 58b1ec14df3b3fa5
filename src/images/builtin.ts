import { buildTinyImage, type BuildOptions } from './builder.js';
import { buildDebianImage } from './debian-builder.js';
import type { ImageManifest } from './manifest.js';

/** The systems qemunet builds itself, in the catalog's order. */
export const BUILTIN_SYSTEMS = ['tiny', 'debian'] as const;
export type BuiltinName = (typeof BUILTIN_SYSTEMS)[number];

const BUILDERS: Record<BuiltinName, (options: BuildOptions) => Promise<ImageManifest>> = {
  tiny: buildTinyImage,
  debian: buildDebianImage,
};

/** Builds (or finds built, for its recipe version) one built-in image in the store. */
export function buildBuiltinImage(name: BuiltinName, options: BuildOptions): Promise<ImageManifest> {
  return BUILDERS[name](options);
}
