import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtinCatalog, mergeCatalog } from '../../src/config/catalog.js';
import { parseQemunetCfg } from '../../src/config/qemunet-cfg.js';
import { builtImagePaths } from '../../src/images/store.js';
import { loadCatalog } from '../../src/lab/catalog.js';
import { fixture } from '../helpers/fixtures.js';

const ctx = { qemunetDir: '/opt/qemunet', configDir: '/etc/qn', env: { HOME: '/home/u' } };

describe('qemunet.cfg', () => {
  it("reads QemuNet's own catalog as data", async () => {
    const file = fixture('qemunet.cfg');
    const cfg = parseQemunetCfg(await readFile(file, 'utf8'), file, ctx);
    assert.equal(cfg.imgdir, '/opt/qemunet/images');
    assert.deepEqual([...cfg.systems.keys()], ['tinycore', 'debian9', 'debian10', 'debian', 'debian10x', 'debianx', 'alpine', 'alpinex', 'kali', 'winxp', 'win10']);
    assert.deepEqual(cfg.systems.get('debian'), {
      name: 'debian',
      declaredAt: `${file}:38`,
      sys: 'linux',
      fs: '/opt/qemunet/images/debian10.img',
      kernel: '/opt/qemunet/images/debian10.vmlinuz',
      initrd: '/opt/qemunet/images/debian10.initrd',
      qemuopt: '-m 200',
      url: 'http://aurelien.esnard.emi.u-bordeaux.fr/qemunet/debian10.tgz',
    });
    assert.equal(cfg.systems.get('win10')?.qemuopt, '-m 4G -smp 2');
  });
  it('understands ${VAR}, single quotes and $(realpath PATH)', () => {
    const cfg = parseQemunetCfg("IMGDIR=$(realpath ../img)\nFS['a']=\"${IMGDIR}/a.img\" # c\nQEMUOPT[a]='-m 1G $x'\nKERNEL[a]=$HOME/k\n", '/etc/qn/q.cfg', ctx);
    assert.deepEqual(cfg.systems.get('a'), { name: 'a', declaredAt: '/etc/qn/q.cfg:2', fs: '/etc/img/a.img', qemuopt: '-m 1G $x', kernel: '/home/u/k' });
  });
  it('refuses shell code, naming file, line, column and what is allowed', () => {
    assert.throws(() => parseQemunetCfg('SYS[a]="linux"\nrm -rf /\n', 'q.cfg', ctx), { code: 'CONFIG_SYNTAX', message: 'q.cfg:2:1: cannot read "rm -rf /"; allowed: IMGDIR=..., SYS[name]=..., FS[name]=..., KERNEL[name]=..., INITRD[name]=..., URL[name]=..., QEMUOPT[name]=..., declare -A NAME, comments' });
    assert.throws(() => parseQemunetCfg('FS[a]=$(curl evil)\n', 'q.cfg', ctx), { message: 'q.cfg:1:7: only $VAR, ${VAR} and $(realpath PATH) are understood here' });
    assert.throws(() => parseQemunetCfg('FS[a]=x;reboot\n', 'q.cfg', ctx), { message: 'q.cfg:1:8: ";" is shell syntax that qemunet does not run; write a plain value' });
    assert.throws(() => parseQemunetCfg('FS[a]="$NOPE/x"\n', 'q.cfg', ctx), { code: 'CONFIG_VARIABLE' });
    assert.throws(() => parseQemunetCfg('DISK[a]=x\n', 'q.cfg', ctx), { message: 'q.cfg:1:1: unknown array DISK; allowed: SYS, FS, KERNEL, INITRD, URL, QEMUOPT' });
    assert.throws(() => parseQemunetCfg('FS[../x]=y\n', 'q.cfg', ctx), { code: 'CONFIG_NAME' });
  });
  it("names of Object.prototype's members are unknown variables, not JavaScript source", () => {
    assert.throws(() => parseQemunetCfg('FS[a]="$constructor/x"\n', 'q.cfg', ctx), { code: 'CONFIG_VARIABLE', message: 'q.cfg:1:7: unknown variable $constructor; known: QEMUNETDIR, HOME' });
    assert.throws(() => parseQemunetCfg('IMGDIR=/i\nKERNEL[a]=${toString}\n', 'q.cfg', ctx), { code: 'CONFIG_VARIABLE', message: 'q.cfg:2:11: unknown variable $toString; known: QEMUNETDIR, HOME, IMGDIR' });
    assert.throws(() => parseQemunetCfg('FS[a]=$(realpath $__proto__/a.img)\n', 'q.cfg', ctx), { code: 'CONFIG_VARIABLE', message: 'q.cfg:1:7: unknown variable $__proto__; known: QEMUNETDIR, HOME' });
    // Assigned, such a name is a variable like any other.
    assert.equal(parseQemunetCfg('__proto__=/p\nFS[a]="$__proto__/a.img"\n', 'q.cfg', ctx).systems.get('a')?.fs, '/p/a.img');
  });
  it('merges over the built-in catalog, which has tiny, debian and tiny-uml', () => {
    const cfg = parseQemunetCfg('SYS[x]="linux"\nFS[x]="/x.img"\nSYS[nofs]="linux"\n', 'q.cfg', ctx);
    const { catalog, notes } = mergeCatalog(builtinCatalog((n) => builtImagePaths('/s', n)), [cfg]);
    assert.deepEqual([...catalog.keys()], ['tiny', 'debian', 'tiny-uml', 'x']);
    assert.deepEqual(catalog.get('tiny-uml'), { name: 'tiny-uml', sys: 'uml', fs: '/s/tiny/tiny.img', kernel: '/s/tiny/tiny.linux-uml', qemuopt: '', builtin: 'tiny', source: 'built-in' });
    assert.equal(catalog.get('tiny')?.kernel, '/s/tiny/tiny.vmlinux');
    assert.deepEqual(catalog.get('debian'), { name: 'debian', sys: 'linux', fs: '/s/debian/debian.img', kernel: '/s/debian/debian.vmlinux', initrd: '/s/debian/debian.initrd', qemuopt: '', builtin: 'debian', source: 'built-in' });
    assert.deepEqual(notes, ['q.cfg:3: system nofs has no FS[nofs], so it is left out']);
  });
  it("a debian of the user's qemunet.cfg overrides the built-in one", () => {
    const cfg = parseQemunetCfg('SYS[debian]="linux"\nFS[debian]="/img/debian10.img"\n', 'q.cfg', ctx);
    const { catalog } = mergeCatalog(builtinCatalog((n) => builtImagePaths('/s', n)), [cfg]);
    assert.deepEqual(catalog.get('debian'), { name: 'debian', sys: 'linux', fs: '/img/debian10.img', qemuopt: '', source: 'q.cfg:1' });
  });
  it("a session started beside a qemunet.cfg that declares debian uses that debian, not the built-in one (which is then not built)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-cfg-'));
    try {
      const store = { storeDir: '/s', home: '/home/u' };
      const builtin = (await loadCatalog({ cwd: dir, ...store })).catalog.get('debian');
      assert.equal(builtin?.builtin, 'debian');
      assert.equal(builtin?.fs, '/s/debian/debian.img');
      await writeFile(join(dir, 'qemunet.cfg'), '# my own Debian\nSYS[debian]="linux"\nFS[debian]="$QEMUNETDIR/images/debian10.img"\nKERNEL[debian]="/img/vmlinuz"\n');
      const loaded = await loadCatalog({ cwd: dir, ...store });
      assert.deepEqual(loaded.configFiles, [join(dir, 'qemunet.cfg')]);
      // No `builtin`: checkPrerequisites builds only built-in systems, and the plan boots it as QemuNet does.
      assert.deepEqual(loaded.catalog.get('debian'), { name: 'debian', sys: 'linux', fs: join(dir, 'images/debian10.img'), kernel: '/img/vmlinuz', qemuopt: '', source: `${join(dir, 'qemunet.cfg')}:2` });
      assert.equal(loaded.catalog.get('tiny')?.builtin, 'tiny');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
