import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureOverlay } from '../../src/images/overlay.js';
import { qcow2BackingFile, qcow2BackingFormat, qcow2Overlay, qcow2Refusal } from '../../src/images/qcow2.js';
import { QemunetError } from '../../src/errors.js';
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

/** A temporary folder with a 64 MiB raw base in it. */
async function withBase(body: (dir: string, base: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'qemunet-qcow2-'));
  try {
    const base = join(dir, 'base.img');
    await writeFile(base, '');
    await truncate(base, 64 * 1024 ** 2);
    await body(dir, base);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const headerOf = async (file: string) => (await readFile(file)).subarray(0, 65536);

describe('an overlay from elsewhere (a session archive) is read before QEMU opens it', () => {
  it('passes the overlays qemunet and qemu-img make (qcow2 v3 and v2), with their backing format', async () => {
    await withBase(async (dir, base) => {
      assert.equal(qcow2Refusal(qcow2Overlay(base, GiB)!), undefined);
      for (const compat of ['1.1', '0.10']) {
        const o = join(dir, `o-${compat}.qcow2`);
        await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `compat=${compat}`, '-F', 'raw', '-b', base, o]);
        assert.equal(qcow2Refusal(await headerOf(o)), undefined);
        assert.equal(qcow2BackingFormat(await headerOf(o)), 'raw');
        assert.equal(await ensureOverlay(base, o), 'reused');
      }
    });
  });

  it('refuses one that names an external data file, and never touches that file', async () => {
    await withBase(async (dir, base) => {
      const victim = join(dir, 'victim');
      const o = join(dir, 'o.qcow2');
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${victim}`, o, '64M']);
      await writeFile(victim, 'a file of the machine\n');
      assert.equal(qcow2Refusal(await headerOf(o)), 'it keeps its data in an external file');
      // The bit cleared, the extension naming the file is still refused.
      const cleared = await readFile(o);
      cleared.writeBigUInt64BE(cleared.readBigUInt64BE(72) & ~4n, 72);
      assert.equal(qcow2Refusal(cleared.subarray(0, 65536)), 'its header names an external data file');
      await assert.rejects(ensureOverlay(base, o), (e: unknown) => e instanceof QemunetError && e.code === 'OVERLAY_UNSAFE' && e.message.includes(o) && e.message.includes('external file'));
      assert.equal(await readFile(victim, 'utf8'), 'a file of the machine\n');
    });
  });

  it('refuses encrypted images, unknown features, other files and headers cut short', async () => {
    await withBase(async (dir, base) => {
      // crypt_method 2 is LUKS (qemu-img's LUKS creation times its key derivation: too slow for a test).
      const enc = Buffer.from(qcow2Overlay(base, GiB)!);
      enc.writeUInt32BE(2, 32);
      assert.equal(qcow2Refusal(enc), 'it is encrypted');
      const unknown = Buffer.from(qcow2Overlay(base, GiB)!);
      unknown.writeBigUInt64BE(1n << 20n, 72);
      assert.equal(qcow2Refusal(unknown), 'it uses qcow2 features qemunet does not know (incompatible bits 0x100000)');
      assert.equal(qcow2Refusal(await headerOf(base)), 'it is not a qcow2 image');
      const v4 = Buffer.from(qcow2Overlay(base, GiB)!);
      v4.writeUInt32BE(4, 4);
      assert.equal(qcow2Refusal(v4), 'its qcow2 version 4 is neither 2 nor 3');
      const endless = Buffer.from(qcow2Overlay(base, GiB)!.subarray(0, 200));
      endless.writeUInt32BE(0x6803f857, 112);
      endless.writeUInt32BE(0xffffff, 116);
      assert.equal(qcow2Refusal(endless), 'its header extensions run past its first cluster');
      await assert.rejects(ensureOverlay(base, base), (e: unknown) => e instanceof QemunetError && e.code === 'OVERLAY_UNSAFE');
    });
  });

  it('rebases one whose backing file is anything else without opening it (a FIFO would hang a reader)', async () => {
    await withBase(async (dir, base) => {
      const fifo = join(dir, 'fifo');
      await run('mkfifo', [fifo]);
      const o = join(dir, 'o.qcow2');
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-F', 'raw', '-b', fifo, o, '64M']);
      assert.equal(await ensureOverlay(base, o), 'rebased');
      assert.deepEqual([qcow2BackingFile(await headerOf(o)), qcow2BackingFormat(await headerOf(o))], [base, 'raw']);
      // Recorded as qcow2 (or not at all): QEMU would read the base as that, so it is rebased to raw.
      await run('qemu-img', ['rebase', '-q', '-u', '-f', 'qcow2', '-F', 'qcow2', '-b', base, o]);
      assert.equal(await ensureOverlay(base, o), 'rebased');
      assert.equal(qcow2BackingFormat(await headerOf(o)), 'raw');
    });
  });
});
