import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, symlink, truncate, writeFile, lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ImageError, ProcessError, QemunetError } from '../errors.js';
import { missingProgramMessage } from '../process/programs.js';
import { hasProgram, run } from '../process/run.js';
import { missingPackagesIn, packagesToExtract, parseSimulatedInstall, type PinnedPackage } from './apt-plan.js';
import { elfLength, findBzImagePayload } from './bzimage.js';
import { buildCpio, type CpioEntry } from './cpio.js';
import { guestFiles, initrdInit, type GuestFile } from './guest-files.js';
import { moduleLoadOrder, parseModulesBuiltin } from './kernel-modules.js';
import { installModuleTree } from './module-tree.js';
import type { ImageManifest } from './manifest.js';
import { builtImagePaths, debCacheDir, type BuiltImagePaths } from './store.js';
import { removeBuildDir } from './build-dir.js';
import { withStoreLock, removeStaleBuilds } from './store-lock.js';
import * as recipe from './tiny-recipe.js';

export type BuildPhase = 'resolve' | 'download' | 'install' | 'extract' | 'configure' | 'kernel' | 'initrd' | 'disk' | 'finish';
export interface BuildProgress {
  phase: BuildPhase;
  /** The image being built (tiny, debian). */
  system?: string;
  done?: number;
  total?: number;
  detail?: string;
}

export interface BuildOptions {
  storeDir: string;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  /** Rebuild even if the image is there. */
  force?: boolean;
}

const NAME = 'tiny';
const REQUIRED_PROGRAMS = ['apt-get', 'dpkg-deb', 'tar', 'mkfs.ext4', 'depmod', 'xz'];
/** debian runs Debian's maintainer scripts: mmdebstrap installs its packages in a chroot. */
const EXTRA_PROGRAMS: Record<string, string[]> = { debian: ['mmdebstrap'], tiny: ['strip'] };

/**
 * Builds the built-in `tiny` system into the store from the host's Debian package repository:
 * `apt-get download` + `dpkg-deb`, no root, no chroot, no maintainer scripts.
 */
export function buildTinyImage(options: BuildOptions): Promise<ImageManifest> {
  return buildInStore(NAME, recipe.TINY_RECIPE_VERSION, options, buildInto);
}

/**
 * The store side of every built-in image: one build at a time, kept while its recipe version holds,
 * made in a temporary directory inside the store and renamed into place at the end, so an
 * interrupted build leaves nothing half-made.
 */
export async function buildInStore(name: string, recipeVersion: number, options: BuildOptions, build: (work: string, options: BuildOptions) => Promise<ImageManifest>): Promise<ImageManifest> {
  const { storeDir, signal } = options;
  await mkdir(storeDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new ImageError('STORE_NOT_WRITABLE', `cannot create the image store ${storeDir}: ${e.message}`, { cause: e });
  });
  return withStoreLock(storeDir, name, signal, async () => {
    const final = builtImagePaths(storeDir, name);
    const current = await readFile(final.manifest, 'utf8').then((t) => JSON.parse(t) as ImageManifest, () => undefined);
    if (!options.force && current?.recipeVersion === recipeVersion) return current;
    await removeStaleBuilds(storeDir);
    await checkPrograms(name);
    const work = join(storeDir, `.build-${name}-${process.pid}-${Date.now().toString(36)}`);
    const onProgress = options.onProgress;
    const tagged: BuildOptions = { ...options, ...(onProgress ? { onProgress: (p: BuildProgress) => onProgress({ ...p, system: name }) } : {}) };
    try {
      await mkdir(work, { recursive: true });
      const manifest = await build(work, tagged);
      if (await exists(final.dir)) await rm(final.dir, { recursive: true, force: true });
      await rename(builtImagePaths(work, name).dir, final.dir);
      return manifest;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw translateBuildError(e, name);
    } finally {
      await removeBuildDir(work);
    }
  });
}

