import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wireFaultsFor } from '../../src/lab/driver/link.js';
import { initialNicStatus, patchNic } from '../../src/lab/driver/nic-status.js';

const PLAN = { eth: 'eth0', switch: 's1', port: 3, mac: 'AA:AA:AA:AA:00:00' };
const CAPTURE = { id: 'capture1', since: '2024-05-01T10:00:00.000Z' };

describe("a NIC's recorded status", () => {
  it('starts up, wired only with a planned wire, with the faults of its LINK line that act', () => {
    assert.deepEqual(initialNicStatus(PLAN, undefined), { ...PLAN, up: true, wired: false });
    assert.deepEqual(initialNicStatus(PLAN, { faults: {} }), { ...PLAN, up: true, wired: true });
    assert.deepEqual(initialNicStatus(PLAN, { faults: { lossPct: 10, dupPct: 0 } }), { ...PLAN, up: true, wired: true, faults: { lossPct: 10 } });
  });

  it('takes each given field and keeps the others; faults and captures are there only when there are some', () => {
    const start = initialNicStatus(PLAN, undefined);
    const down = patchNic(start, { up: false });
    assert.deepEqual(down, { ...PLAN, up: false, wired: false });
    const faulty = patchNic(down, { wired: true, faults: { delay: { ms: 40, jitterMs: 0 } } });
    assert.deepEqual(faulty, { ...PLAN, up: false, wired: true, faults: { delay: { ms: 40, jitterMs: 0 } } });
    const captured = patchNic(faulty, { captures: [CAPTURE] });
    assert.deepEqual(captured, { ...PLAN, up: false, wired: true, faults: { delay: { ms: 40, jitterMs: 0 } }, captures: [CAPTURE] });
    assert.deepEqual(patchNic(captured, { captures: [], faults: { delay: { ms: 0, jitterMs: 0 } } }), { ...PLAN, up: false, wired: true });
  });

  it('returns a new record and leaves the one it was given alone', () => {
    const start = initialNicStatus(PLAN, undefined);
    const captures = [CAPTURE];
    const after = patchNic(start, { captures });
    captures.push({ id: 'capture2', since: CAPTURE.since });
    assert.deepEqual(after.captures, [CAPTURE]);
    assert.equal('captures' in start, false);
  });
});

describe('the faults sent to a wirefilter', () => {
  it('are the given ones, except a loss while the wirefilter itself holds the link down', () => {
    assert.deepEqual(wireFaultsFor({ lossPct: 30, dupPct: 1 }, false), { lossPct: 30, dupPct: 1 });
    assert.deepEqual(wireFaultsFor({ lossPct: 30, dupPct: 1 }, true), { dupPct: 1 });
  });
});
