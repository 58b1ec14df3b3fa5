import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { tempDir, tinyImage } from '../helpers/tiny.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const exec = promisify(execFile);
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** Runs a program to its end, its exit status with its output (a failing one is an answer, not a throw). */
async function runs(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const r = await exec(file, args, { ...options, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('the package, as a user installs it (issue 24)', { timeout: 300_000 }, () => {
  it('npm pack, npm install -g into a fresh prefix, then qemunet from another folder: --version, doctor, up lan --dry-run and up lan --wait, its man page', async () => {
    await tinyImage();
    await using dir = await tempDir('qemunet-package-');
    // --ignore-scripts: this test runs from a build, and packs that build (prepack would rebuild it under the running test).
    const pack = await runs('npm', ['pack', '--ignore-scripts', '--pack-destination', dir.path], { cwd: ROOT });
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(dir.path, `qemunet-${version}.tgz`);
    const prefix = join(dir.path, 'prefix');
    // --prefer-offline: ws and zod from npm's cache when they are in it, else from the registry.
    const install = await runs('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir.path });
    assert.equal(install.code, 0, install.stderr);
    assert.doesNotMatch(install.stderr, /install-scripts/, 'an installed package runs no build step');
    const installed = join(prefix, 'lib/node_modules/qemunet');
    // Only the run-time dependencies come along: no typescript, esbuild, eslint, xterm...
    assert.deepEqual((await readdir(join(installed, 'node_modules'))).filter((n) => !n.startsWith('.')).sort(), ['ws', 'zod']);
    assert.deepEqual((await readdir(installed)).sort(), ['README.md', 'bin', 'build', 'demo', 'docs', 'node_modules', 'package.json', 'scripts']);
    assert.ok((await readdir(join(installed, 'build/web'))).includes('app.js'), 'the page is prebuilt');

    const elsewhere = join(dir.path, 'elsewhere');
    await mkdir(elsewhere);
    const qemunet = join(prefix, 'bin/qemunet');
    const v = await runs(qemunet, ['--version'], { cwd: elsewhere });
    assert.deepEqual(v, { code: 0, stdout: `qemunet ${version}\n`, stderr: '' });

    const doctor = await runs(qemunet, ['doctor'], { cwd: elsewhere });
    assert.equal(doctor.code, 0, doctor.stdout);
    const verdict = await runs(qemunet, ['doctor', '--json'], { cwd: elsewhere });
    assert.equal((JSON.parse(verdict.stdout) as { installScript: string }).installScript, join(installed, 'scripts/install-deps.sh'));

    const dry = await runs(qemunet, ['up', 'lan', '--dry-run'], { cwd: elsewhere });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^vde_switch -sock \/tmp\/qemunet-SESSION\/switch\/s1 /m);
    assert.equal(dry.stdout.match(/^qemu-system-x86_64 /gm)?.length, 4, dry.stdout);
    assert.deepEqual(await readdir(elsewhere), [], 'a dry run leaves nothing in the folder');

    // A real start of the demo from the installed package: its background supervisor and the
    // consoles' commands are the installed bin/qemunet's, not a clone's.
    const env = { ...process.env, QEMUNET_STATE_DIR: join(dir.path, 'state') };
    const session = join(dir.path, 'session');
    const up = await runs(qemunet, ['up', 'lan', '--wait', '--session', session], { cwd: elsewhere, env });
    try {
      assert.equal(up.code, 0, up.stderr);
      const hello = await runs(qemunet, ['exec', 'syl', '--', 'echo', 'hello'], { cwd: elsewhere, env });
      assert.deepEqual([hello.code, hello.stdout], [0, 'hello\n']);
    } finally {
      assert.equal((await runs(qemunet, ['down', '--session', session], { env })).code, 0);
    }
    // up's `session` link in the working directory, as from a clone; the temporary folder takes it away.
    assert.equal(await readlink(join(elsewhere, 'session')), session);

    const man = join(prefix, 'share/man/man1/qemunet.1');
    const rendered = await runs('man', ['-l', man], { env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.match(rendered.stdout, /QEMUNET\(1\)/);
    assert.match(rendered.stdout.replace(/.\x08/g, ''), /doctor \[--json\]\n\s+check this machine for every part qemunet uses/);
  });
});
