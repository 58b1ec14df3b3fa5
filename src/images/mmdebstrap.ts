import type { PinnedPackage } from './apt-plan.js';

export interface MmdebstrapPlan {
  /** The host's release code name (VERSION_CODENAME of /etc/os-release). */
  suite: string;
  /** The host's apt source files: the guest comes from the same mirror, proxy and release as tiny. */
  sources: readonly string[];
  packages: readonly string[];
  excludedPaths: readonly string[];
  includedPaths: readonly string[];
  /** Kept .deb files, relative to mmdebstrap's working directory (special hooks split on spaces). */
  cacheDir: string;
  /** Shell commands run after the packages are installed, with the new root as $1. */
  customize: readonly string[];
  /**
   * A directory when building as root (no copy through a tarball); a tarball otherwise (unshare
   * mode: its owners are right only inside the tarball, which is unpacked under fakeroot).
   */
  out: { directory: string } | { tarball: string };
}

/**
 * mmdebstrap's command line for the `debian` image: the Essential set plus the recipe's packages,
 * no recommends (mmdebstrap's default), docs left out by dpkg, and the downloaded packages kept in
 * `cacheDir` (sync-in before, sync-out after; essential/unlink skipped so the essential ones stay too)
 * so that a rebuild downloads nothing new (apt still reads the mirror's package lists).
 */
export function mmdebstrapArgv(p: MmdebstrapPlan): string[] {
  return [
    '--variant=essential',
    `--include=${p.packages.join(',')}`,
    `--format=${'directory' in p.out ? 'directory' : 'tar'}`,
    // A throwaway root being built: dpkg need not fsync each file (most of its time on a busy disk).
    '--dpkgopt=force-unsafe-io',
    '--aptopt=Acquire::Languages "none"',
    ...p.excludedPaths.map((x) => `--dpkgopt=path-exclude=${x}`),
    ...p.includedPaths.map((x) => `--dpkgopt=path-include=${x}`),
    '--skip=essential/unlink',
    '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
    `--setup-hook=sync-in ${p.cacheDir} /var/cache/apt/archives/`,
    `--customize-hook=sync-out /var/cache/apt/archives ${p.cacheDir}`,
    ...p.customize.map((c) => `--customize-hook=${c}`),
    p.suite,
    'directory' in p.out ? p.out.directory : p.out.tarball,
    ...p.sources,
  ];
}

/** /etc/os-release's VERSION_CODENAME (bookworm, trixie, ...). */
export function codenameOf(osRelease: string): string | undefined {
  const m = /^VERSION_CODENAME="?([a-z0-9-]+)"?$/m.exec(osRelease);
  return m?.[1];
}

/** The installed packages and their versions, from dpkg's status file. */
export function installedPackages(status: string): PinnedPackage[] {
  const out: PinnedPackage[] = [];
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(stanza)?.[1];
    const name = field('Package');
    const version = field('Version');
    if (name && version && /install ok installed/.test(field('Status') ?? '')) out.push({ name, version });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
