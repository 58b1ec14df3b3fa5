import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { switchMgmtSocket } from '../../src/switch/launch.js';
import { vdeSwitchArgv } from '../../src/switch/vde-argv.js';

describe('vde_switch argv', () => {
  it('runs a switch with 32 ports and private sockets (socket directory 0700, sockets 0600)', () => {
    assert.deepEqual(vdeSwitchArgv({ name: 's1', hub: false, socket: '/s/s1', mgmt: '/s/s1.mgmt' }), ['-sock', '/s/s1', '-mode', '0600', '-dirmode', '0700', '-mgmt', '/s/s1.mgmt', '-mgmtmode', '0600', '-numports', '64']);
  });
  it('makes a hub repeat every frame', () => {
    assert.deepEqual(vdeSwitchArgv({ name: 'h', hub: true, socket: '/s/h', mgmt: '/s/h.mgmt', ports: 8 }).slice(-3), ['-numports', '8', '-hub']);
  });
  it('finds the management socket in the command line, which a start waits for as well as ctl', () => {
    assert.equal(switchMgmtSocket(vdeSwitchArgv({ name: 's1', hub: false, socket: '/s/s1', mgmt: '/s/s1.mgmt' })), '/s/s1.mgmt');
    assert.equal(switchMgmtSocket(['-sock', '/s/s1']), undefined);
  });
});