async function buildInto(work: string, options: BuildOptions): Promise<ImageManifest> {
  const started = Date.now();
  const { signal, onProgress = () => {} } = options;
  // Laid out as in the store, so the finished folder is renamed into place as it is.
  const paths = builtImagePaths(work, NAME);
  await mkdir(paths.dir, { recursive: true });

  onProgress({ phase: 'resolve' });
  const userland = packagesToExtract(await resolveClosure(recipe.TINY_PACKAGES, signal), recipe.TINY_EXCLUDED_PACKAGES);
  const kernelPkg = await resolveKernel(signal);
  const umlPkg = await resolvePackage(recipe.TINY_UML_KERNEL_PACKAGE, /^user-mode-linux$/, signal);
  const all = [...userland, kernelPkg, umlPkg];

  const debs = await downloadPackages(all, debCacheDir(options.storeDir), signal, onProgress);

  const root = join(work, 'root');
  await makeMergedUsr(root);
  const fakerootState = join(work, 'fakeroot.state');
  let done = 0;
  for (const p of userland) {
    onProgress({ phase: 'extract', done: done++, total: userland.length, detail: p.name });
    await extractDeb(debs.get(p.name)!, root, fakerootState, signal);
  }

  onProgress({ phase: 'configure' });
  for (const pruned of recipe.TINY_PRUNED_PATHS) await rm(join(root, pruned), { recursive: true, force: true });
  for (const [link, target] of Object.entries(recipe.TINY_ALTERNATIVES)) {
    await rm(join(root, link), { force: true });
    await symlink(target, join(root, link));
  }
  await installGuestBoot(root, guestFiles('tiny'), signal);

  const kernelVersion = await installKernel(debs.get(kernelPkg.name)!, work, root, paths, recipe.TINY_MODULE_TREES, NAME, options);
  const umlKernelVersion = await installUmlKernel(debs.get(umlPkg.name)!, work, root, paths, recipe.TINY_UML_MODULE_TREES, signal);

  onProgress({ phase: 'disk' });
  await writeFile(paths.fs, '');
  await truncate(paths.fs, recipe.TINY_DISK_BYTES);
  await asRoot('mkfs.ext4', ['-q', '-F', '-L', 'tiny-root', '-d', root, paths.fs], fakerootState, signal);
  return writeManifest(paths, { system: NAME, recipeVersion: recipe.TINY_RECIPE_VERSION, started, kernelVersion, umlKernelVersion, packages: all }, onProgress);
}

/** Checksums of the image files and what it was built from, written last (its presence means a whole image). */
export async function writeManifest(paths: BuiltImagePaths, m: { system: string; recipeVersion: number; started: number; kernelVersion: string; umlKernelVersion?: string; packages: PinnedPackage[] }, onProgress: (p: BuildProgress) => void): Promise<ImageManifest> {
  onProgress({ phase: 'finish' });
  const files: ImageManifest['files'] = {};
  for (const path of [paths.fs, paths.kernel, paths.initrd, paths.compressedKernel, ...(m.umlKernelVersion ? [paths.umlKernel] : [])]) {
    files[basename(path)] = { sha256: await sha256File(path), bytes: (await stat(path)).size };
  }
  const manifest: ImageManifest = {
    system: m.system,
    recipeVersion: m.recipeVersion,
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - m.started) / 100) / 10,
    kernelVersion: m.kernelVersion,
    ...(m.umlKernelVersion ? { umlKernelVersion: m.umlKernelVersion } : {}),
    packages: m.packages,
    files,
  };
  await writeFile(paths.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Debian's kernel for a built-in image: the modules of `moduleTrees` into the guest's root, the
 * kernel both as Debian ships it and as the uncompressed ELF booted through PVH, and the initrd that
 * reaches the root disk. Returns the kernel version.
 */
export async function installKernel(kernelDeb: string, work: string, root: string, paths: BuiltImagePaths, moduleTrees: readonly string[], system: string, options: BuildOptions): Promise<string> {
  const { signal, onProgress = () => {} } = options;
  onProgress({ phase: 'kernel' });
  const kernelTree = join(work, 'kernel');
  await mkdir(kernelTree, { recursive: true });
  await extractDeb(kernelDeb, kernelTree, undefined, signal);
  const kernelVersion = (await readdir(join(kernelTree, 'lib/modules')))[0]!;
  const moduleDir = join(kernelTree, 'lib/modules', kernelVersion);
  // The package leaves modules.dep to its maintainer script; make it here.
  await run('depmod', ['-b', kernelTree, kernelVersion], { signal });
  const deps = await installModuleTree(moduleDir, root, kernelVersion, moduleTrees, signal);
  const builtin = parseModulesBuiltin(await readFile(join(moduleDir, 'modules.builtin'), 'utf8'));
  const vmlinuz = join(kernelTree, 'boot', `vmlinuz-${kernelVersion}`);
  await copyFile(vmlinuz, paths.compressedKernel);
  await writeFile(paths.kernel, await decompressKernel(await readFile(vmlinuz), signal));

  onProgress({ phase: 'initrd' });
  const virtio = moduleLoadOrder(deps, ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4'], builtin);
  const ata = moduleLoadOrder(deps, ['ata_piix', 'ahci', 'sd_mod'], builtin).filter((m) => !virtio.includes(m));
  const busybox = await readFile(join(root, 'bin/busybox'));
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'].map((path): CpioEntry => ({ kind: 'dir', path })),
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'file', path: 'init', data: new TextEncoder().encode(initrdInit(virtio.map(flat), ata.map(flat), system)), mode: 0o755 },
  ];
  for (const m of [...virtio, ...ata]) entries.push({ kind: 'file', path: `lib/modules/${flat(m)}`, data: await readFile(join(moduleDir, m)) });
  await writeFile(paths.initrd, buildCpio(entries));

  return kernelVersion;
}

