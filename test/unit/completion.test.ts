import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completionCandidates, completionTarget, placeholderKind, splitCommandLine, type CompletionContext } from '../../src/cli/completion.js';
import { synopses, USAGE } from '../../src/cli/help.js';
import { parseUpOptions } from '../../src/cli/up-options.js';

const session: CompletionContext = { hosts: ['opeth', 'syl'], nics: ['opeth:eth0', 'syl:eth0', 'syl:eth1'], switches: ['s1'], demos: ['lan'], systems: ['tiny', 'debian'] };
/** What completes after `qemunet` and `line` (words split as bash does; the last one being typed). */
const complete = (line: string, ctx = session) => {
  const words = splitCommandLine(line);
  return { kind: completionTarget(words).kind, words: completionCandidates(completionTarget(words), words.at(-1)!, ctx) };
};

describe('completion (pure)', () => {
  it('commands, from USAGE', () => {
    assert.deepEqual(complete(''), { kind: 'words', words: ['up', 'down', 'ls', 'status', 'console', 'exec', 'save', 'restart', 'export', 'switch', 'link', 'capture', 'web', 'image', 'check', 'doctor', 'version', 'completion', 'help', '--help', '--version'] });
    assert.deepEqual(complete('s').words, ['status', 'save', 'switch']);
    assert.deepEqual(complete('image ').words, ['build', 'list', 'pull', 'rm']);
    assert.deepEqual(complete('completion ').words, ['bash', 'zsh']);
  });

  it("a running session's hosts, HOST:ethN NICs and switches", () => {
    assert.deepEqual(complete('console '), { kind: 'hosts', words: ['opeth', 'syl'] });
    assert.deepEqual(complete('exec s'), { kind: 'hosts', words: ['syl'] });
    assert.deepEqual(complete('link syl:'), { kind: 'nics', words: ['syl:eth0', 'syl:eth1'] });
    assert.deepEqual(complete('capture '), { kind: 'nics', words: ['opeth:eth0', 'syl:eth0', 'syl:eth1'] });
    assert.deepEqual(complete('switch '), { kind: 'switches', words: ['s1'] });
    assert.deepEqual(complete('export virtualbox '), { kind: 'hosts', words: ['opeth', 'syl'] });
    assert.deepEqual(complete('link syl:eth0 ').words, ['up', 'down']);
  });

  it("options and their values: a command's, up's from up --help, and nothing after --", () => {
    assert.deepEqual(complete('link syl:eth0 --').words, ['--delay', '--loss', '--dup', '--bandwidth', '--mtu', '--session']);
    assert.deepEqual(complete('status --session '), { kind: 'dir', words: [] });
    assert.deepEqual(complete('capture syl:eth0 -w '), { kind: 'file', words: [] });
    assert.deepEqual(complete('up --di').words, ['--display', '--display-tcp']);
    assert.equal(complete('up -d ').kind, 'displays');
    assert.deepEqual(complete('up -d x').words, ['xterm', 'xfce4']);
    assert.deepEqual(complete('up --session '), { kind: 'dir', words: [] });
    assert.deepEqual(complete('up -l '), { kind: 'systems', words: ['tiny', 'debian'] });
    assert.deepEqual(complete('-t '), { kind: 'topology', words: ['lan'] });
    assert.deepEqual(complete('up '), { kind: 'topology', words: ['lan'] });
    assert.deepEqual(complete('up lan.topo --wait --timeout '), { kind: 'none', words: [] });
    assert.deepEqual(complete('exec syl -- p'), { kind: 'none', words: [] });
  });

  it("every option offered for up is one up's parser takes", () => {
    const offered = completionTarget(['up', '-']).words;
    for (const name of ['--session', '--from', '--wait', '--timeout', '--web', '--dry-run', '-S', '-x', '-K', '-z', '-u']) assert.ok(offered.includes(name), name);
    for (const option of offered) {
      try {
        parseUpOptions([option, 'x.topo', ...(option === '--open' ? ['--web'] : [])]);
      } catch (e) {
        assert.doesNotMatch((e as Error).message, /unknown option/, option);
      }
    }
  });

  it('placeholders of the help text and the kinds they stand for', () => {
    assert.deepEqual(['HOST', 'HOST:ethN', 'SW', 'DIR', 'TOPOLOGY|DEMO', 'FILE|-', 'OUT.tgz', 'NAME', 'MODE', 'up|down', 'SECONDS'].map(placeholderKind), ['hosts', 'nics', 'switches', 'dir', 'topology', 'file', 'file', 'systems', 'displays', ['up', 'down'], 'none']);
  });

  it('splits a bash line as the shell does', () => {
    assert.deepEqual(splitCommandLine('qemunet up "my lab.topo" --s'), ['qemunet', 'up', 'my lab.topo', '--s']);
    assert.deepEqual(splitCommandLine("qemunet up my\\ lab.topo 'a b' "), ['qemunet', 'up', 'my lab.topo', 'a b', '']);
  });

  it("USAGE's lines split into name, arguments and summary", () => {
    const s = synopses(USAGE);
    assert.deepEqual(s.find((c) => c.name === 'console'), { name: 'console', args: 'HOST [--session DIR]', summary: "attach to a host's serial console (Ctrl-] detaches)" });
    assert.deepEqual(s.find((c) => c.name === 'image build'), { name: 'image build', args: '[tiny|debian] [--force]', summary: 'build a built-in guest image' });
  });
});
