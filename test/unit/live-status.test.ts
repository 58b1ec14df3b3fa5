import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveStatus } from '../../src/cli/live-status.js';
import { fitLine, fitToWidth } from '../../src/cli/terminal-width.js';
import type { SessionState } from '../../src/lab/state.js';

describe('fitLine / fitToWidth', () => {
  it('cuts a line to the width, and leaves a short one alone', () => {
    assert.equal(fitLine('qemunet console immortal', 10), 'qemunet co');
    assert.equal(fitLine('short', 10), 'short');
    assert.equal(fitLine('exactly 10', 10), 'exactly 10');
  });
  it('gives escape sequences no column, and keeps those after the cut', () => {
    assert.equal(fitLine('\x1b[1;31mcrashed\x1b[0m and more', 4), '\x1b[1;31mcras\x1b[0m');
    assert.equal(fitLine('\x1b]0;title\x07abcdef', 3), '\x1b]0;title\x07abc');
  });
  it('counts wide characters as two columns and combining marks as none', () => {
    assert.equal(fitLine('日本語テキスト', 5), '日本');
    assert.equal(fitLine('日本語テキスト', 6), '日本語');
    assert.equal(fitLine('cafe\u0301 au lait', 5), 'cafe\u0301 ');
    assert.equal(fitLine('ok 🚀 go', 4), 'ok ');
  });
  it('cuts each line; without a known width it cuts nothing', () => {
    assert.deepEqual(fitToWidth('abcdef\nab\n', 3), ['abc', 'ab', '']);
    assert.deepEqual(fitToWidth('abcdef\nab', undefined), ['abcdef', 'ab']);
  });
});

describe('LiveStatus on a terminal', () => {
  const state = (hostState: 'running' | 'crashed'): SessionState => ({
    version: 1,
    dir: '/tmp/qn-long-dir',
    topology: '/tmp/qn-long-dir/topology',
    pid: 4242,
    phase: 'running',
    accel: 'tcg',
    startedAt: '2024-05-01T10:00:00.000Z',
    hosts: [{ name: 'a', system: 'tiny', base: '/images/tiny.img', state: hostState, display: 'none', nics: [], console: '/tmp/qn-long-dir/a.console', agent: false }],
    switches: [],
  });

  it('draws no line wider than the terminal, so the redraw goes back up over exactly what it drew', () => {
    const writes: string[] = [];
    const out = { isTTY: true, columns: 24, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream;
    const view = new LiveStatus(out);
    view.update(state('running'));
    view.stop();
    view.update(state('crashed'));
    view.stop();
    assert.deepEqual(writes, [
      'session /tmp/qn-long-dir\nHOST  STATE    SYSTEM  N\na     running  tiny    -\nCtrl-C stops the session\n',
      '\x1b[4A\x1b[Jsession /tmp/qn-long-dir\nHOST  STATE    SYSTEM  N\na     crashed  tiny    -\nCtrl-C stops the session\n',
    ]);
  });
});
