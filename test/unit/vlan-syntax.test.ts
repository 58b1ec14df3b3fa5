import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { parsePortVlans, parseVlanList, switchVlanCommands } from '../../src/topology/vlan-syntax.js';

describe('VLANs in the topology', () => {
  it('reads switch:VLANS on HOST lines and a VLAN list on TRUNK lines', () => {
    assert.deepEqual(parsePortVlans('100'), { ok: true, value: { untagged: 100, tagged: [] } });
    assert.deepEqual(parsePortVlans('100,200'), { ok: true, value: { tagged: [100, 200] } });
    assert.deepEqual(parsePortVlans('100t'), { ok: true, value: { tagged: [100] } });
    assert.deepEqual(parseVlanList('1,4093'), { ok: true, value: [1, 4093] });
  });

  it('refuses ids outside 1..4093, repeats and words', () => {
    assert.deepEqual(parseVlanList('0'), { ok: false, problem: 'VLAN 0 is outside 1..4093' });
    assert.deepEqual(parseVlanList('4094'), { ok: false, problem: 'VLAN 4094 is outside 1..4093' });
    assert.deepEqual(parseVlanList('10,10'), { ok: false, problem: 'VLAN 10 is listed twice' });
    assert.deepEqual(parseVlanList('ten'), { ok: false, problem: '"ten" is not a VLAN id; write numbers from 1 to 4093, separated by commas' });
  });

  it('points at the VLAN of a bad HOST or TRUNK line', () => {
    assert.throws(() => parseTopology('SWITCH s1\nHOST tiny syl s1:5000\n', 'v.topo'), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, 'v.topo:2:18: VLAN 5000 is outside 1..4093 (in s1:5000; e.g. s1:100 untagged, s1:100,200 tagged)');
      return true;
    });
    assert.throws(() => parseTopology('SWITCH s1\nSWITCH s2\nTRUNK s1 s2 100,x\nHOST tiny a s1\n', 'v.topo'), /^InputError: v\.topo:3:13: "x" is not a VLAN id/);
  });

  it('makes the switch commands: VLANs created once, untagged and tagged ports, trunk ports tagged', () => {
    const topo = resolveTopology(parseTopology('SWITCH s1\nSWITCH s2\nTRUNK s1 s2 100,200\nHOST tiny syl s1:100\nHOST tiny opeth s1:200\nHOST tiny immortal s1:100,200\nHOST tiny plain s1\n', 'v.topo'));
    const s1 = [...topo.hosts.flatMap((h) => h.nics.filter((n) => n.switch === 's1')), { port: 21, vlans: { tagged: topo.trunks[0]!.vlans! } }];
    assert.deepEqual(switchVlanCommands(s1), [
      'vlan/create 100',
      'vlan/create 200',
      'port/setvlan 1 100',
      'port/setvlan 2 200',
      'vlan/addport 100 3',
      'vlan/addport 200 3',
      'vlan/addport 100 21',
      'vlan/addport 200 21',
    ]);
    assert.deepEqual(topo.hosts.map((h) => h.nics[0]!.vlans), [{ untagged: 100, tagged: [] }, { untagged: 200, tagged: [] }, { tagged: [100, 200] }, undefined]);
  });
});
