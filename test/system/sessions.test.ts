import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/process/run.js';
import { eventually, qemunet, qemunetForeground, stateOf } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

const exec = (dir: string, host: string, command: string, env?: NodeJS.ProcessEnv) => qemunet(['exec', host, '--session', dir, '--', 'sh', '-c', command], env ? { env } : {});

/** Each host pings every address in `targets`; returns the failures. */
async function pingAll(dir: string, hosts: string[], targets: string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const host of hosts) {
    const r = await exec(dir, host, `for ip in ${targets.join(' ')}; do ping -c 1 -W 5 $ip >/dev/null || echo "$ip"; done`);
    failures.push(...r.stdout.split('\n').filter(Boolean).map((ip) => `${host} -> ${ip}`));
  }
  return failures;
}

describe("QemuNet's own session archives run unchanged (--alias debian=tiny)", { timeout: 600000 }, () => {
  const tmp = suiteDir('qemunet-archives');
  after(() => tmp.remove());
  before(() => tinyImage());

  test('lan.tgz: each host configured by the start.sh of its .disk; every pair pings', async () => {
    const dir = join(tmp.path, 'lan');
    const r = await qemunet(['-s', fixture('sessions', 'lan.tgz'), '--alias', 'debian=tiny', '--wait', '--session', dir], { cwd: tmp.path });
    try {
      assert.equal(r.code, 0, r.stderr);
      const ips = ['192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.4'];
      assert.deepEqual(await pingAll(dir, ['immortal', 'syl', 'opeth', 'grave'], ips), []);
      assert.equal((await exec(dir, 'opeth', 'ip -br -4 addr show eth0')).stdout.trim().replace(/\s+/g, ' '), 'eth0 UP 192.168.0.3/24');
    } finally {
      await qemunet(['down', '--session', dir]);
    }
  });

  test('gw.tgz: opeth and syl reach grave through immortal', async () => {
    const dir = join(tmp.path, 'gw');
    const r = await qemunet(['up', '--from', fixture('sessions', 'gw.tgz'), '--alias', 'debian=tiny', '--wait', '--session', dir], { cwd: tmp.path });
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await pingAll(dir, ['opeth', 'syl'], ['147.210.0.2']), []);
      const route = await exec(dir, 'grave', 'traceroute -n -q 1 -w 3 192.168.0.2');
      assert.match(route.stdout, /^ 1 {2}147\.210\.0\.1 /m);
    } finally {
      await qemunet(['down', '--session', dir]);
    }
  });
});

