import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUpOptions, type UpOptions } from '../../src/cli/up-options.js';
import { UsageError } from '../../src/errors.js';

/** What `qemunet up` with no options means; each test states only what differs. */
function expected(overrides: Partial<UpOptions> = {}): UpOptions {
  return {
    switchConsoles: false,
    viewers: false,
    displayTcp: false,
    vlan: false,
    force: false,
    yes: false,
    aliases: new Map(),
    detach: false,
    wait: false,
    dryRun: false,
    accel: true,
    internet: false,
    quiet: false,
    kernelArgs: [],
    mountDir: true,
    mountDisk: true,
    help: false,
    notYet: [],
    ...overrides,
  };
}

/** Asserts a UsageError (code USAGE) with exactly this message. */
function assertUsage(argv: string[], message: string): void {
  assert.throws(
    () => parseUpOptions(argv),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
      assert.equal(e.code, 'USAGE');
      assert.equal(e.message, message);
      return true;
    },
  );
}

describe("parseUpOptions: QemuNet's getopts forms", () => {
  it('gives the defaults for an empty command line', () => {
    assert.deepEqual(parseUpOptions([]), expected());
  });

  it('reads -t FILE -x', () => {
    assert.deepEqual(parseUpOptions(['-t', 'lan.topo', '-x']), expected({ topology: 'lan.topo', display: 'xterm' }));
  });

  it('reads bundled flags (-xK) and a value glued to its option (-tlan.topo)', () => {
    assert.deepEqual(parseUpOptions(['-xK', '-tlan.topo']), expected({ topology: 'lan.topo', display: 'xterm', accel: false }));
  });

  it('ends a bundle at the first option that takes a value (-xit FILE, -qSdir)', () => {
    assert.deepEqual(parseUpOptions(['-xit', 'gw.topo']), expected({ topology: 'gw.topo', display: 'xterm', internet: true }));
    assert.deepEqual(parseUpOptions(['-qSdir', 'gw.topo']), expected({ topology: 'gw.topo', session: 'dir', quiet: true }));
  });

  it("splits -z 'a b' into kernel arguments, and -z adds up", () => {
    assert.deepEqual(parseUpOptions(['-t', 'lan.topo', '-z', 'a b']), expected({ topology: 'lan.topo', kernelArgs: ['a', 'b'] }));
    assert.deepEqual(parseUpOptions(['-z', '  loglevel=7\tipv6.disable=1 ', '-zquiet']).kernelArgs, ['loglevel=7', 'ipv6.disable=1', 'quiet']);
  });

  it('reads -M -F -i -q -b -u bob', () => {
    assert.deepEqual(
      parseUpOptions(['-t', 'lan.topo', '-M', '-F', '-i', '-q', '-b', '-u', 'bob']),
      expected({ topology: 'lan.topo', mountDir: false, mountDisk: false, internet: true, quiet: true, detach: true, user: 'bob' }),
    );
  });

  it('lets a later -m -f -k undo an earlier -M -F -K', () => {
    assert.deepEqual(parseUpOptions(['-MFK', '-mfk']), expected());
    assert.deepEqual(parseUpOptions(['-mfk', '-MFK']), expected({ mountDir: false, mountDisk: false, accel: false }));
  });

  it('reads -S DIR, -c FILE, -d MODE and -h', () => {
    assert.deepEqual(parseUpOptions(['-S', '/tmp/sess', '-c', 'my.cfg', '-d', 'tmux', '-t', 'x.topo']), expected({ session: '/tmp/sess', config: 'my.cfg', display: 'tmux', topology: 'x.topo' }));
    assert.deepEqual(parseUpOptions(['-h']), expected({ help: true }));
  });

  it('takes the word after an option as its value even when it looks like an option (as getopts does)', () => {
    assert.deepEqual(parseUpOptions(['-t', '-x']), expected({ topology: '-x' }));
  });
});

