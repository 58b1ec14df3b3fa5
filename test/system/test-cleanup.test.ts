import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { alivePids, eventually, leftovers, sessionPids, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

const HOLDER = fileURLToPath(new URL('../fixtures/holds-sessions.js', import.meta.url));

describe('the test suite cleans up after itself', { timeout: 600000 }, () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`${signal} to a test run leaves no VM, switch or qemunet of its sessions`, async () => {
      await tinyImage();
      const tmp = suiteDir(`cleanup-${signal}`);
      try {
        // A test run of its own: without NODE_TEST_CONTEXT, which makes node --test report to this runner instead.
        const { NODE_TEST_CONTEXT: _, ...env } = process.env;
        const runner = spawn(process.execPath, ['--test', HOLDER], { env: { ...env, HOLD_DIR: tmp.path }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        runner.stdout!.on('data', (d) => (out += d));
        runner.stderr!.on('data', (d) => (out += d));
        await eventually(() => access(join(tmp.path, 'started')).then(() => true, () => undefined), 240000, 'the sessions of the nested test run');
        const states = await Promise.all(['bg', 'fg'].map((s) => stateOf(join(tmp.path, s))));
        const pids = states.flatMap((s) => sessionPids(s!));
        assert.equal(alivePids(pids).length, pids.length, 'every process of both sessions runs');
        runner.kill(signal);
        await once(runner, 'exit');
        // Each session powers its guest off (graceful stop), so allow for that.
        await eventually(() => (alivePids(pids).length === 0 ? true : undefined), 60000, `the sessions' processes to end (${alivePids(pids).join(' ')})\n${out}`);
        assert.deepEqual(await leftovers(tmp.path), []);
      } finally {
        await tmp.remove();
      }
    });
  }
});
