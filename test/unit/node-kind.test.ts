import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CapabilityError, KIND_CAPABILITIES, requireCapability } from '../../src/node/kind.js';

describe('node kinds', () => {
  it('QEMU hosts can do everything qemunet does to a host', () => {
    assert.deepEqual([...KIND_CAPABILITIES.qemu].sort(), ['capture', 'console', 'exec', 'freeze', 'launch', 'link', 'readiness', 'save', 'screen', 'stop']);
    assert.doesNotThrow(() => requireCapability('alpha', 'qemu', 'capture'));
  });

  it('a capability a kind lacks is a typed error naming the host, its kind and what it can do', () => {
    assert.throws(() => requireCapability('u1', 'uml', 'capture'), (e: unknown) => {
      assert.ok(e instanceof CapabilityError);
      assert.equal(e.code, 'NOT_SUPPORTED');
      assert.equal(e.host, 'u1');
      assert.equal(e.kind, 'uml');
      assert.equal(e.message, 'host u1 is a uml host, which cannot capture its NIC traffic; a uml host can: launch, stop, console, readiness, exec, freeze, link, save');
      return true;
    });
  });
});
