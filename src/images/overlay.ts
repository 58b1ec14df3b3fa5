import { open, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { QemunetError } from '../errors.js';
import { run } from '../process/run.js';
import { qcow2BackingFile, qcow2BackingFormat, qcow2Overlay, qcow2Refusal } from './qcow2.js';

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
  const header = await headerOf(overlay);
  const refusal = qcow2Refusal(header);
  if (refusal) throw new QemunetError('OVERLAY_UNSAFE', `${overlay} is not given to QEMU: ${refusal}. A host's overlay must be a plain qcow2 file on its base image, as qemunet and QemuNet make them; remove it to start the host afresh`);
  // A relative name is relative to the overlay's folder, as QEMU reads it; a base read as anything
  // but raw (a recorded format, or none and QEMU probing) is rebased to raw too.
  const backing = qcow2BackingFile(header);
  if (backing !== undefined && resolve(dirname(overlay), backing) === base && qcow2BackingFormat(header) === 'raw') return 'reused';
  // -u: only the header changes, and the old backing file is never opened (it may name anything).
  await run('qemu-img', ['rebase', '-q', '-u', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], signal ? { signal } : {});
  return 'rebased';
}

async function headerOf(overlay: string): Promise<Buffer> {
  const file = await open(overlay, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEADER_READ), 0, HEADER_READ, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
