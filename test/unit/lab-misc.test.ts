import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { renderStatus, hostChangeLine } from '../../src/cli/status-view.js';
import { setsMemory, splitQemuOptions, withoutCpuHost } from '../../src/config/qemu-options.js';
import type { HostStatus, SessionState } from '../../src/lab/state.js';
import { shellCommand, shellQuote } from '../../src/process/shell-quote.js';
import { MAX_SOCKET_PATH, sessionPaths, tooLongSocketPaths } from '../../src/session/paths.js';

describe('splitQemuOptions', () => {
  it('splits plain words on blanks', () => {
    assert.deepEqual(splitQemuOptions('-cpu host -m 512'), { ok: true, words: ['-cpu', 'host', '-m', '512'] });
    assert.deepEqual(splitQemuOptions(' \t-m\n2G  '), { ok: true, words: ['-m', '2G'] });
    assert.deepEqual(splitQemuOptions(''), { ok: true, words: [] });
  });

  it('joins quoted parts as bash does, keeps empty quoted words, and takes $ literally in single quotes', () => {
    assert.deepEqual(splitQemuOptions(`-name 'a b' -append "x y"`), { ok: true, words: ['-name', 'a b', '-append', 'x y'] });
    assert.deepEqual(splitQemuOptions(`pre'fi x'"post" a\\ b -k ''`), { ok: true, words: ['prefi xpost', 'a b', '-k', ''] });
    assert.deepEqual(splitQemuOptions(`'$HOME;*'`), { ok: true, words: ['$HOME;*'] });
  });

  it('refuses what bash would expand or interpret, saying what', () => {
    assert.deepEqual(splitQemuOptions('-m $MEM'), { ok: false, problem: 'the shell character $ is not supported (write plain QEMU options)' });
    assert.deepEqual(splitQemuOptions('-m 1G; reboot'), { ok: false, problem: 'the shell character ; is not supported (write plain QEMU options)' });
    assert.deepEqual(splitQemuOptions('-hda *.img'), { ok: false, problem: 'the shell character * is not supported (write plain QEMU options)' });
    assert.deepEqual(splitQemuOptions('-name "$HOST"'), { ok: false, problem: '"$HOST": expansions are not supported' });
    assert.deepEqual(splitQemuOptions(`-name 'open`), { ok: false, problem: "unterminated ' quote" });
    assert.deepEqual(splitQemuOptions('-name "open'), { ok: false, problem: 'unterminated " quote' });
    assert.deepEqual(splitQemuOptions('-m 1G \\'), { ok: false, problem: 'a trailing backslash' });
  });
});

describe('withoutCpuHost / setsMemory', () => {
  it('drops -cpu host and -cpu host,FLAGS, and nothing else', () => {
    assert.deepEqual(withoutCpuHost(['-cpu', 'host', '-m', '512']), { words: ['-m', '512'], dropped: true });
    assert.deepEqual(withoutCpuHost(['-m', '1G', '-cpu', 'host,+vmx', '-smp', '2']), { words: ['-m', '1G', '-smp', '2'], dropped: true });
    assert.deepEqual(withoutCpuHost(['-cpu', 'qemu64', '-m', '1G']), { words: ['-cpu', 'qemu64', '-m', '1G'], dropped: false });
    assert.deepEqual(withoutCpuHost(['-cpu', 'hostile']), { words: ['-cpu', 'hostile'], dropped: false });
    assert.deepEqual(withoutCpuHost(['-m', '1G', '-cpu']), { words: ['-m', '1G', '-cpu'], dropped: false });
  });

  it('tells whether the options choose the memory size', () => {
    assert.equal(setsMemory(['-cpu', 'host', '-m', '200']), true);
    assert.equal(setsMemory(['-smp', '2', '-mem-path', '/dev/hugepages']), false);
    assert.equal(setsMemory([]), false);
  });
});

