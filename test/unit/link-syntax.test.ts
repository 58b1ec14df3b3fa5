import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLinkSetting, wirefilterCommands } from '../../src/topology/link-syntax.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';

describe('link faults syntax', () => {
  it('reads delay (with jitter), loss, dup, bandwidth in bits or bytes, mtu, into wirefilter commands', () => {
    const settings: Array<[string, string]> = [['delay', '40ms+10ms'], ['loss', '10%'], ['dup', '1.5'], ['bandwidth', '10mbit'], ['mtu', '1400']];
    let faults = {};
    for (const [n, v] of settings) {
      const r = parseLinkSetting(n, v, faults);
      assert.ok(r.ok);
      faults = r.faults;
    }
    assert.deepEqual(wirefilterCommands(faults), ['delay 40+10', 'loss 10', 'dup 1.5', 'bandwidth 1250000', 'mtu 1400']);
    assert.deepEqual(parseLinkSetting('bandwidth', '125000'), { ok: true, faults: { bandwidth: 125000 } });
  });

  it('refuses malformed values with what is allowed', () => {
    assert.deepEqual(parseLinkSetting('loss', '101%'), { ok: false, problem: 'loss=101%: write a percentage from 0 to 100, like 10%' });
    assert.deepEqual(parseLinkSetting('mtu', '20'), { ok: false, problem: 'mtu=20: write a size in bytes from 68 to 65535' });
    assert.deepEqual(parseLinkSetting('bandwidth', 'fast'), { ok: false, problem: 'bandwidth=fast: write bytes per second, or bits with a unit: 500kbit, 10mbit, 1gbit' });
  });

  it('LINK lines name an existing NIC', () => {
    const topo = resolveTopology(parseTopology('SWITCH s1\nHOST tiny a s1\nLINK a:eth0 delay=40ms loss=5%\n', 't.topo'));
    assert.deepEqual(topo.links, [{ host: 'a', nic: 0, faults: { delay: { ms: 40, jitterMs: 0 }, lossPct: 5 } }]);
    assert.throws(() => resolveTopology(parseTopology('SWITCH s1\nHOST tiny a s1\nLINK a:eth1 loss=5%\n', 't.topo')), /t\.topo:3:6: host a has no eth1; it has eth0/);
    assert.throws(() => resolveTopology(parseTopology('SWITCH s1\nHOST tiny a s1\nLINK z:eth0 loss=5%\n', 't.topo')), /t\.topo:3:6: LINK names host z, which is not defined/);
  });
});