/**
 * Debian's User-Mode Linux kernel for `tiny-uml`: its `linux` binary into the store, its modules
 * (the lab trees, debug information stripped) into the guest's root. Returns the kernel version.
 */
export async function installUmlKernel(umlDeb: string, work: string, root: string, paths: BuiltImagePaths, moduleTrees: readonly string[], signal?: AbortSignal): Promise<string> {
  const tree = join(work, 'uml-kernel');
  await mkdir(tree, { recursive: true });
  await extractDeb(umlDeb, tree, undefined, signal);
  const modules = join(tree, 'usr/lib/uml/modules');
  const version = (await readdir(modules))[0];
  if (!version) throw new ImageError('KERNEL_FORMAT', `${basename(umlDeb)} holds no modules in /usr/lib/uml/modules`);
  await installModuleTree(join(modules, version), root, version, moduleTrees, signal, true);
  await copyFile(join(tree, 'usr/bin/linux.uml'), paths.umlKernel);
  await chmod(paths.umlKernel, 0o755);
  return version;
}

/** The package of a kernel named in the recipe (not its dependencies), pinned to apt's candidate. */
async function resolvePackage(name: string, pattern: RegExp, signal?: AbortSignal): Promise<PinnedPackage> {
  const pkg = (await resolveClosure([name], signal)).find((p) => pattern.test(p.name));
  if (!pkg) throw new ImageError('PACKAGE_NOT_FOUND', `no package ${name} in the apt sources; check them (apt-get update)`);
  return pkg;
}

/** The kernel package behind Debian's linux-image-amd64, pinned: tiny and debian boot the same one. */
export function resolveKernel(signal?: AbortSignal): Promise<PinnedPackage> {
  return resolvePackage(recipe.TINY_KERNEL_PACKAGE, /^linux-image-\d/, signal);
}

/**
 * The boot of docs/guest.md, shared by the built-in images: busybox init (and the busybox applets no
 * package provided: init, acpid, poweroff, usleep, ...), qemunet's files, the mount points.
 */
export async function installGuestBoot(root: string, files: readonly GuestFile[], signal?: AbortSignal): Promise<void> {
  await installBusyboxApplets(root, signal);
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await rm(join(root, f.path), { force: true });
    await writeFile(join(root, f.path), f.content);
    await chmod(join(root, f.path), f.mode);
  }
  await rm(join(root, 'sbin/init'), { force: true });
  await symlink('/bin/busybox', join(root, 'usr/sbin/init'));
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'mnt/host', 'mnt/disk', 'root', 'var/log']) await mkdir(join(root, d), { recursive: true });
}

