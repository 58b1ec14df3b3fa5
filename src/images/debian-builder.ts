import { mkdir, readFile, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError, ProcessError } from '../errors.js';
import { run } from '../process/run.js';
import { asRoot, buildInStore, downloadPackages, installGuestBoot, installKernel, resolveKernel, wrapRoot, writeManifest, type BuildOptions } from './builder.js';
import * as recipe from './debian-recipe.js';
import { guestFiles } from './guest-files.js';
import type { ImageManifest } from './manifest.js';
import { codenameOf, installedPackages, mmdebstrapArgv } from './mmdebstrap.js';
import { builtImagePaths, debCacheDir } from './store.js';
import { TINY_MODULE_TREES } from './tiny-recipe.js';

const NAME = 'debian';

/**
 * Builds the built-in `debian` system. Unlike tiny, its packages need their maintainer scripts
 * (system users, alternatives, apache's enabled modules, inetd.conf, sudo's group...), so mmdebstrap
 * installs them for real in a chroot, from the host's apt sources; doing those scripts' work by hand
 * for ~270 packages would be a second, worse dpkg. The kernel, initrd, kernel modules and the boot
 * (busybox init, start scripts, guest agent) are tiny's, so the guest contract is the same.
 */
export function buildDebianImage(options: BuildOptions): Promise<ImageManifest> {
  return buildInStore(NAME, recipe.DEBIAN_RECIPE_VERSION, options, buildInto);
}

async function buildInto(work: string, options: BuildOptions): Promise<ImageManifest> {
  const started = Date.now();
  const { signal, onProgress = () => {} } = options;
  const paths = builtImagePaths(work, NAME);
  await mkdir(paths.dir, { recursive: true });

  onProgress({ phase: 'resolve' });
  const kernelPkg = await resolveKernel(signal);
  const debs = await downloadPackages([kernelPkg], debCacheDir(options.storeDir), signal, onProgress);

  onProgress({ phase: 'install', detail: `${recipe.DEBIAN_PACKAGES.length} packages and their dependencies` });
  // mmdebstrap's special hooks split their arguments on spaces, so the cache is named relative to
  // the build directory (inside the store), whatever the store's own path holds.
  const cache = join(debCacheDir(options.storeDir), NAME);
  await mkdir(cache, { recursive: true });
  await symlink(join('..', '.debs', NAME), join(work, 'debs'));
  const tarball = join(work, 'debian.tar');
  const root = join(work, 'root');
  const asRootUser = process.getuid?.() === 0;
  const suite = await hostSuite();
  const argv = mmdebstrapArgv({
    suite,
    sources: await hostAptSources(suite),
    packages: recipe.DEBIAN_PACKAGES,
    excludedPaths: recipe.DEBIAN_EXCLUDED_PATHS,
    includedPaths: recipe.DEBIAN_INCLUDED_PATHS,
    cacheDir: './debs',
    customize: customizeHooks(),
    out: asRootUser ? { directory: root } : { tarball },
  });
  await runMmdebstrap(argv, work, signal);

  const fakerootState = join(work, 'fakeroot.state');
  if (!asRootUser) {
    onProgress({ phase: 'extract' });
    await mkdir(root);
    await writeFile(fakerootState, '');
    const [tar, tarArgs] = wrapRoot('tar', ['-x', '--numeric-owner', '-f', tarball, '-C', root], fakerootState);
    await run(tar, tarArgs, { signal });
    await rm(tarball);
  }

  onProgress({ phase: 'configure' });
  // Host keys are made by each guest at its first boot (see the sysinit), never shared through the image.
  for (const f of await readdir(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) await rm(join(root, 'etc/ssh', f));
  await rm(join(root, 'etc/machine-id'), { force: true });
  await installGuestBoot(root, guestFiles('debian', [
        { path: 'etc/ssh/sshd_config.d/qemunet.conf', content: recipe.DEBIAN_SSHD_CONFIG, mode: 0o644 },
        { path: 'etc/default/ssh', content: recipe.DEBIAN_SSH_DEFAULTS, mode: 0o644 },
      ]), signal);
  const packages = installedPackages(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'));

  const kernelVersion = await installKernel(debs.get(kernelPkg.name)!, work, root, paths, TINY_MODULE_TREES, NAME, options);

  onProgress({ phase: 'disk' });
  await writeFile(paths.fs, '');
  await truncate(paths.fs, recipe.DEBIAN_DISK_BYTES);
  await asRoot('mkfs.ext4', ['-q', '-F', '-L', 'debian-root', '-d', root, paths.fs], fakerootState, signal);
  return writeManifest(paths, { system: NAME, recipeVersion: recipe.DEBIAN_RECIPE_VERSION, started, kernelVersion, packages: [...packages, kernelPkg] }, onProgress);
}

/** Run inside the new root once its packages are installed ($1 is the root; the commands are the recipe's own, no input reaches them). */
function customizeHooks(): string[] {
  return [
    `chroot "$1" useradd --create-home --shell /bin/bash --groups sudo --password '${recipe.DEBIAN_PASSWORD_HASH}' ${recipe.DEBIAN_USER}`,
    `chroot "$1" usermod --password '${recipe.DEBIAN_PASSWORD_HASH}' root`,
    // inetutils-telnetd registers itself with update-inetd, which does nothing when it is configured
    // before openbsd-inetd has made inetd.conf: the line is written here, so `service openbsd-inetd start` serves telnet.
    `grep -q '^telnet' "$1"/etc/inetd.conf || printf '${recipe.DEBIAN_INETD_TELNET}\\n' >> "$1"/etc/inetd.conf`,
  ];
}

async function runMmdebstrap(argv: string[], cwd: string, signal?: AbortSignal): Promise<void> {
  try {
    await run('mmdebstrap', argv, { cwd, signal, env: { ...process.env, LC_ALL: 'C' } });
  } catch (e) {
    if (e instanceof ProcessError) {
      const tail = e.output.trim().split('\n').slice(-15).join('\n');
      throw new ImageError('MMDEBSTRAP_FAILED', `mmdebstrap could not install the packages of the debian image (it needs root, or unprivileged user namespaces, and the Debian mirror of the apt sources):\n${tail}`, { cause: e });
    }
    throw e;
  }
}

async function hostSuite(): Promise<string> {
  const suite = codenameOf(await readFile('/etc/os-release', 'utf8').catch(() => ''));
  if (!suite) throw new ImageError('NO_SUITE', 'building the debian image needs the Debian release of this host (VERSION_CODENAME in /etc/os-release)');
  return suite;
}

/**
 * The host's apt source files of its Debian release, handed to mmdebstrap as they are (one-line or
 * deb822): the same mirror (or local cache) as tiny's packages. Third-party repositories (their own
 * suite names, keys the chroot lacks) are left out.
 */
async function hostAptSources(suite: string): Promise<string[]> {
  const files: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  const candidates = ['/etc/apt/sources.list', ...(await readdir(dir).catch(() => [] as string[])).filter((f) => /\.(list|sources)$/.test(f)).sort().map((f) => join(dir, f))];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (new RegExp(`^[^#\\n]*\\b${suite}\\b`, 'm').test(text)) files.push(file);
  }
  if (!files.length) throw new ImageError('NO_APT_SOURCES', 'building the debian image needs apt sources (/etc/apt/sources.list or /etc/apt/sources.list.d/*)');
  return files;
}
