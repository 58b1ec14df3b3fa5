import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guestFiles, initrdInit } from '../../src/images/guest-files.js';
import { codenameOf, installedPackages, mmdebstrapArgv } from '../../src/images/mmdebstrap.js';

describe('mmdebstrap plan of the debian image', () => {
  const plan = {
    suite: 'bookworm',
    sources: ['/etc/apt/sources.list.d/debian.sources'],
    packages: ['python3', 'openssh-server'],
    excludedPaths: ['/usr/share/doc/*'],
    includedPaths: ['/usr/share/doc/*/copyright'],
    cacheDir: './debs',
    customize: ['chroot "$1" true'],
  };
  it('installs as root straight into a directory, keeping the downloaded packages', () => {
    assert.deepEqual(mmdebstrapArgv({ ...plan, out: { directory: '/w/root' } }), [
      '--variant=essential',
      '--include=python3,openssh-server',
      '--format=directory',
      '--dpkgopt=force-unsafe-io',
      '--aptopt=Acquire::Languages "none"',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      '--skip=essential/unlink',
      '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
      '--setup-hook=sync-in ./debs /var/cache/apt/archives/',
      '--customize-hook=sync-out /var/cache/apt/archives ./debs',
      '--customize-hook=chroot "$1" true',
      'bookworm',
      '/w/root',
      '/etc/apt/sources.list.d/debian.sources',
    ]);
  });
  it('writes a tarball when not root', () => {
    const argv = mmdebstrapArgv({ ...plan, out: { tarball: '/w/debian.tar' } });
    assert.equal(argv[2], '--format=tar');
    assert.deepEqual(argv.slice(-3), ['bookworm', '/w/debian.tar', '/etc/apt/sources.list.d/debian.sources']);
  });
  it("reads the host's release and the installed packages", () => {
    assert.equal(codenameOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'), 'bookworm');
    assert.equal(codenameOf('ID=arch\n'), undefined);
    const status = 'Package: zip\nStatus: install ok installed\nVersion: 3.0-13\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b13\n';
    assert.deepEqual(installedPackages(status), [
      { name: 'bash', version: '5.2.15-2+b13' },
      { name: 'zip', version: '3.0-13' },
    ]);
  });
});

describe('guest files of the built-in images', () => {
  const byPath = (files: ReturnType<typeof guestFiles>) => new Map(files.map((f) => [f.path, f.content]));
  it("debian shares tiny's boot but keeps Debian's accounts and ISC's dhclient", () => {
    const tiny = byPath(guestFiles('tiny'));
    const debian = byPath(guestFiles('debian', [{ path: 'etc/ssh/sshd_config.d/qemunet.conf', content: 'X\n', mode: 0o644 }]));
    assert.deepEqual([...debian.keys()], ['etc/inittab', 'etc/qemunet/sysinit', 'etc/qemunet/shutdown', 'etc/qemunet/console-shell', 'etc/acpi/PWRF/00000080', 'etc/qemunet/ssh-hostkey', 'etc/hostname', 'etc/hosts', 'etc/fstab', 'etc/ssh/sshd_config.d/qemunet.conf']);
    assert.equal(debian.get('etc/hostname'), 'debian\n');
    for (const shared of ['etc/inittab', 'etc/qemunet/shutdown', 'etc/qemunet/console-shell']) assert.equal(debian.get(shared), tiny.get(shared));
    // Only the daemons and what runs after the boot differ: dropbear in tiny; debian's ssh host key
    // is made after the guest is ready (or by service ssh start), not before. Both run the sysinit
    // under busybox's shell (/bin/sh is dash in both).
    const tinyInit = tiny.get('etc/qemunet/sysinit')!;
    const debianInit = debian.get('etc/qemunet/sysinit')!;
    for (const init of [tinyInit, debianInit]) assert.equal(init.split('\n')[0], '#!/bin/busybox sh');
    assert.match(tinyInit, /^dropbear -R -B -E/m);
    assert.doesNotMatch(debianInit, /dropbear|ssh-keygen/);
    assert.match(debianInit, /is ready"\nnice -n 19 \/etc\/qemunet\/ssh-hostkey <\/dev\/null >\/dev\/null 2>&1 &\n$/);
    assert.match(debian.get('etc/qemunet/ssh-hostkey')!, /ssh-keygen -q -t ed25519 -N "" -f "\$1"/);
    const common = (init: string) => init.replace(/^trace daemons\n[\s\S]*?\n\n/m, '').replace(/is ready"\n[\s\S]*$/, '');
    assert.equal(common(debianInit), common(tinyInit));
  });
  it('the initrd names the system it boots on the console', () => {
    assert.match(initrdInit([], [], 'debian'), /^echo "qemunet: debian is booting"$/m);
    assert.match(initrdInit([], []), /^echo "qemunet: tiny is booting"$/m);
  });
});
