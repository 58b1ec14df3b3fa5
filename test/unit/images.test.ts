import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingPackagesIn, packagesToExtract, parseSimulatedInstall } from '../../src/images/apt-plan.js';
import { elfLength, findBzImagePayload } from '../../src/images/bzimage.js';
import { buildCpio } from '../../src/images/cpio.js';
import { moduleLoadOrder, moduleName, parseModulesBuiltin, parseModulesDep, selectModuleClosure } from '../../src/images/kernel-modules.js';
import { builtImagePaths, imageStoreDir } from '../../src/images/store.js';

describe('apt plan', () => {
  it('reads the closure apt simulates, versions included', () => {
    const text = 'NOTE: This is only a simulation!\nInst libc6 (2.36-9+deb12u10 Debian:12.11/stable [amd64])\nInst busybox-static (1:1.35.0-4+b1 Debian:12/stable [amd64])\nConf libc6 (2.36-9+deb12u10 Debian:12.11/stable [amd64])\n';
    assert.deepEqual(parseSimulatedInstall(text), [
      { name: 'libc6', version: '2.36-9+deb12u10' },
      { name: 'busybox-static', version: '1:1.35.0-4+b1' },
    ]);
  });
  it('names the packages apt could not find', () => {
    assert.deepEqual(missingPackagesIn('E: Unable to locate package nosuchpkg\nE: Package \'old\' has no installation candidate'), ['nosuchpkg', 'old']);
  });
  it('drops the packages only maintainer scripts need', () => {
    const all = [{ name: 'perl-base', version: '1' }, { name: 'perl', version: '1' }, { name: 'libfile-find-rule-perl', version: '1' }, { name: 'bash', version: '5' }];
    assert.deepEqual(packagesToExtract(all, [/^perl$/, /-perl$/]), [{ name: 'perl-base', version: '1' }, { name: 'bash', version: '5' }]);
  });
});

describe('bzImage payload', () => {
  function fakeBzImage(protocol: number, payload: number[]): Uint8Array {
    const img = new Uint8Array(0x1000);
    const v = new DataView(img.buffer);
    img[0x1f1] = 3; // setup_sects: protected-mode code at (3 + 1) * 512 = 0x800
    v.setUint32(0x202, 0x53726448, true);
    v.setUint16(0x206, protocol, true);
    v.setUint32(0x248, 0x10, true);
    v.setUint32(0x24c, payload.length, true);
    img.set(payload, 0x810);
    return img;
  }
  it('finds an xz payload from the boot header fields', () => {
    assert.deepEqual(findBzImagePayload(fakeBzImage(0x20f, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])), { offset: 0x810, length: 8, compression: 'xz' });
  });
  it('rejects what is not a bzImage, and protocols without payload fields', () => {
    assert.throws(() => findBzImagePayload(new Uint8Array(0x1000)), /not an x86 bzImage/);
    assert.throws(() => findBzImagePayload(fakeBzImage(0x207, [1])), /older than 2\.08/);
  });
  it('measures an ELF up to the end of its section headers', () => {
    const elf = new Uint8Array(0x300);
    const v = new DataView(elf.buffer);
    v.setUint32(0, 0x7f454c46, false);
    elf[4] = 2;
    v.setBigUint64(0x28, 0x100n, true);
    v.setUint16(0x3a, 0x40, true);
    v.setUint16(0x3c, 3, true);
    assert.equal(elfLength(elf), 0x1c0);
    assert.throws(() => elfLength(new Uint8Array(100)), /not an ELF/);
  });
});

describe('cpio newc', () => {
  it('writes headers, names and data padded to 4 bytes, and a trailer', () => {
    const out = new TextDecoder().decode(buildCpio([{ kind: 'file', path: '/init', data: new TextEncoder().encode('hi'), mode: 0o755 }]));
    const header = '070701' + ['1', '81ed', '0', '0', '1', '0', '2', '0', '0', '0', '0', '5', '0'].map((x) => x.padStart(8, '0')).join('');
    const trailer = '070701' + ['0', '0', '0', '0', '1', '0', '0', '0', '0', '0', '0', 'b', '0'].map((x) => x.padStart(8, '0')).join('');
    assert.equal(out, `${header}init\0\0hi\0\0${trailer}TRAILER!!!\0\0\0\0`);
  });
});

describe('kernel modules', () => {
  const deps = parseModulesDep('kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko\nkernel/fs/jbd2/jbd2.ko:\nkernel/fs/mbcache.ko:\nkernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio.ko:\nkernel/net/8021q/8021q.ko: kernel/net/802/garp.ko\nkernel/net/802/garp.ko:\n');
  it('orders dependencies first, each module once', () => {
    assert.deepEqual(moduleLoadOrder(deps, ['ext4', 'virtio-blk', 'jbd2']), ['kernel/fs/jbd2/jbd2.ko', 'kernel/fs/mbcache.ko', 'kernel/fs/ext4/ext4.ko', 'kernel/drivers/virtio/virtio.ko', 'kernel/drivers/block/virtio_blk.ko']);
  });
  it('skips built-in drivers and names a missing one', () => {
    assert.deepEqual(moduleLoadOrder(deps, ['virtio_pci', 'jbd2'], parseModulesBuiltin('kernel/drivers/virtio/virtio_pci.ko\n')), ['kernel/fs/jbd2/jbd2.ko']);
    assert.throws(() => moduleLoadOrder(deps, ['nosuch']), /kernel module nosuch is not in this kernel's modules\.dep/);
  });
  it('selects subtrees with every dependency outside them', () => {
    assert.deepEqual(selectModuleClosure(deps, ['kernel/net/8021q', 'kernel/fs/ext4/ext4.ko']), ['kernel/fs/ext4/ext4.ko', 'kernel/fs/jbd2/jbd2.ko', 'kernel/fs/mbcache.ko', 'kernel/net/802/garp.ko', 'kernel/net/8021q/8021q.ko']);
    assert.equal(moduleName('kernel/net/ipv4/nf-nat.ko.xz'), 'nf_nat');
  });
});

describe('image store', () => {
  it('is $QEMUNET_IMAGES, else under XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(imageStoreDir({ QEMUNET_IMAGES: '/srv/img' }, '/home/u'), '/srv/img');
    assert.equal(imageStoreDir({ XDG_CACHE_HOME: '/c' }, '/home/u'), '/c/qemunet/images');
    assert.equal(imageStoreDir({}, '/home/u'), '/home/u/.cache/qemunet/images');
  });
  it('keeps a built system in a folder of its own', () => {
    assert.deepEqual(builtImagePaths('/s', 'tiny'), {
      dir: '/s/tiny',
      fs: '/s/tiny/tiny.img',
      kernel: '/s/tiny/tiny.vmlinux',
      initrd: '/s/tiny/tiny.initrd',
      compressedKernel: '/s/tiny/tiny.vmlinuz',
      umlKernel: '/s/tiny/tiny.linux-uml',
      manifest: '/s/tiny/manifest.json',
    });
  });
});
