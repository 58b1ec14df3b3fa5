import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readState } from '../../src/lab/state.js';
import { sessionPaths } from '../../src/session/paths.js';
import { run } from '../../src/process/run.js';
import { alivePids, qemunet, sessionPids } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** Bad input: a clear error naming the file, line and what is allowed; nothing created, nothing left running. */
describe('qemunet up refuses bad input', { timeout: 300000 }, () => {
  const tmp = suiteDir('errors');
  const at = (name: string) => join(tmp.path, name);
  const session = at('session');

  async function upFails(file: string, text: string | undefined, expected: string, extra: string[] = []) {
    if (text !== undefined) await writeFile(at(file), text);
    const r = await qemunet(['up', at(file), '--session', session, '-K', ...extra], { cwd: tmp.path });
    assert.equal(r.stderr, `qemunet: ${expected}\n`);
    assert.equal(r.code, 1);
    await assert.rejects(readdir(session), { code: 'ENOENT' }, 'no session directory is made for bad input');
  }

  before(() => tinyImage());
  after(() => tmp.remove());

  test('unknown keyword', () => upFails('kw.topo', 'SWITCH s1\nROUTER r1\n', `${at('kw.topo')}:2:1: unknown keyword "ROUTER"; allowed: SWITCH, HUB, HOST, TRUNK, TAP, LINK, sleep, and # comments`));
  test('HOST on an undefined switch', () => upFails('sw.topo', 'SWITCH s1\nHOST tiny a s2\n', `${at('sw.topo')}:2:13: HOST a is on switch s2, which is not defined; defined switches: s1`));
  test('duplicate name', () => upFails('dup.topo', 'SWITCH s1\nHOST tiny a s1\nHOST tiny a s1\n', `${at('dup.topo')}:3:1: the name a is already used at line 2`));
  test('bad characters in a name', () =>
    upFails('chars.topo', 'SWITCH s1\nHOST tiny a;rm s1\n', `${at('chars.topo')}:2:11: "a;rm" is not valid as a host name after the system: use letters, digits, '.', '_' and '-', starting with a letter or digit`));
  test('empty topology', () => upFails('empty.topo', '', `topology file ${at('empty.topo')} is empty; it needs SWITCH and HOST lines (see QemuNet's demo/*.topo)`));
  test('missing topology', () => upFails('nosuch.topo', undefined, `topology file ${at('nosuch.topo')} does not exist`));
  test('unreadable topology (a directory)', async () => {
    await mkdir(at('dir.topo'));
    await upFails('dir.topo', undefined, `topology file ${at('dir.topo')} is a directory`);
  });
  test('more NICs on a switch than it has ports', () => {
    const hosts = Array.from({ length: 21 }, (_, i) => `HOST tiny h${i + 1} s1\n`).join('');
    return upFails('full.topo', `SWITCH s1\n${hosts}`, `${at('full.topo')}:22:15: switch s1 has no free port for h21: at most 20 host NICs per switch (ports 21-32 are for trunks)`);
  });
  test('unknown system: lists the known ones and the config files read', () =>
    // (QemuNet's lan.topo names debian, which is built in now: it would start.)
    upFails(
      'win.topo',
      'SWITCH s1\nHOST win10 a s1\n',
      `${at('win.topo')}:2:6: unknown system "win10" for host a; known systems: tiny (built-in), debian (built-in), tiny-uml (built-in); config files read: none (give one with -c FILE, or put qemunet.cfg in the working directory); --alias win10=tiny runs it on the built-in image`,
    ));
  test('image file missing', async () => {
    const cfg = fixture('qemunet.cfg');
    const r = await qemunet(['up', fixture('topologies', 'lan.topo'), '-c', cfg, '--session', session, '-K'], { cwd: tmp.path });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `qemunet: the FS file of system debian (${cfg}:38) is missing or unreadable: ${fixture('images', 'debian10.img')}; download it with: qemunet -D debian (from http://aurelien.esnard.emi.u-bordeaux.fr/qemunet/debian10.tgz)\n`);
  });
  test('an unknown display mode names the allowed ones, at its place in the topology', async () => {
    const allowed = 'none, nographic, graphic, gtk, sdl, vnc, spice, xterm, rxvt, gnome, xfce4, tmux, screen';
    await upFails('fancy.topo', 'SWITCH s1\nHOST tiny/fancy a s1\n', `${at('fancy.topo')}:2:6: unknown display mode "fancy"; allowed: ${allowed}`);
    const r = await qemunet(['-t', at('fancy.topo'), '-d', 'weird'], { cwd: tmp.path });
    assert.deepEqual([r.code, r.stderr], [2, `qemunet: unknown display mode "weird"; allowed: ${allowed}\n`]);
  });

  test('a missing program names its Debian package', async () => {
    const bin = at('bin');
    await mkdir(bin);
    await symlink('/usr/bin/qemu-system-x86_64', join(bin, 'qemu-system-x86_64'));
    await symlink('/usr/bin/vde_switch', join(bin, 'vde_switch'));
    await writeFile(at('one.topo'), 'SWITCH s1\nHOST tiny a s1\n');
    const r = await qemunet(['up', at('one.topo'), '--session', at('s-bin'), '-K'], { env: { ...process.env, PATH: bin } });
    // The switch is there: what a QEMU host needs besides QEMU is missing.
    assert.deepEqual([r.code, r.stderr], [1, 'qemunet: qemu-img was not found on PATH. Install it with: apt-get install qemu-utils\n']);
  });

  test('a VM that exits at once: QEMU\'s own message, the rest torn down', async () => {
    const image = await tinyImage();
    await writeFile(
      at('bad.cfg'),
      `SYS[bad]="linux"\nFS[bad]="${image.fs}"\nKERNEL[bad]="${image.kernel}"\nINITRD[bad]="${image.initrd}"\nQEMUOPT[bad]="-no-such-option"\n`,
    );
    await writeFile(at('vmfail.topo'), 'SWITCH s1\nHOST tiny a s1\nHOST bad b s1\n');
    const dir = at('s-vmfail');
    const r = await qemunet(['up', at('vmfail.topo'), '-c', at('bad.cfg'), '--session', dir, '-K'], { cwd: tmp.path });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^qemunet: VM b: QEMU exited at start \(1\):\nqemu-system-x86_64: -no-such-option: invalid option\n$/);
    const state = (await readState(sessionPaths(dir).state))!;
    assert.equal(state.phase, 'failed');
    assert.equal(state.hosts.length, 2);
    assert.ok(state.switches[0]!.pid, 'the switch had started');
    assert.deepEqual(alivePids(sessionPids(state).filter((p) => p !== state.pid)), []);
  });

  test('a session archive whose overlay names an external data file: refused, the file untouched, nothing left running', async () => {
    const lab = at('evil-lab');
    await mkdir(lab);
    await writeFile(join(lab, 'topology'), 'SWITCH s1\nHOST tiny a s1\n');
    // QEMU runs as root here: the overlay's data file would be read and written as the guest's disk.
    const victim = at('victim');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${victim}`, join(lab, 'a.qcow2'), '64M']);
    await writeFile(victim, 'a file of the machine\n');
    await run('tar', ['-czf', at('evil.tgz'), '-C', lab, 'topology', 'a.qcow2']);
    const dir = at('s-evil');
    const r = await qemunet(['up', '--from', at('evil.tgz'), '--session', dir, '-K'], { cwd: tmp.path });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `qemunet: ${join(dir, 'a.qcow2')} is not given to QEMU: it keeps its data in an external file. A host's overlay must be a plain qcow2 file on its base image, as qemunet and QemuNet make them; remove it to start the host afresh\n`);
    assert.equal(await readFile(victim, 'utf8'), 'a file of the machine\n');
    const state = await readState(sessionPaths(dir).state);
    if (state) assert.deepEqual(alivePids(sessionPids(state).filter((p) => p !== state.pid)), []);
  });
});