describe('shellQuote / shellCommand', () => {
  it('leaves plain words alone and single-quotes the others', () => {
    assert.equal(shellQuote('qemu-system-x86_64'), 'qemu-system-x86_64');
    assert.equal(shellQuote('file=/s/a.qcow2,format=qcow2,id=disk0'), 'file=/s/a.qcow2,format=qcow2,id=disk0');
    assert.equal(shellQuote('user@host:%+'), 'user@host:%+');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('console=ttyS0 quiet'), "'console=ttyS0 quiet'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('$HOME'), "'$HOME'");
    assert.equal(shellQuote('~'), "'~'");
  });

  it('joins quoted words with spaces', () => {
    assert.equal(
      shellCommand(['qemu-system-x86_64', '-append', 'root=/dev/sda1 rw', '-name', "o'neil", '']),
      `qemu-system-x86_64 -append 'root=/dev/sda1 rw' -name 'o'\\''neil' ''`,
    );
    assert.equal(shellCommand([]), '');
  });

  it('round-trips nasty words through sh', () => {
    const words = ['', ' ', 'a b', "it's", "''", '"', '$HOME', '`id`', '$(id)', '\\', 'back\\slash', 'new\nline', 'tab\there', '*', '~', '-n', '#hash', '!bang', '{a,b}', 'semi;colon', 'a|b&c', 'ünïcødé', "'\"'\"'"];
    const out = execFileSync('sh', ['-c', shellCommand(['printf', '%s\\0', ...words])], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), words);
  });
});

function nic(eth: string, sw: string, port: number, mac: string) {
  return { eth, switch: sw, port, mac };
}

const IMMORTAL: HostStatus = {
  name: 'immortal',
  system: 'tiny',
  base: '/images/tiny.img',
  state: 'ready',
  display: 'none',
  nics: [nic('eth0', 's1', 1, 'AA:AA:AA:AA:00:00'), nic('eth1', 's2', 1, 'AA:AA:AA:AA:00:01')],
  console: '/tmp/qn-gw/immortal.console',
  agent: true,
  pid: 101,
  readyMs: 8750,
};
const OPETH: HostStatus = { name: 'opeth', system: 'debian', base: '/images/base.img', state: 'booting', display: 'tmux', nics: [nic('eth0', 's2', 2, 'AA:AA:AA:AA:01:00')], console: '/tmp/qn-gw/opeth.console', agent: false, pid: 102 };
const W: HostStatus = { name: 'w', system: 'win10', base: '/images/base.img', state: 'failed', display: 'none', nics: [], console: '/tmp/qn-gw/w.console', agent: false, detail: 'qemu exited with status 1' };

function state(overrides: Partial<SessionState> = {}): SessionState {
  return {
    version: 1,
    dir: '/tmp/qn-gw',
    topology: '/tmp/qn-gw/topology',
    pid: 4242,
    phase: 'running',
    accel: 'kvm',
    startedAt: '2024-05-01T10:00:00.000Z',
    hosts: [IMMORTAL, OPETH, W],
    switches: [{ name: 's1', hub: false, pid: 99, state: 'running' }],
    ...overrides,
  };
}

describe('renderStatus / hostChangeLine', () => {
  it('renders the session as an aligned table, with the tmux line', () => {
    assert.equal(
      renderStatus(state({ tmuxSession: 'qemunet-gw' })),
      [
        'session /tmp/qn-gw (running, KVM)',
        'HOST      STATE       SYSTEM  NICS                 CONSOLE',
        'immortal  ready 8.8s  tiny    eth0=s1:1 eth1=s2:1  qemunet console immortal',
        'opeth     booting     debian  eth0=s2:2            qemunet console opeth',
        'w         failed      win10   -                    qemunet console w',
        'consoles in tmux: tmux attach -t qemunet-gw',
      ].join('\n'),
    );
  });

  it('narrows the columns to their content and leaves the tmux line out without tmux', () => {
    assert.equal(
      renderStatus(state({ phase: 'starting', accel: 'tcg', hosts: [{ ...OPETH, state: 'ready' }] })),
      ['session /tmp/qn-gw (starting, TCG)', 'HOST   STATE  SYSTEM  NICS       CONSOLE', 'opeth  ready  debian  eth0=s2:2  qemunet console opeth'].join('\n'),
    );
  });

  it("marks a NIC that is down or captured in its cell, and lists each NIC's faults under the table", () => {
    const [eth0, eth1] = IMMORTAL.nics;
    const immortal: HostStatus = {
      ...IMMORTAL,
      nics: [
        { ...eth0!, up: false, wired: true, faults: { delay: { ms: 40, jitterMs: 10 }, lossPct: 5 }, captures: [{ id: 'capture1', since: '2024-05-01T10:01:00.000Z' }] },
        { ...eth1!, up: true, captures: [{ id: 'capture2', since: '2024-05-01T10:02:00.000Z' }] },
      ],
    };
    assert.equal(
      renderStatus(state({ hosts: [immortal, { ...OPETH, nics: [{ ...OPETH.nics[0]!, up: false, faults: { mtu: 1400 } }] }] })),
      [
        'session /tmp/qn-gw (running, KVM)',
        'HOST      STATE       SYSTEM  NICS                                        CONSOLE',
        'immortal  ready 8.8s  tiny    eth0=s1:1(down,capture) eth1=s2:1(capture)  qemunet console immortal',
        'opeth     booting     debian  eth0=s2:2(down)                             qemunet console opeth',
        'immortal:eth0 faults: 40 ms ±10 ms, 5 % loss',
        'opeth:eth0 faults: MTU 1400',
      ].join('\n'),
    );
  });

  it('describes one host change per line', () => {
    assert.equal(hostChangeLine(IMMORTAL), 'immortal: ready in 8.8 s');
    assert.equal(hostChangeLine(OPETH), 'opeth: booting');
    assert.equal(hostChangeLine(W), 'w: failed: qemu exited with status 1');
    assert.equal(hostChangeLine({ ...OPETH, state: 'ready' }), 'opeth: ready');
  });
});