describe('parseUpOptions: the up form and long options', () => {
  it('takes a positional topology', () => {
    assert.deepEqual(parseUpOptions(['gw.topo']), expected({ topology: 'gw.topo' }));
  });

  it('reads --session DIR and --session=DIR (the value may contain "=")', () => {
    assert.deepEqual(parseUpOptions(['gw.topo', '--session', '/tmp/s1']), expected({ topology: 'gw.topo', session: '/tmp/s1' }));
    assert.deepEqual(parseUpOptions(['--session=/tmp/s2', 'gw.topo']), expected({ topology: 'gw.topo', session: '/tmp/s2' }));
    assert.deepEqual(parseUpOptions(['--session=/tmp/a=b']), expected({ session: '/tmp/a=b' }));
  });

  it('collects repeated --alias into a Map, the last one for a name winning', () => {
    assert.deepEqual(
      parseUpOptions(['gw.topo', '--alias', 'debian=tiny', '--alias', 'win10=tiny']),
      expected({ topology: 'gw.topo', aliases: new Map([['debian', 'tiny'], ['win10', 'tiny']]) }),
    );
    assert.deepEqual([...parseUpOptions(['--alias=debian=tiny', '--alias', 'debian=debian10']).aliases], [['debian', 'debian10']]);
  });

  it('reads --web --open, and refuses --open without --web', () => {
    assert.deepEqual(parseUpOptions(['gw.topo', '--web', '--open']), expected({ topology: 'gw.topo', web: true, open: true }));
    assert.throws(() => parseUpOptions(['gw.topo', '--open']), { code: 'USAGE', message: '--open opens the page of --web in a browser: give --web too' });
  });

  it('reads --wait --timeout 90 and --timeout=1.5', () => {
    assert.deepEqual(parseUpOptions(['gw.topo', '--wait', '--timeout', '90']), expected({ topology: 'gw.topo', wait: true, timeoutSec: 90 }));
    assert.equal(parseUpOptions(['--timeout=1.5']).timeoutSec, 1.5);
  });

  it('reads --dry-run, --display tmux, --detach, --config, --topology and --help', () => {
    assert.deepEqual(parseUpOptions(['gw.topo', '--dry-run', '--display', 'tmux']), expected({ topology: 'gw.topo', dryRun: true, display: 'tmux' }));
    assert.deepEqual(
      parseUpOptions(['--detach', '--config=q.cfg', '--topology', 'lan.topo', '--help']),
      expected({ detach: true, config: 'q.cfg', topology: 'lan.topo', help: true }),
    );
  });

  it('treats everything after -- as positional, and a lone - as a file name', () => {
    assert.deepEqual(parseUpOptions(['-x', '--', '-odd.topo']), expected({ display: 'xterm', topology: '-odd.topo' }));
    assert.deepEqual(parseUpOptions(['-']), expected({ topology: '-' }));
  });
});

describe('parseUpOptions: sessions, standalone VMs, downloads, and options of a later version', () => {
  it('reads -s -a --force -v -y -V', () => {
    assert.deepEqual(
      parseUpOptions(['-s', 'lan.tgz', '-a', 'extra.tgz', '--force', '-vyV']),
      expected({ from: 'lan.tgz', extraArchive: 'extra.tgz', force: true, vlan: true, switchConsoles: true, viewers: true }),
    );
  });

  it('reads --viewers and --display-tcp', () => {
    assert.deepEqual(parseUpOptions(['lan.topo', '--viewers', '--display-tcp', '-d', 'spice']), expected({ topology: 'lan.topo', viewers: true, displayTcp: true, display: 'spice' }));
    assertUsage(['--display-tcp=1'], '--display-tcp takes no value');
  });

  it('reads --from, -l, -L with --yes, and -D', () => {
    assert.deepEqual(parseUpOptions(['--from=saved']).from, 'saved');
    assert.deepEqual(parseUpOptions(['-l', 'debian']).standalone, { system: 'debian', raw: false });
    const raw = parseUpOptions(['-Ldebian', '--yes']);
    assert.deepEqual([raw.standalone, raw.yes], [{ system: 'debian', raw: true }, true]);
    assert.equal(parseUpOptions(['-D', 'alpine']).download, 'alpine');
  });
});

describe('parseUpOptions: errors', () => {
  it('refuses unknown short options, also inside a bundle', () => {
    assertUsage(['-Q'], 'unknown option -Q');
    assertUsage(['-t', 'lan.topo', '-xQ'], 'unknown option -Q');
  });

  it('refuses unknown long options, with or without a value', () => {
    assertUsage(['--frobnicate'], 'unknown option --frobnicate');
    assertUsage(['--frob=1'], 'unknown option --frob=1');
  });

  it('refuses a missing value', () => {
    assertUsage(['-t'], 'option -t needs a value');
    assertUsage(['-x', '-u'], 'option -u needs a value');
    assertUsage(['gw.topo', '--session'], '--session needs a value');
    assertUsage(['gw.topo', '--alias'], '--alias needs a value');
  });

  it('refuses a value given to a long flag', () => {
    assertUsage(['--wait=yes'], '--wait takes no value');
  });

  it('refuses a bad --alias', () => {
    assertUsage(['--alias', 'debian'], '--alias needs NAME=SYSTEM, like --alias debian=tiny (got "debian")');
    assertUsage(['--alias', '=tiny'], '--alias needs NAME=SYSTEM, like --alias debian=tiny (got "=tiny")');
    assertUsage(['--alias=a=b=c'], '--alias needs NAME=SYSTEM, like --alias debian=tiny (got "a=b=c")');
    assertUsage(['--alias', '../x=tiny'], '--alias needs NAME=SYSTEM, like --alias debian=tiny (got "../x=tiny")');
  });

  it('refuses a bad --timeout', () => {
    assertUsage(['--timeout', 'soon'], '--timeout needs a number of seconds, got "soon"');
    assertUsage(['--timeout', '0'], '--timeout needs a number of seconds, got "0"');
    assertUsage(['--timeout', '-5'], '--timeout needs a number of seconds, got "-5"');
    assertUsage(['--timeout='], '--timeout needs a number of seconds, got ""');
    assertUsage(['--timeout', '1e3'], '--timeout needs a number of seconds, got "1e3"');
  });

  it('refuses two topologies', () => {
    assertUsage(['-t', 'a.topo', 'b.topo'], 'a topology is given twice (a.topo and b.topo)');
    assertUsage(['a.topo', 'b.topo'], 'one topology file at a time (got a.topo, b.topo)');
  });
});
