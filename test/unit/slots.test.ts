import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Slots } from '../../src/lab/driver/slots.js';

describe('Slots', () => {
  it('lets `size` holders in at once and the next waiter in, in order, as each releases', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'nobody gets in while both slots are held');
    a();
    a(); // releasing twice frees one slot, not two
    const releaseC = await c;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['c']);
    b();
    (await d)();
    releaseC();
    assert.deepEqual(order, ['c', 'd']);
  });

  it('has at least one slot', async () => {
    const slots = new Slots(0);
    const release = await slots.acquire();
    release();
  });
});
