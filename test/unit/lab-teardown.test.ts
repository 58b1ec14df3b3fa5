import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Lab } from '../../src/lab/driver/lab.js';
import type { LabPlan } from '../../src/lab/plan.js';
import { sessionPaths } from '../../src/session/paths.js';

/** A session with nothing in it: the teardown only closes its files and lets go of its lock. */
function emptyLab(dir: string, release: () => Promise<void>, state = sessionPaths(dir).state): Lab {
  const plan: LabPlan = { dir, topologyFile: join(dir, 'topology'), user: 'root', switches: [], hosts: [], trunks: [], taps: [], wires: [], vlan: false, waveDelays: [], notes: [] };
  return new Lab(plan, { ...sessionPaths(dir), state }, { accel: 'tcg', lock: { release }, consoleCommand: () => [] });
}

describe('Lab teardown', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-teardown-'));
    dirs.push(dir);
    return dir;
  };
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('stops, writes the state and lets go of the lock', async () => {
    const dir = await tmp();
    let released = 0;
    const lab = emptyLab(dir, () => {
      released++;
      return Promise.resolve();
    });
    await lab.stop();
    await lab.ended;
    assert.equal(released, 1);
    const state = JSON.parse(await readFile(sessionPaths(dir).state, 'utf8')) as { phase: string; error?: string };
    assert.equal(state.phase, 'stopped');
    assert.equal(state.error, undefined);
  });

  it('runs to the end when a step fails: stop() resolves, ended resolves, the failure is kept as the error', async () => {
    const dir = await tmp();
    const lab = emptyLab(dir, () => Promise.reject(new Error('lock file gone')));
    await lab.stop();
    await lab.ended;
    assert.equal(lab.state().phase, 'stopped');
    assert.equal(lab.state().error, 'releasing the session lock: lock file gone');
  });

  it('lets go of the lock even when the state file cannot be written', async () => {
    const dir = await tmp();
    const state = join(dir, 'state-is-a-directory');
    await mkdir(state);
    let released = 0;
    const lab = emptyLab(dir, () => {
      released++;
      return Promise.resolve();
    }, state);
    await lab.stop();
    await lab.ended;
    assert.equal(released, 1);
  });
});