/** Initrd modules live flat in /lib/modules of the initrd. */
function flat(modulePath: string): string {
  return modulePath.slice(modulePath.lastIndexOf('/') + 1);
}

async function checkPrograms(name: string): Promise<void> {
  if (!(await hasProgram('apt-get'))) {
    throw new ImageError(
      'NO_APT',
      `building the ${name} image needs a Debian-like host (apt-get was not found). On other systems, declare an image of your own in qemunet.cfg: SYS[name]="linux", FS[name]="/path/to/disk.img", and optionally KERNEL[name] and INITRD[name].`,
    );
  }
  for (const p of [...REQUIRED_PROGRAMS, ...(EXTRA_PROGRAMS[name] ?? [])]) {
    if (!(await hasProgram(p))) throw new QemunetError('PROGRAM_MISSING', missingProgramMessage(p));
  }
}

/** apt's own solver against an empty dpkg status gives the full closure, as on a bare system. */
async function resolveClosure(packages: readonly string[], signal?: AbortSignal): Promise<PinnedPackage[]> {
  try {
    const { stdout } = await run(
      'apt-get',
      ['install', '--simulate', '--no-install-recommends', '-o', 'Dir::State::Status=/dev/null', '-o', 'Debug::NoLocking=1', ...packages],
      { signal, env: { ...process.env, LC_ALL: 'C' } },
    );
    return parseSimulatedInstall(stdout);
  } catch (e) {
    if (e instanceof ProcessError) {
      const missing = missingPackagesIn(e.output);
      if (missing.length) {
        throw new ImageError('PACKAGE_NOT_FOUND', `Debian package ${missing.join(', ')} was not found in the apt sources. Check /etc/apt/sources.list(.d) and run apt-get update.`, { cause: e });
      }
      throw new ImageError('APT_FAILED', `apt could not resolve the packages of the built-in image:\n${e.output}`, { cause: e });
    }
    throw e;
  }
}

export async function downloadPackages(pkgs: readonly PinnedPackage[], cache: string, signal: AbortSignal | undefined, onProgress: (p: BuildProgress) => void): Promise<Map<string, string>> {
  await mkdir(cache, { recursive: true });
  const found = async () => {
    const files = await readdir(cache);
    const map = new Map<string, string>();
    for (const p of pkgs) {
      const prefix = `${p.name}_${p.version.replace(/:/g, '%3a')}_`;
      const f = files.find((n) => n.startsWith(prefix) && n.endsWith('.deb'));
      if (f) map.set(p.name, join(cache, f));
    }
    return map;
  };
  const have = await found();
  const missing = pkgs.filter((p) => !have.has(p.name));
  onProgress({ phase: 'download', done: pkgs.length - missing.length, total: pkgs.length });
  const BATCH = 20;
  for (let i = 0; i < missing.length; i += BATCH) {
    const batch = missing.slice(i, i + BATCH);
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    try {
      await run('apt-get', ['download', ...sandbox, ...batch.map((p) => `${p.name}=${p.version}`)], { cwd: cache, signal, env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      if (e instanceof ProcessError) {
        throw new ImageError('DOWNLOAD_FAILED', `downloading ${batch.map((p) => p.name).join(', ')} failed; check the network and the apt sources:\n${e.output}`, { cause: e });
      }
      throw e;
    }
    onProgress({ phase: 'download', done: pkgs.length - missing.length + i + batch.length, total: pkgs.length });
  }
  const all = await found();
  const absent = pkgs.filter((p) => !all.has(p.name));
  if (absent.length) throw new ImageError('DOWNLOAD_FAILED', `apt-get download did not produce ${absent.map((p) => p.name).join(', ')}`);
  return all;
}

/** Debian 12 is merged-/usr: /bin, /sbin and /lib are links into /usr, and tar must keep them. */
async function makeMergedUsr(root: string): Promise<void> {
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
    await mkdir(join(root, 'usr', d), { recursive: true });
    await symlink(`usr/${d}`, join(root, d));
  }
}

/** dpkg-deb --fsys-tarfile | tar -x, without a shell. Under fakeroot when not root, so files are root's. */
export function extractDeb(deb: string, into: string, fakerootState: string | undefined, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const dpkg = spawn('dpkg-deb', ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const tarArgs = ['-x', '--keep-directory-symlink', '-C', into, ...recipe.TINY_PRUNED_PATHS.map((p) => `--exclude=./${p}`)];
    const [cmd, args] = wrapRoot('tar', tarArgs, fakerootState);
    const tar = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], signal });
    dpkg.stdout.pipe(tar.stdin!);
    tar.stdin!.on('error', () => {});
    let err = '';
    dpkg.stderr.on('data', (d) => (err += d));
    tar.stderr?.on('data', (d) => (err += d));
    let pending = 2;
    const finish = (code: number | null) => {
      if (code !== 0) return reject(new ImageError('EXTRACT_FAILED', `extracting ${deb} failed: ${err.trim() || `exit ${code}`}`));
      if (--pending === 0) resolve();
    };
    dpkg.on('error', reject);
    tar.on('error', reject);
    dpkg.on('exit', finish);
    tar.on('close', finish);
  });
}