describe('save and restore keep what a user did', { timeout: 600000 }, () => {
  const tmp = suiteDir('save');
  const dir = join(tmp.path, 'first');
  const topo = join(tmp.path, 'pair.topo');
  const archive = join(tmp.path, 'pair.tgz');
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a file written in a guest survives down and a restore from the directory', async () => {
    await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    assert.equal((await qemunet(['up', topo, '--wait', '--session', dir])).code, 0);
    assert.equal((await exec(dir, 'a', 'echo kept-$((6*7)) > /root/note && sync')).code, 0);
    assert.equal((await qemunet(['down', '--session', dir])).code, 0);
    const r = await qemunet(['up', '--from', dir, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`session ${dir} \\(running`));
    assert.equal((await exec(dir, 'a', 'cat /root/note')).stdout, 'kept-42\n');
  });

  test('save of a running session: it keeps running, and the archive restores on a fresh image store', async () => {
    const saved = await qemunet(['save', '--session', dir, archive]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout, `saved ${dir} to ${archive} (running; each VM frozen for a moment)\n`);
    assert.equal((await exec(dir, 'b', 'echo alive')).stdout, 'alive\n');
    const listing = (await run('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(listing, ['a.qcow2', 'a/', 'b.qcow2', 'b/', 'qemunet-session.json', 'topology']);
    const manifest = JSON.parse((await run('tar', ['-xzOf', archive, 'qemunet-session.json'])).stdout);
    const image = await tinyImage();
    const tinyManifest = JSON.parse(await readFile(image.manifest, 'utf8'));
    assert.deepEqual(manifest.hosts.map((h: { name: string; system: string; base: { sha256: string } }) => [h.name, h.system, h.base.sha256]), [
      ['a', 'tiny', tinyManifest.files['tiny.img'].sha256],
      ['b', 'tiny', tinyManifest.files['tiny.img'].sha256],
    ]);
    assert.equal((await qemunet(['down', '--session', dir])).code, 0);

    // Another machine: the same base image in another place (overlays are rebased onto it).
    const store = join(tmp.path, 'store');
    await run('mkdir', ['-p', store]);
    await run('cp', ['-a', '--sparse=always', image.dir, join(store, 'tiny')]);
    const env = { ...process.env, QEMUNET_IMAGES: store, QEMUNET_STATE_DIR: join(tmp.path, 'state2') };
    const second = join(tmp.path, 'second');
    const r = await qemunet(['up', '--from', archive, '--wait', '--session', second], { env });
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await exec(second, 'a', 'cat /root/note', env)).stdout, 'kept-42\n');
      const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', join(second, 'a.qcow2')])).stdout);
      assert.equal(info['backing-filename'], join(store, 'tiny', 'tiny.img'));
    } finally {
      await qemunet(['down', '--session', second], { env });
    }

    // A base image of different content: refused with both checksums, or started with --force.
    const other = join(tmp.path, 'store-other');
    await run('cp', ['-a', '--sparse=always', store, other]);
    const m = JSON.parse(await readFile(join(other, 'tiny', 'manifest.json'), 'utf8'));
    const theirs = m.files['tiny.img'].sha256;
    m.files['tiny.img'].sha256 = 'f'.repeat(64);
    await writeFile(join(other, 'tiny', 'manifest.json'), JSON.stringify(m));
    const envOther = { ...env, QEMUNET_IMAGES: other };
    const refused = await qemunet(['up', '--from', archive, '--session', join(tmp.path, 'third')], { env: envOther });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `qemunet: the overlay of a was made on a base image of system tiny with sha256 ${theirs} (${m.files['tiny.img'].bytes} bytes), but system tiny here is ${join(other, 'tiny', 'tiny.img')} with sha256 ${'f'.repeat(64)} (${m.files['tiny.img'].bytes} bytes); the guest would see a corrupt disk. Use the same base image, remove ${join(tmp.path, 'third', 'a.qcow2')} to start a afresh (its changes are lost), or --force to start anyway\n`,
    );
    assert.equal((await stateOf(join(tmp.path, 'third')))?.phase, undefined, 'nothing started');

    // The overlays' base image is missing here: the system is known, its file is not.
    await writeFile(join(tmp.path, 'qemunet.cfg'), `SYS[ghost]="linux"\nFS[ghost]="${join(tmp.path, 'gone.img')}"\n`);
    const missing = await qemunet(['up', '--from', archive, '--alias', 'tiny=ghost', '--session', join(tmp.path, 'fourth')], { cwd: tmp.path, env });
    assert.deepEqual([missing.code, missing.stderr], [1, `qemunet: the FS file of system ghost (${join(tmp.path, 'qemunet.cfg')}:1) is missing or unreadable: ${join(tmp.path, 'gone.img')}\n`]);

    // The same system rebuilt under a kept session (a newer qemunet's tiny): its overlay no longer fits.
    const topo = join(tmp.path, 'one.topo');
    await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\n');
    const kept = join(tmp.path, 'kept');
    assert.equal((await qemunet(['up', topo, '--detach', '-K', '--session', kept], { env: envOther })).code, 0);
    assert.equal((await qemunet(['down', '--session', kept], { env: envOther })).code, 0);
    m.files['tiny.img'].sha256 = theirs;
    await writeFile(join(other, 'tiny', 'manifest.json'), JSON.stringify(m));
    const rebuilt = await qemunet(['up', '--detach', '-K', '--session', kept], { env: envOther });
    assert.equal(rebuilt.code, 1);
    assert.match(rebuilt.stderr, new RegExp(`^qemunet: the overlay of a was made on a base image of system tiny with sha256 ${'f'.repeat(64)} .* but system tiny here is .* with sha256 ${theirs} .*remove ${join(kept, 'a.qcow2')} to start a afresh`));
    const forced = await qemunet(['up', '--detach', '-K', '--force', '--session', kept], { env: envOther });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /warning: the overlay of a was made on a base image .*; starting anyway \(--force\)/);
    assert.equal((await qemunet(['down', '--session', kept], { env: envOther })).code, 0);
    const again = await qemunet(['up', '--detach', '-K', '--session', kept], { env: envOther });
    assert.equal(again.code, 0, `a forced start records the base it ran on: ${again.stderr}`);
    assert.equal((await qemunet(['down', '--session', kept], { env: envOther })).code, 0);
  });
});

