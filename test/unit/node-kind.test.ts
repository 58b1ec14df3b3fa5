import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinCatalog } from '../../src/config/catalog.js';
import { builtImagePaths } from '../../src/images/store.js';
import { capabilitiesOf, capabilityOf, CapabilityError, kindNamed, kindOfSystem, registeredKinds } from '../../src/lab/kinds/index.js';

const CATALOG = builtinCatalog((n) => builtImagePaths('/store', n));

describe('host kinds', () => {
  it('registers QEMU and UML, each once', () => {
    assert.deepEqual(registeredKinds().map((k) => k.name), ['qemu', 'uml']);
  });

  it('QEMU hosts can do everything qemunet does to a host: link through the carrier, capture, screen, save', () => {
    const qemu = kindNamed('qemu');
    assert.deepEqual(capabilitiesOf(qemu), ['launch', 'stop', 'console', 'readiness', 'exec', 'freeze', 'link', 'capture', 'screen', 'save']);
    assert.equal(qemu.link?.via, 'carrier');
    assert.equal(qemu.sys, undefined, 'QEMU runs every system no other kind claims');
    assert.equal(qemu.processName, 'QEMU');
    assert.equal(qemu.restartRenewsWires, false);
    assert.ok(qemu.accel);
    assert.deepEqual(qemu.programs, ['qemu-system-x86_64', 'qemu-img']);
    assert.doesNotThrow(() => capabilityOf('alpha', qemu, 'capture'));
  });

  it('UML hosts set their link in the wirefilter, and have no capture and no screen', () => {
    const uml = kindNamed('uml');
    assert.deepEqual(capabilitiesOf(uml), ['launch', 'stop', 'console', 'readiness', 'exec', 'freeze', 'link', 'save']);
    assert.equal(uml.link?.via, 'wire');
    assert.equal(uml.sys, 'uml');
    assert.equal(uml.capture, undefined);
    assert.equal(uml.screen, undefined);
    assert.equal(uml.accel, undefined);
    assert.equal(uml.processName, 'UML');
    assert.equal(uml.restartRenewsWires, true);
    assert.deepEqual(uml.programs, ['bwrap', 'dpipe', 'wirefilter', 'vde_plug', 'uml_mconsole']);
  });

  it('a system runs under the kind that claims its SYS value, else under QEMU', () => {
    assert.equal(kindOfSystem(CATALOG.get('tiny-uml')!).name, 'uml');
    assert.equal(kindOfSystem(CATALOG.get('tiny')!).name, 'qemu');
    assert.equal(kindOfSystem({ ...CATALOG.get('tiny')!, sys: 'windows' }).name, 'qemu');
  });

  it('a capability a kind lacks is a typed error naming the host, its kind and what it can do', () => {
    for (const capability of ['capture', 'screen'] as const) {
      assert.throws(() => capabilityOf('u1', kindNamed('uml'), capability), (e: unknown) => {
        assert.ok(e instanceof CapabilityError);
        assert.equal(e.code, 'NOT_SUPPORTED');
        assert.equal(e.host, 'u1');
        assert.equal(e.kind, 'uml');
        assert.equal(e.capability, capability);
        assert.equal(e.message, `host u1 is a uml host, which cannot ${capability === 'capture' ? 'capture its NIC traffic' : 'have a screen'}; a uml host can: launch, stop, console, readiness, exec, freeze, link, save`);
        return true;
      });
    }
  });
});
