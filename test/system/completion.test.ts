import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { QEMUNET, qemunet } from '../helpers/cli.js';
import { tempDir, tinyImage } from '../helpers/tiny.js';

const exec = promisify(execFile);

/** COMPREPLY of a real bash that sourced `qemunet completion bash`, for LINE typed up to its end. */
async function bashCompletes(line: string, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const script = 'source <(qemunet completion bash); COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; _qemunet; printf "%s\\n" "${COMPREPLY[@]}"';
  const { stdout } = await exec('bash', ['-c', script, 'bash', line], { cwd, env: { ...env, PATH: `${dirname(QEMUNET)}:${env.PATH}` } });
  return stdout.split('\n').filter(Boolean).sort();
}

describe('shell completion in a real bash (issue 24)', { timeout: 60_000 }, () => {
  it('commands, options, display modes, topology files and the shipped demos', async () => {
    await using dir = await tempDir('qemunet-complete-');
    await writeFile(join(dir.path, 'ring.topo'), 'SWITCH s1\n');
    await writeFile(join(dir.path, 'notes.txt'), '');
    await mkdir(join(dir.path, 'labs'));
    assert.deepEqual(await bashCompletes('qemunet st', dir.path), ['status']);
    assert.deepEqual(await bashCompletes('qemunet image ', dir.path), ['build', 'list', 'pull', 'rm']);
    assert.deepEqual(await bashCompletes('qemunet up --dis', dir.path), ['--display', '--display-tcp']);
    assert.deepEqual(await bashCompletes('qemunet up -d x', dir.path), ['xfce4', 'xterm']);
    assert.deepEqual(await bashCompletes('qemunet up ', dir.path), ['labs', 'lan', 'ring.topo']);
    assert.deepEqual(await bashCompletes('qemunet completion ', dir.path), ['bash', 'zsh']);
    // No running session in this folder's view of --session: nothing to offer, and no error.
    assert.deepEqual(await bashCompletes(`qemunet console --session ${dir.path} `, dir.path), []);
  });

  it("a running session's hosts, HOST:ethN NICs (bash splits at the colon) and switches", async () => {
    await tinyImage();
    await using dir = await tempDir('qemunet-complete-session-');
    // A registry of its own: other sessions on this machine are not offered here.
    const env = { ...process.env, QEMUNET_STATE_DIR: join(dir.path, 'state') };
    await writeFile(join(dir.path, 'two.topo'), 'SWITCH s1\nSWITCH s2\nHOST tiny alpha s1 s2\nHOST tiny beta s1\n');
    const session = join(dir.path, 'session');
    const up = await qemunet(['up', 'two.topo', '--wait', '--session', session], { cwd: dir.path, env });
    try {
      assert.equal(up.code, 0, up.stderr);
      assert.deepEqual(await bashCompletes('qemunet console ', dir.path, env), ['alpha', 'beta']);
      assert.deepEqual(await bashCompletes('qemunet exec b', dir.path, env), ['beta']);
      assert.deepEqual(await bashCompletes('qemunet link alpha:', dir.path, env), ['eth0', 'eth1']);
      assert.deepEqual(await bashCompletes('qemunet capture ', dir.path, env), ['alpha:eth0', 'alpha:eth1', 'beta:eth0']);
      assert.deepEqual(await bashCompletes('qemunet switch ', dir.path, env), ['s1', 's2']);
      assert.deepEqual(await bashCompletes(`qemunet restart --session ${session} a`, dir.path, env), ['alpha']);
      // Through the `session` link up left in the folder.
      assert.deepEqual(await bashCompletes('qemunet console --session session ', dir.path, env), ['alpha', 'beta']);
    } finally {
      await qemunet(['down', '--session', session], { env });
    }
  });

  it('zsh gets a script that defines and registers _qemunet', async () => {
    const { stdout } = await exec(process.execPath, [QEMUNET, 'completion', 'zsh']);
    assert.match(stdout, /^#compdef qemunet\n/);
    assert.match(stdout, /command qemunet __complete zsh "\$\{\(@\)words\[2,CURRENT\]\}"/);
    assert.match(stdout, /\ncompdef _qemunet qemunet\n$/);
  });
});
