import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { SessionError } from '../../errors.js';
import { baseIdentity, builtBaseIdentity } from '../../images/base-checksum.js';
import { parseSessionManifest, type SessionManifest } from '../../session/archive-manifest.js';
import { sessionPaths } from '../../session/paths.js';
import { kindOf } from '../kinds/index.js';
import type { HostPlan, LabPlan } from '../plan.js';
import { QEMUNET_VERSION } from '../version.js';

/**
 * An overlay only fits the base image it was made on: on another base (a restore on another
 * machine, or the same system rebuilt by a newer qemunet) the guest sees a corrupt disk and its
 * kernel panics. Each host's recorded base checksum (`qemunet-session.json`, which `save` also
 * writes) is compared with the base it would run on now; a difference stops the start (or, with
 * force, is a warning). A host whose overlay is gone starts afresh, so it is not checked. Gives the
 * hosts started anyway, whose record then follows the base they now run on.
 */
export async function checkBases(plan: LabPlan, cacheDir: string, force: boolean, notice: (m: string) => void): Promise<Set<string>> {
  const forced = new Set<string>();
  const manifest = parseSessionManifest(await readFile(sessionPaths(plan.dir).manifest, 'utf8').catch(() => ''));
  if (!manifest) return forced;
  for (const saved of manifest.hosts) {
    const host = plan.hosts.find((h) => h.name === saved.name);
    const disk = host && guestChanges(host);
    if (!host || !disk || !(await exists(disk))) continue;
    const here = await baseIdentity(host.system.fs, cacheDir);
    if (here.sha256 === saved.base.sha256) continue;
    const what = `the overlay of ${saved.name} was made on a base image of system ${saved.system} with sha256 ${saved.base.sha256} (${saved.base.bytes} bytes), but system ${host.system.name} here is ${host.system.fs} with sha256 ${here.sha256} (${here.bytes} bytes)`;
    if (!force) throw new SessionError('BASE_MISMATCH', `${what}; the guest would see a corrupt disk. Use the same base image, remove ${disk} to start ${saved.name} afresh (its changes are lost), or --force to start anyway`);
    notice(`warning: ${what}; starting anyway (--force)`);
    forced.add(saved.name);
  }
  return forced;
}

/**
 * Records the base of each overlay made (or started anyway) by this start, when its checksum costs nothing (a built
 * image's manifest has it; hashing a user's multi-GiB image on every first start would not be
 * worth it, and such bases are rarely replaced under a session).
 */
export async function recordBases(plan: LabPlan, hosts: ReadonlySet<string>): Promise<void> {
  if (hosts.size === 0) return;
  const file = sessionPaths(plan.dir).manifest;
  const manifest: SessionManifest = parseSessionManifest(await readFile(file, 'utf8').catch(() => '')) ?? { format: 'qemunet-session', version: 1, qemunetVersion: QEMUNET_VERSION, savedAt: new Date().toISOString(), hosts: [] };
  const entries = new Map(manifest.hosts.map((h) => [h.name, h]));
  for (const host of plan.hosts.filter((h) => hosts.has(h.name))) {
    const base = await builtBaseIdentity(host.system.fs);
    if (base) entries.set(host.name, { name: host.name, system: host.system.name, base });
    else entries.delete(host.name);
  }
  await writeFile(`${file}.${process.pid}`, `${JSON.stringify({ ...manifest, hosts: [...entries.values()] }, null, 2)}\n`);
  await rename(`${file}.${process.pid}`, file);
}

/** The file holding what a host's guest changed on its base (its kind's: a QEMU host's qcow2 overlay, a UML host's COW file). */
function guestChanges(host: HostPlan): string | undefined {
  return kindOf(host).save?.guestChanges(host);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
