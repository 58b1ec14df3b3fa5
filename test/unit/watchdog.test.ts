import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BootWatchdog, type StallKind } from '../../src/lab/driver/watchdog.js';

describe('boot watchdog', () => {
  it('reports a silent guest and a guest that is not ready, each once', async () => {
    const stalls: Array<[string, StallKind]> = [];
    const dog = new BootWatchdog({ silentMs: 20, notReadyMs: 60 }, (h, k) => stalls.push([h, k]));
    dog.start('a');
    dog.start('b');
    dog.printed('b');
    await sleep(150);
    dog.stopAll();
    assert.deepEqual(stalls.sort(), [['a', 'not-ready'], ['a', 'silent'], ['b', 'not-ready']]);
  });
  it('starts a limit over while the machine is crowded, and reports once it is not', async () => {
    const stalls: Array<[string, StallKind]> = [];
    let crowded = true;
    const dog = new BootWatchdog({ silentMs: 20, notReadyMs: 40 }, (h, k) => stalls.push([h, k]), () => crowded);
    dog.start('a');
    await sleep(150);
    assert.deepEqual(stalls, []);
    crowded = false;
    await sleep(100);
    dog.stopAll();
    assert.deepEqual(stalls.sort(), [['a', 'not-ready'], ['a', 'silent']]);
  });
  it('forgets a guest once it is done', async () => {
    const stalls: Array<[string, StallKind]> = [];
    const dog = new BootWatchdog({ silentMs: 20, notReadyMs: 40 }, (h, k) => stalls.push([h, k]), () => false);
    dog.start('a');
    dog.done('a');
    await sleep(80);
    assert.deepEqual(stalls, []);
  });
});
