import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureOverlay } from '../../src/images/overlay.js';
import { qcow2BackingFile, qcow2Overlay } from '../../src/images/qcow2.js';
import { run } from '../../src/process/run.js';

const GiB = 1024 ** 3;

describe('qcow2 overlay written in-process', () => {
  it('lays out header, backing format, name, refcounts and an empty L1 table', () => {
    const f = qcow2Overlay('/store/tiny.img', GiB)!;
    assert.equal(f.length, 3 * 65536 + 2 * 8);
    assert.equal(f.subarray(0, 4).toString('latin1'), 'QFI\xfb');
    assert.deepEqual([f.readUInt32BE(4), Number(f.readBigUInt64BE(8)), f.readUInt32BE(16), f.readUInt32BE(20)], [3, 136, 15, 16]);
    assert.deepEqual([Number(f.readBigUInt64BE(24)), f.readUInt32BE(36), Number(f.readBigUInt64BE(40)), Number(f.readBigUInt64BE(48)), f.readUInt32BE(56)], [GiB, 2, 0x30000, 0x10000, 1]);
    assert.deepEqual([f.readUInt32BE(96), f.readUInt32BE(100)], [4, 112]);
    assert.deepEqual([f.readUInt32BE(112).toString(16), f.readUInt32BE(116), f.subarray(120, 123).toString()], ['e2792aca', 3, 'raw']);
    assert.equal(qcow2BackingFile(f), '/store/tiny.img');
    assert.equal(Number(f.readBigUInt64BE(0x10000)), 0x20000);
    assert.deepEqual([0, 1, 2, 3, 4].map((c) => f.readUInt16BE(0x20000 + 2 * c)), [1, 1, 1, 1, 0]);
  });
  it('leaves to qemu-img what it does not write: odd sizes, huge images, names QEMU refuses', () => {
    assert.equal(qcow2Overlay('/b', 1000), undefined);
    assert.equal(qcow2Overlay('/b', 0), undefined);
    assert.equal(qcow2Overlay('/b', 8192 * 512 * 1024 ** 2 + 512), undefined);
    assert.equal(qcow2Overlay(`/${'x'.repeat(1023)}`, GiB), undefined);
    assert.equal(qcow2BackingFile(Buffer.from('not qcow2 at all, just bytes')), undefined);
  });
  it('is an image qemu-img checks clean, with the base, format and size qemu-img create gives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-qcow2-'));
    try {
      const base = join(dir, 'base,1.img');
      await writeFile(base, '');
      await truncate(base, 3 * GiB + 65536);
      const overlay = join(dir, 'o.qcow2');
      assert.equal(await ensureOverlay(base, overlay), 'created');
      await run('qemu-img', ['check', '-q', overlay]);
      const info = JSON.parse((await run('qemu-img', ['info', '--output=json', overlay])).stdout) as Record<string, unknown>;
      assert.deepEqual([info['format'], info['virtual-size'], info['backing-filename'], info['backing-filename-format'], info['cluster-size']], ['qcow2', 3 * GiB + 65536, base, 'raw', 65536]);
      // Data written through QEMU's own driver lands in the overlay, and the image stays clean.
      await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 1M 2M', overlay]);
      await run('qemu-img', ['check', '-q', overlay]);
      await run('qemu-io', ['-f', 'qcow2', '-r', '-c', 'read -P 0xab 1M 2M', overlay]);
      assert.equal(await ensureOverlay(base, overlay), 'reused');
      const moved = join(dir, 'moved.img');
      await writeFile(moved, '');
      await truncate(moved, 3 * GiB + 65536);
      assert.equal(await ensureOverlay(moved, overlay), 'rebased');
      assert.equal(await ensureOverlay(moved, overlay), 'reused');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
