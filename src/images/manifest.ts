import type { PinnedPackage } from './apt-plan.js';

export interface ImageManifest {
  system: string;
  /** The guest recipe it was built from; an image of an older recipe is rebuilt. */
  recipeVersion?: number;
  builtAt: string;
  buildSeconds: number;
  kernelVersion: string;
  /** tiny's User-Mode Linux kernel (`tiny-uml`), whose modules the image holds too. */
  umlKernelVersion?: string;
  packages: PinnedPackage[];
  files: Record<string, { sha256: string; bytes: number }>;
}

export function parseManifest(text: string): ImageManifest | undefined {
  try {
    const m = JSON.parse(text) as ImageManifest;
    return typeof m.system === 'string' && m.files ? m : undefined;
  } catch {
    return undefined;
  }
}
