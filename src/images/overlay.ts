import { open, stat, writeFile } from 'node:fs/promises';
import { run } from '../process/run.js';
import { qcow2BackingFile, qcow2Overlay } from './qcow2.js';

/** Enough of an overlay's start to hold its header and backing file name (both in its first cluster). */
const HEADER_READ = 65536;

/**
 * A host's qcow2 overlay on the read-only raw base. An existing overlay keeps the guest's changes:
 * it is reused, and rebased (metadata only) when its base image moved, as QemuNet does. A new one
 * is written in-process (see qcow2.ts), or by qemu-img for a layout qemunet does not write.
 */
export async function ensureOverlay(base: string, overlay: string, signal?: AbortSignal): Promise<'created' | 'reused' | 'rebased'> {
  const exists = await stat(overlay).then(() => true, () => false);
  if (!exists) {
    const bytes = qcow2Overlay(base, (await stat(base)).size);
    // 'wx': never over a file that appeared meanwhile.
    if (bytes) await writeFile(overlay, bytes, { flag: 'wx', ...(signal ? { signal } : {}) });
    else await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], signal ? { signal } : {});
    return 'created';
  }
  if ((await backingFileOf(overlay)) === base) return 'reused';
  const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', overlay], signal ? { signal } : {})).stdout) as { 'backing-filename'?: string; 'full-backing-filename'?: string };
  if (info['full-backing-filename'] === base || info['backing-filename'] === base) return 'reused';
  await run('qemu-img', ['rebase', '-q', '-u', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], signal ? { signal } : {});
  return 'rebased';
}

async function backingFileOf(overlay: string): Promise<string | undefined> {
  const file = await open(overlay, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEADER_READ), 0, HEADER_READ, 0);
    return qcow2BackingFile(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
