import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { debCacheDir, imageStoreDir } from '../../src/images/store.js';
import { fixture } from '../helpers/fixtures.js';
import { tempDir, tinyImage } from '../helpers/tiny.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/qemunet');

function qemunet(args: string[], env: NodeJS.ProcessEnv = {}, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('qemunet image', { timeout: 300_000 }, () => {
  it('lists built-in and qemunet.cfg systems with the state of their files', async () => {
    await tinyImage();
    const r = await qemunet(['image', 'list', '--json', '-c', fixture('qemunet.cfg')]);
    assert.equal(r.code, 0, r.stderr);
    const { systems, configFiles } = JSON.parse(r.stdout) as { systems: Array<{ name: string; files: Array<{ role: string; state: string; bytes?: number }> }>; configFiles: string[] };
    assert.deepEqual(configFiles, [fixture('qemunet.cfg')]);
    const tiny = systems.find((s) => s.name === 'tiny')!;
    assert.deepEqual(tiny.files.map((f) => [f.role, f.state]), [['FS', 'present'], ['KERNEL', 'present'], ['INITRD', 'present']]);
    assert.equal(tiny.files[0]!.bytes, 1024 ** 3);
    assert.deepEqual(systems.find((s) => s.name === 'win10')!.files.map((f) => [f.role, f.state]), [['FS', 'missing']]);
    assert.deepEqual(systems.find((s) => s.name === 'debian')!.files.map((f) => f.state), ['downloadable', 'downloadable', 'downloadable']);
  });

  it('refuses to remove an image it did not build', async () => {
    const r = await qemunet(['image', 'rm', 'debian', '-c', fixture('qemunet.cfg')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `qemunet: only images qemunet built can be removed; debian is declared in ${fixture('qemunet.cfg')}:38\n`);
  });

  it('says so when the store cannot be created', async () => {
    await using dir = await tempDir('store');
    await writeFile(join(dir.path, 'file'), '');
    const r = await qemunet(['image', 'build'], { QEMUNET_IMAGES: join(dir.path, 'file', 'images') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^qemunet: cannot create the image store .*\/file\/images: ENOTDIR/);
  });

  it('leaves nothing half-made when a build is interrupted', async () => {
    await tinyImage();
    await using dir = await tempDir('interrupt');
    const store = join(dir.path, 'images');
    await mkdir(store);
    // Reuse the downloaded packages: this test is about the interruption, not the network.
    await symlink(debCacheDir(imageStoreDir()), debCacheDir(store));
    let sent = false;
    const r = await qemunet(['image', 'build'], { QEMUNET_IMAGES: store }, (text, child) => {
      if (!sent && text.includes('unpacking packages')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, 'the build reached the unpacking phase');
    assert.equal(r.code, 130);
    assert.match(r.stderr, /qemunet: interrupted: the build was abandoned and its temporary files removed\n$/);
    assert.deepEqual((await readdir(store)).sort(), ['.debs']);
  });
});
