/** A Debian package pinned to the version apt chose. */
export interface PinnedPackage {
  name: string;
  version: string;
}

/**
 * Parses `apt-get install --simulate` output ("Inst libc6 (2.36-9 Debian:12/stable [amd64])").
 * Simulating against an empty dpkg status gives the full dependency closure from apt's own solver,
 * virtual packages and version constraints included.
 */
export function parseSimulatedInstall(text: string): PinnedPackage[] {
  const out: PinnedPackage[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/.exec(line);
    if (m) out.push({ name: m[1]!, version: m[2]! });
  }
  return out;
}

/** apt's "E: Unable to locate package foo" and friends, turned into the package names at fault. */
export function missingPackagesIn(aptError: string): string[] {
  const names = new Set<string>();
  for (const m of aptError.matchAll(/Unable to locate package (\S+)|Package '?([^\s']+)'? has no installation candidate/g)) {
    names.add((m[1] ?? m[2])!);
  }
  return [...names];
}

/** Keeps the packages whose files belong in the image: drops the ones only maintainer scripts need. */
export function packagesToExtract(all: readonly PinnedPackage[], excluded: readonly RegExp[]): PinnedPackage[] {
  return all.filter((p) => !excluded.some((re) => re.test(p.name)));
}