describe('crash recovery', { timeout: 600000 }, () => {
  const tmp = suiteDir('crash');
  const dir = join(tmp.path, 's');
  after(async () => {
    await qemunet(['down', '--session', dir]);
    await tmp.remove();
  });

  test('a VM killed from outside shows as crashed; restart (and <host>.sh) brings it back on its port', async () => {
    await writeFile(join(tmp.path, 't.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
    await run('mkdir', ['-p', join(dir, 'a'), join(dir, 'b')]);
    await writeFile(join(dir, 'a', 'start.sh'), '#!/bin/sh\nip addr add 10.1.0.1/24 dev eth0\n');
    await writeFile(join(dir, 'b', 'start.sh'), '#!/bin/sh\nip addr add 10.1.0.2/24 dev eth0\n');
    assert.equal((await qemunet(['up', join(tmp.path, 't.topo'), '--wait', '--session', dir])).code, 0);
    for (const restart of [() => qemunet(['restart', 'b', '--session', dir]), () => run(join(dir, 'b.sh'), []).then(() => ({ code: 0, stderr: '' }))]) {
      const pid = (await stateOf(dir))!.hosts.find((h) => h.name === 'b')!.pid!;
      process.kill(pid, 'SIGKILL');
      await eventually(async () => ((await stateOf(dir))?.hosts.find((h) => h.name === 'b')?.state === 'crashed' ? true : undefined), 15000, 'b crashed');
      const status = await qemunet(['status', '--session', dir]);
      assert.match(status.stdout, /^b +crashed /m);
      const r = await restart();
      assert.equal(r.code, 0, r.stderr);
      await eventually(async () => ((await stateOf(dir))?.hosts.find((h) => h.name === 'b')?.state === 'ready' ? true : undefined), 60000, 'b ready again');
      const state = (await stateOf(dir))!;
      assert.deepEqual(state.hosts.find((h) => h.name === 'b')!.nics.map((n) => `${n.switch}:${n.port}`), ['s1:2']);
      assert.deepEqual(await pingAll(dir, ['a'], ['10.1.0.2']), []);
    }
  });
});

describe('restore refuses bad archives and sessions', { timeout: 300000 }, () => {
  const tmp = suiteDir('bad-archives');
  const at = (name: string) => join(tmp.path, name);
  after(() => tmp.remove());

  /** Restores `archive` into a new session directory under `tmpRoot` ($TMPDIR), which must be refused and removed. */
  async function refused(archive: string, expected: RegExp, tmpRoot = tmpdir()) {
    const before = (await readdir(tmpRoot)).filter((n) => n.startsWith('qemunet-')).sort();
    const r = await qemunet(['-s', archive, '-K'], { cwd: tmp.path, env: { ...process.env, TMPDIR: tmpRoot } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, expected);
    const left = (await readdir(tmpRoot)).filter((n) => n.startsWith('qemunet-') && !before.includes(n));
    assert.deepEqual(left, [], 'the directory made for the restore is removed');
  }

  test('corrupt, truncated and empty archives', async () => {
    await writeFile(at('corrupt.tgz'), Buffer.from('this is not gzip at all'));
    await refused(at('corrupt.tgz'), /^qemunet: archive .*corrupt\.tgz is corrupt/);
    const lan = await readFile(fixture('sessions', 'lan.tgz'));
    await writeFile(at('truncated.tgz'), lan.subarray(0, lan.length / 2));
    await refused(at('truncated.tgz'), /^qemunet: archive .*truncated\.tgz is (truncated|corrupt)/);
    await writeFile(at('empty.tgz'), '');
    await refused(at('empty.tgz'), /^qemunet: archive .*empty\.tgz is truncated: it ends before its first entry\n$/);
  });

  test('an archive without a topology', async () => {
    await writeFile(at('notes.txt'), 'hello');
    await run('tar', ['-czf', at('notopo.tgz'), '-C', tmp.path, 'notes.txt']);
    await refused(at('notopo.tgz'), /holds no "topology" file, so it is not a QemuNet session archive \(it has: notes\.txt\)/);
  });

  test('tar-slip entries and links out of the session', async () => {
    await writeFile(at('topology'), 'SWITCH s1\nHOST tiny a s1\n');
    await writeFile(at('notes.txt'), 'hello');
    const entry = '../../evil.txt';
    await run('tar', ['-czf', at('slip.tgz'), '-C', tmp.path, 'topology', '--transform', `s,^notes.txt$,${entry},`, 'notes.txt']);
    // The restore extracts into a new directory under $TMPDIR (its last part is random, and the
    // entry's ".."s climb above it): that is where an escape would land, inside this test's directory.
    const tmpRoot = at('tmp/inner');
    await mkdir(tmpRoot, { recursive: true });
    const landing = resolve(tmpRoot, 'qemunet-slip.tgz-XXXXXX', entry);
    assert.equal(landing, at('tmp/evil.txt'));
    await refused(at('slip.tgz'), /^qemunet: archive .*slip\.tgz is refused: entry "\.\.\/\.\.\/evil\.txt"/, tmpRoot);
    await assert.rejects(stat(landing), { code: 'ENOENT' }, `the escaping entry was not written at ${landing}`);
    await run('ln', ['-s', '/etc', at('etc-link')]);
    await run('tar', ['-czf', at('link.tgz'), '-C', tmp.path, 'topology', 'etc-link']);
    await refused(at('link.tgz'), /^qemunet: archive .*link\.tgz is refused: entry "etc-link"/);
  });

  test('a session directory locked by a live qemunet', async () => {
    const dir = at('locked');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'qemunet.lock'), `${process.pid}\n`);
    const r = await qemunet(['-s', fixture('sessions', 'lan.tgz'), '--alias', 'debian=tiny', '--session', dir, '-K']);
    assert.deepEqual([r.code, r.stderr], [1, `qemunet: session ${dir} is in use by qemunet process ${process.pid}; stop it with "qemunet down --session ${dir}"\n`]);
    assert.deepEqual(await readdir(dir), ['qemunet.lock'], 'nothing was extracted into it');
  });

  test('a read-only session directory, and a full disk while saving', { skip: process.getuid?.() !== 0 && 'needs root to mount a small tmpfs' }, async () => {
    const ro = at('ro');
    await run('mkdir', ['-p', ro]);
    await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
    try {
      const r = await qemunet(['-s', fixture('sessions', 'lan.tgz'), '--alias', 'debian=tiny', '--session', ro, '-K']);
      assert.deepEqual([r.code, r.stderr], [1, `qemunet: session directory ${ro} is not writable\n`]);
    } finally {
      await run('umount', [ro]);
    }
    // A stopped session to save, and a 1 MiB disk that already holds an earlier archive.
    const session = at('to-save');
    await run('mkdir', ['-p', session]);
    await run('tar', ['-xzf', fixture('sessions', 'lan.tgz'), '-C', session]);
    const image = await tinyImage();
    const host = { name: 'immortal', system: 'tiny', base: image.fs, state: 'stopped', display: 'none', nics: [], console: '', agent: true };
    await writeFile(join(session, 'qemunet-state.json'), JSON.stringify({ version: 1, dir: session, topology: 'topology', pid: 999999999, phase: 'stopped', accel: 'tcg', startedAt: '', switches: [], hosts: [host] }));
    // Work of the user that does not compress: more than the 1 MiB disk holds.
    await run('mkdir', ['-p', join(session, 'immortal')]);
    await writeFile(join(session, 'immortal', 'capture.bin'), randomBytes(3 << 20));
    const full = at('full');
    await run('mkdir', ['-p', full]);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]);
    try {
      await writeFile(join(full, 'lab.tgz'), 'the earlier archive');
      const r = await qemunet(['save', '--session', session, join(full, 'lab.tgz')]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `qemunet: could not write ${join(full, 'lab.tgz')}: no space left on its device; any earlier file of that name is untouched\n`);
      assert.equal(await readFile(join(full, 'lab.tgz'), 'utf8'), 'the earlier archive');
      assert.deepEqual(await readdir(full), ['lab.tgz'], 'no temporary file is left');
    } finally {
      await run('umount', [full]);
    }
  });
});

