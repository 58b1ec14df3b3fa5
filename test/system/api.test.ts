import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SessionClient, type SessionState } from '../../src/api/index.js';
import { leftovers, qemunet } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** Resolves with the first state pushed at index `from` or later that `match` accepts. */
function pushed(states: SessionState[], from: number, match: (s: SessionState) => boolean, what: string, timeoutMs = 120000): Promise<SessionState> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = states.slice(from).find(match);
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no pushed state showed ${what}; last: ${JSON.stringify(states.at(-1)?.hosts.map((h) => [h.name, h.state]))}`));
      setTimeout(check, 50);
    };
    check();
  });
}

const hostState = (name: string, state: string) => (s: SessionState) => s.hosts.some((h) => h.name === name && h.state === state);

describe('the session API', { timeout: 300000 }, () => {
  test('pushes every state change to a subscriber; powers a host off and on; stops the session', async () => {
    await tinyImage();
    const tmp = suiteDir('api');
    try {
      const topo = join(tmp.path, 'two.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\nHOST tiny b s1\n');
      const dir = join(tmp.path, 's');
      const started = await qemunet(['up', topo, '--session', dir, '-K', '--detach'], { cwd: tmp.path });
      assert.equal(started.code, 0, started.stderr);
      const session = await SessionClient.find(dir);
      const states: SessionState[] = [];
      const sub = await session.subscribe((s) => states.push(s));
      assert.equal(sub.state.dir, dir);
      // Readiness arrives as a push, not by reading the state file.
      await pushed(states, 0, (s) => s.hosts.every((h) => h.state === 'ready'), 'both hosts ready');

      // A capture and a link down on a, which its power-off and restart take away.
      const capture = await session.capture('a:eth0', join(tmp.path, 'a.pcap'));
      await session.setLink('a:eth0', false);
      const eth0 = (s: SessionState) => s.hosts.find((h) => h.name === 'a')!.nics[0]!;
      assert.equal(eth0(await session.status()).captures?.length, 1);
      const since = states.length;
      await session.powerOffHost('a');
      await pushed(states, since, hostState('a', 'stopping'), 'a stopping');
      const off = await pushed(states, since, hostState('a', 'stopped'), 'a stopped');
      assert.equal(off.hosts.find((h) => h.name === 'a')?.detail, 'powered off');
      assert.equal('captures' in eth0(off), false, 'its capture went with its QEMU');
      await capture.stop();
      assert.equal(off.phase, 'running', 'the session goes on with b');
      const log = await session.status();
      assert.equal(log.hosts.find((h) => h.name === 'b')?.state, 'ready');

      const beforeRestart = states.length;
      await session.restartHost('a');
      const again = await pushed(states, beforeRestart, hostState('a', 'ready'), 'a ready again');
      assert.equal(eth0(again).up, true, 'a new QEMU has its cable in');
      await assert.rejects(session.powerOffHost('nobody'), { code: 'UNKNOWN_HOST', message: 'the session has no host nobody; hosts: a, b' });

      const stopped = await session.stop();
      assert.equal(stopped.phase, 'stopped');
      await sub.closed;
      assert.ok(states.some((s) => s.phase === 'stopping'), 'the stop was pushed too');
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });
});