export function wrapRoot(cmd: string, args: string[], state: string | undefined): [string, string[]] {
  if (!state || process.getuid?.() === 0) return [cmd, args];
  return ['fakeroot', ['-i', state, '-s', state, '--', cmd, ...args]];
}

export async function asRoot(cmd: string, args: string[], state: string, signal?: AbortSignal): Promise<void> {
  if (process.getuid?.() !== 0 && !(await exists(state))) await writeFile(state, '');
  const [c, a] = wrapRoot(cmd, args, state);
  await run(c, a, { signal });
}

/** Links every busybox applet that no real package provided (init, acpid, udhcpc, vconfig, ...). */
async function installBusyboxApplets(root: string, signal?: AbortSignal): Promise<void> {
  const { stdout } = await run(join(root, 'bin/busybox'), ['--list-full'], { signal });
  for (const applet of stdout.split('\n').filter(Boolean)) {
    const target = join(root, applet.replace(/^(s?bin)\//, 'usr/$1/'));
    const alt = join(root, 'usr/bin', applet.slice(applet.lastIndexOf('/') + 1));
    const altS = join(root, 'usr/sbin', applet.slice(applet.lastIndexOf('/') + 1));
    if ((await exists(target)) || (await exists(alt)) || (await exists(altS))) continue;
    await mkdir(dirname(target), { recursive: true });
    await symlink('/bin/busybox', target);
  }
}

async function decompressKernel(vmlinuz: Buffer, signal?: AbortSignal): Promise<Uint8Array> {
  const payload = findBzImagePayload(vmlinuz);
  const tools: Record<string, [string, string[]]> = {
    xz: ['xz', ['-dc', '--single-stream']],
    gzip: ['gzip', ['-dc']],
    zstd: ['zstd', ['-dc']],
  };
  const tool = tools[payload.compression];
  if (!tool) throw new ImageError('KERNEL_FORMAT', `the kernel payload is ${payload.compression}-compressed, which qemunet cannot unpack`);
  const { stdoutBytes: elf } = await run(tool[0], tool[1], { input: vmlinuz.subarray(payload.offset, payload.offset + payload.length), signal });
  return elf.subarray(0, elfLength(elf));
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function translateBuildError(e: unknown, name: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOSPC') return new ImageError('DISK_FULL', `the disk is full: the ${name} image build was abandoned and its temporary files removed`, { cause: e });
  if (err?.code === 'EACCES' || err?.code === 'EROFS') return new ImageError('STORE_NOT_WRITABLE', `the image store is not writable: ${err.message}`, { cause: e });
  if (e instanceof ProcessError && /No space left on device/.test(e.output)) return new ImageError('DISK_FULL', `the disk is full: the ${name} image build was abandoned and its temporary files removed`, { cause: e });
  return e;
}
