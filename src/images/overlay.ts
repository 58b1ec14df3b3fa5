import { stat } from 'node:fs/promises';
import { run } from '../process/run.js';

/**
 * A host's qcow2 overlay on the read-only raw base. An existing overlay keeps the guest's changes:
 * it is reused, and rebased (metadata only) when its base image moved, as QemuNet does.
 */
export async function ensureOverlay(base: string, overlay: string, signal?: AbortSignal): Promise<'created' | 'reused' | 'rebased'> {
  const exists = await stat(overlay).then(() => true, () => false);
  if (!exists) {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], signal ? { signal } : {});
    return 'created';
  }
  const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', overlay], signal ? { signal } : {})).stdout) as { 'backing-filename'?: string; 'full-backing-filename'?: string };
  if (info['full-backing-filename'] === base || info['backing-filename'] === base) return 'reused';
  await run('qemu-img', ['rebase', '-q', '-u', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], signal ? { signal } : {});
  return 'rebased';
}
