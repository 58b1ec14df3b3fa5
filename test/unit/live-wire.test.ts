import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeWirePorts, privateVlan, untaggedVlanOf, vlanTable } from '../../src/switch/live-wire.js';
import { faultLines } from '../../src/switch/wirefilter.js';

describe('a wirefilter put in live: reading the switch, choosing ports and a VLAN (pure)', () => {
  it("reads a port's untagged VLAN from port/print, and refuses an answer about another port", () => {
    const lines = ['Port 0002 untagged_vlan=0010 ACTIVE - Unnamed Allocatable', ' Current User: root Access Control: (User: NONE - Group: NONE)', ' IN:  pkts         12          bytes                  944'];
    assert.equal(untaggedVlanOf(lines, 2), 10);
    assert.throws(() => untaggedVlanOf(lines, 3), { code: 'SWITCH_COMMAND', message: /^the switch did not describe port 3: Port 0002 untagged_vlan=0010/ });
  });

  it('reads vlan/allprint: each VLAN with its ports, tagged or not', () => {
    const lines = ['VLAN 0000', ' -- Port 0002 tagged=0 active=1 status=Forwarding', 'VLAN 0100', ' -- Port 0001 tagged=0 active=1 status=Forwarding', ' -- Port 0021 tagged=1 active=1 status=Forwarding', 'VLAN 4001'];
    assert.deepEqual([...vlanTable(lines)], [
      [0, [{ port: 2, tagged: false }]],
      [100, [{ port: 1, tagged: false }, { port: 21, tagged: true }]],
      [4001, []],
    ]);
  });

  it('takes the highest VLAN number the switch lacks', () => {
    assert.equal(privateVlan([0, 100]), 4093);
    assert.equal(privateVlan([0, 4093, 4092]), 4091);
  });

  it('takes the two highest free ports, the NIC side first; none when fewer than two are free', () => {
    assert.deepEqual(freeWirePorts(new Set([1, 2, 21]), 31), [31, 30]);
    assert.deepEqual(freeWirePorts(new Set([1, 31, 29]), 31), [30, 28]);
    assert.equal(freeWirePorts(new Set([1, 2, 3]), 4), undefined);
  });
});

describe("a wirefilter's showinfo", () => {
  it('keeps the lines of the faults it puts on frames, one per fault name', () => {
    const showinfo = ['Wirefilter 2.3.2', 'Loss   L->R 10.00  R->L 10.00', 'Lostburst L->R 0.00', 'Delay  L->R 40+0U  R->L 40+0U', 'Dup    L->R 0.00', 'Bandw  L->R 0 R->L 0', 'Speed L->R 0', 'Capacity L->R 0', 'MTU    L->R 0 R->L 0', 'Fifoness FALSE', 'Waiting packets'];
    assert.deepEqual(faultLines(showinfo), ['Loss   L->R 10.00  R->L 10.00', 'Delay  L->R 40+0U  R->L 40+0U', 'Dup    L->R 0.00', 'Bandw  L->R 0 R->L 0', 'MTU    L->R 0 R->L 0']);
  });
});