describe('standalone VMs', { timeout: 300000 }, () => {
  test('-l boots one VM on a throwaway overlay, with the internet NIC; nothing is left after Ctrl-C', async () => {
    const tmp = suiteDir('standalone');
    const env = { ...process.env, QEMUNET_STATE_DIR: join(tmp.path, 'state') };
    try {
      const child = qemunetForeground(['-l', 'tiny'], { cwd: tmp.path, env });
      const dir = await eventually(async () => {
        const r = await qemunet(['status', '--json'], { env });
        const state = r.code === 0 ? JSON.parse(r.stdout) : undefined;
        return state?.hosts[0]?.state === 'ready' ? (state.dir as string) : undefined;
      }, 120000, 'the standalone VM to be ready');
      const r = await exec(dir, 'tiny', 'hostname; ls /sys/class/net | grep -c eth');
      assert.equal(r.stdout, 'tiny\n1\n');
      // QemuNet's guides: dhclient on the internet NIC, then the guest has Slirp's address and route.
      const lease = await exec(dir, 'tiny', 'dhclient eth0 >/dev/null 2>&1; ip -4 -o addr show eth0 | cut -d" " -f7; ip route show default');
      assert.equal(lease.stdout, '10.0.2.15/24\ndefault via 10.0.2.2 dev eth0 \n');
      assert.match(await readFile(join(dir, 'tiny.sh'), 'utf8'), /-netdev user,id=inet/);
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
      await assert.rejects(stat(dir), { code: 'ENOENT' }, 'the throwaway session is removed');
    } finally {
      await tmp.remove();
    }
  });

  test('-L needs a confirmation', async () => {
    const r = await qemunet(['-L', 'tiny']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^qemunet: -L tiny boots on the base image of tiny itself: every change is permanent, .*; add --yes to confirm\n$/);
  });
});