describe('sessionPaths / tooLongSocketPaths', () => {
  it("lays a session out as QemuNet does", () => {
    const p = sessionPaths('/tmp/qn');
    assert.deepEqual(
      { dir: p.dir, topology: p.topology, lock: p.lock, state: p.state, log: p.log },
      { dir: '/tmp/qn', topology: '/tmp/qn/topology', lock: '/tmp/qn/qemunet.lock', state: '/tmp/qn/qemunet-state.json', log: '/tmp/qn/qemunet.log' },
    );
    const { wire, wireMgmt, ...files } = p.host('syl');
    assert.equal(wire(0), '/tmp/qn/wire/syl-eth0');
    assert.equal(wireMgmt(1), '/tmp/qn/syl-eth1.wf');
    assert.deepEqual(files, {
      overlay: '/tmp/qn/syl.qcow2',
      share: '/tmp/qn/syl',
      disk: '/tmp/qn/syl.disk',
      serial: '/tmp/qn/syl.serial',
      console: '/tmp/qn/syl.console',
      consoleResume: '/tmp/qn/syl.resume',
      qmp: '/tmp/qn/syl.qmp',
      agent: '/tmp/qn/syl.qga',
      pid: '/tmp/qn/syl.pid',
      log: '/tmp/qn/syl.log',
      script: '/tmp/qn/syl.sh',
      uml: '/tmp/qn/syl.uml',
      vnc: '/tmp/qn/syl.vnc',
      spice: '/tmp/qn/syl.spice',
      viewerFile: '/tmp/qn/syl.vv',
    });
    assert.deepEqual(p.switch('s1'), { socket: '/tmp/qn/switch/s1', mgmt: '/tmp/qn/s1.mgmt', pid: '/tmp/qn/s1.pid', log: '/tmp/qn/s1.switch.log', commands: '/tmp/qn/s1.cmd' });
  });

  it('finds nothing too long in a short session directory', () => {
    assert.deepEqual(tooLongSocketPaths(sessionPaths('/tmp/qn'), ['immortal', 'opeth'], ['s1', 's2']), []);
  });

  it(`counts up to ${MAX_SOCKET_PATH} bytes as fitting and one more as too long`, () => {
    // With host h and switch s: <dir>/h.console is dir+10 bytes, <dir>/switch/s/ctl dir+13, <dir>/h.serial dir+9.
    assert.equal(MAX_SOCKET_PATH, 107);
    const dir97 = `/${'d'.repeat(96)}`;
    assert.deepEqual(tooLongSocketPaths(sessionPaths(dir97), ['h'], ['s']), [`${dir97}/switch/s/ctl`]);
    const dir98 = `/${'d'.repeat(97)}`;
    assert.deepEqual(tooLongSocketPaths(sessionPaths(dir98), ['h'], ['s']), [`${dir98}/h.console`, `${dir98}/switch/s/ctl`]);
  });

  it('counts bytes, not characters', () => {
    const dir = `/${'é'.repeat(49)}`; // 99 bytes, 50 characters
    assert.deepEqual(tooLongSocketPaths(sessionPaths(dir), ['h'], ['s']), [`${dir}/h.serial`, `${dir}/h.console`, `${dir}/h.resume`, `${dir}/switch/s/ctl`]);
  });
});
