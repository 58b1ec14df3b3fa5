import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** The package's root, from build/test/unit/. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string };

describe('the package entry (package.json main and types)', () => {
  it('exports the public API: functions and error classes', async () => {
    const api = (await import(pathToFileURL(join(ROOT, pkg.main)).href)) as Record<string, unknown>;
    const functions = ['up', 'dryRun', 'checkUp', 'sessionDirectory', 'startDetached', 'launchWeb', 'isLive', 'listSessions', 'parseNicRef', 'exitStatus', 'isKnownCode', 'parseLinkSetting', 'faultLabel', 'parseLayout', 'buildImage', 'listImages', 'pullImage', 'removeImage', 'parseTopology', 'resolveTopology', 'isQemunetError', 'labEnvironment', 'gradeClass', 'gradeSaved', 'studentOf', 'assess', 'probeMachine', 'versions', 'demoTopologies', 'topologyArgument', 'packageFile'];
    const values = ['DEFAULT_BOOT_LIMITS', 'FAULT_NAMES', 'FINAL_HOST_STATES', 'DISPLAY_MODES', 'TINY_TCG_CACHE_MIB', 'QEMUNET_VERSION'];
    const classes = ['SessionClient', 'FileFollower', 'QemunetError', 'InputError', 'ProcessError', 'ImageError', 'VmError', 'SessionError', 'UsageError', 'InterruptedError', 'EnvironmentError'];
    assert.deepEqual(Object.keys(api).sort(), [...functions, ...values, ...classes].sort(), 'only the public API');
    for (const name of functions) assert.equal(typeof api[name], 'function', name);
    const Base = api.QemunetError as new (code: string, message: string) => Error;
    for (const name of classes.filter((c) => c !== 'SessionClient' && c !== 'FileFollower')) {
      const C = api[name] as { prototype: unknown };
      assert.ok(C.prototype === Base.prototype || C.prototype instanceof Base, `${name} is a QemunetError class`);
    }
    assert.equal(new Base('X', 'm').name, 'QemunetError');
  });

  it('has its type declarations where package.json says', () => {
    assert.ok(existsSync(join(ROOT, pkg.types)), `${pkg.types} exists after the build`);
  });

  it('parses and resolves a topology through the API', async () => {
    const api = (await import(pathToFileURL(join(ROOT, pkg.main)).href)) as typeof import('../../src/index.js');
    const topology = api.resolveTopology(api.parseTopology('SWITCH s1\nHOST tiny a s1\n', 'lan.topo'));
    assert.deepEqual(topology.hosts.map((h) => h.name), ['a']);
  });
});
