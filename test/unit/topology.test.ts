import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { fixture } from '../helpers/fixtures.js';

const load = (text: string, file = 't.topo') => resolveTopology(parseTopology(text, file));

describe('topology', () => {
  it("parses and resolves every QemuNet demo topology", async () => {
    const files = (await readdir(fixture('topologies'))).filter((f) => f.endsWith('.topo'));
    assert.equal(files.length, 17);
    for (const f of files) {
      const path = fixture('topologies', f);
      const topo = load(await readFile(path, 'utf8'), path);
      assert.ok(topo.hosts.length > 0, f);
    }
  });

  it('numbers ports as QemuNet does (gw.topo)', async () => {
    const path = fixture('topologies', 'gw.topo');
    const topo = load(await readFile(path, 'utf8'), path);
    assert.deepEqual(topo, {
      file: path,
      switches: [{ name: 's1', hub: false, portsUsed: 2 }, { name: 's2', hub: false, portsUsed: 3 }],
      hosts: [
        { name: 'immortal', system: 'debian', systemColumn: 6, nics: [{ index: 0, switch: 's1', port: 1 }, { index: 1, switch: 's2', port: 1 }], wave: 0, line: 19 },
        { name: 'opeth', system: 'debian', systemColumn: 6, nics: [{ index: 0, switch: 's2', port: 2 }], wave: 0, line: 20 },
        { name: 'syl', system: 'debian', systemColumn: 6, nics: [{ index: 0, switch: 's2', port: 3 }], wave: 0, line: 21 },
        { name: 'grave', system: 'debian', systemColumn: 6, nics: [{ index: 0, switch: 's1', port: 2 }], wave: 0, line: 22 },
      ],
      trunks: [],
      taps: [],
      links: [],
      waveDelays: [0],
    });
  });

  it('puts trunks from port 21, and sleep starts a new wave', async () => {
    const trunk = load(await readFile(fixture('topologies', 'trunk.topo'), 'utf8'));
    assert.deepEqual(trunk.trunks, [{ a: { switch: 's1', port: 21 }, b: { switch: 's2', port: 21 } }]);
    const y = load(await readFile(fixture('topologies', 'ychain.topo'), 'utf8'));
    assert.deepEqual(y.hosts.map((h) => [h.name, h.display ?? '', h.wave]), [['immortal', 'xterm', 0], ['grave', 'xterm', 0], ['syl', '', 0], ['opeth', 'xterm', 1], ['nile', '', 1]]);
    assert.deepEqual(y.waveDelays, [0, 5]);
    assert.deepEqual(load('SWITCH s\nHUB h\nHOST tiny a s h # c\n').switches, [{ name: 's', hub: false, portsUsed: 1 }, { name: 'h', hub: true, portsUsed: 1 }]);
  });

  const errors: Array<[string, string, string]> = [
    ['unknown keyword', 'SWITCH s1\nROUTER r1\n', 't.topo:2:1: unknown keyword "ROUTER"; allowed: SWITCH, HUB, HOST, TRUNK, TAP, LINK, sleep, and # comments'],
    ['HOST on an undefined switch', 'SWITCH s1\nHOST tiny a s1 s9\n', 't.topo:2:16: HOST a is on switch s9, which is not defined; defined switches: s1'],
    ['duplicate name', 'SWITCH s1\nHOST tiny a s1\nHOST tiny a s1\n', 't.topo:3:1: the name a is already used at line 2'],
    ['host named like a switch', 'SWITCH s1\nHOST tiny s1 s1\n', 't.topo:2:1: the name s1 is already used at line 1'],
    ['bad characters', 'SWITCH s1\nHOST tiny ../etc s1\n', `t.topo:2:11: "../etc" is not valid as a host name after the system: use letters, digits, '.', '_' and '-', starting with a letter or digit`],
    ['shell metacharacters', 'SWITCH $(reboot)\n', `t.topo:1:8: "$(reboot)" is not valid as a switch name: use letters, digits, '.', '_' and '-', starting with a letter or digit`],
    ['a name too long', `HOST tiny ${'a'.repeat(33)}\n`, `t.topo:1:11: "${'a'.repeat(33)}" is too long for a host name after the system (at most 32 characters)`],
    ['empty topology', '\n  \n', 't.topo:1:1: the topology is empty; it needs at least one HOST line (keywords: SWITCH, HUB, HOST, TRUNK, TAP, LINK, sleep)'],
    ['only comments and switches', '# x\nSWITCH s1\n', 't.topo:1:1: the topology has no HOST line'],
    ['too many NICs on a switch', `SWITCH s\n${Array.from({ length: 21 }, (_, i) => `HOST tiny h${i} s`).join('\n')}\n`, 't.topo:22:15: switch s has no free port for h20: at most 20 host NICs per switch (ports 21-32 are for trunks)'],
    ['trunk with itself', 'SWITCH s1\nTRUNK s1 s1\nHOST tiny a s1\n', 't.topo:2:1: TRUNK joins switch s1 with itself; name two different switches'],
    ['trunk to an unknown switch', 'SWITCH s1\nTRUNK s1 s2\nHOST tiny a s1\n', 't.topo:2:1: TRUNK names switch s2, which is not defined; defined switches: s1'],
    ['bad display mode', 'HOST tiny/x11 a\n', 't.topo:1:6: unknown display mode "x11"; allowed: none, nographic, graphic, gtk, sdl, vnc, spice, xterm, rxvt, gnome, xfce4, tmux, screen'],
    ['bad sleep', 'sleep soon\nHOST tiny a\n', 't.topo:1:7: sleep needs a number of seconds, like "sleep 5"'],
  ];
  for (const [what, text, message] of errors) {
    it(`rejects ${what} with file:line:column`, () => assert.throws(() => load(text), { message }));
  }
});

describe('TAP lines', () => {
  it('put a tap after the hosts of its switch, so hosts keep QemuNet port numbers', () => {
    const topo = load('SWITCH s1\nTAP qtap0 s1 10.0.0.254/24\nHOST tiny a s1\nHOST tiny b s1\n', 't.topo');
    assert.deepEqual(topo.taps, [{ name: 'qtap0', switch: 's1', port: 3, address: '10.0.0.254/24' }]);
    assert.deepEqual(topo.hosts.map((h) => h.nics[0]!.port), [1, 2]);
  });

  it('refuse a bad name, a bad address, an unknown switch', () => {
    assert.throws(() => load('SWITCH s1\nHOST tiny a s1\nTAP averyveryverylongname s1\n', 't.topo'), /t\.topo:3:5: TAP needs an interface name/);
    assert.throws(() => load('SWITCH s1\nHOST tiny a s1\nTAP t0 s1 10.0.0.1\n', 't.topo'), /t\.topo:3:11: "10\.0\.0\.1" is not an address with its prefix, like 10\.0\.0\.254\/24/);
    assert.throws(() => load('SWITCH s1\nHOST tiny a s1\nTAP t0 s9\n', 't.topo'), /t\.topo:3:8: TAP t0 is on switch s9, which is not defined; defined switches: s1/);
  });
});
