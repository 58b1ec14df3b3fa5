import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { SRC, sources } from '../helpers/sources.js';
import { FAULT_NAMES } from '../../src/protocol/fault-names.js';
import { HOST_STATES } from '../../src/protocol/states.js';
import { isName, nameProblem, nicRefOf, splitNicRef } from '../../src/protocol/names.js';

/** Lines of src/ (outside `home`) that `looks` says spell the declaration again. */
async function elsewhere(home: string, looks: (line: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sources(SRC)) {
    const where = relative(SRC, file);
    if (where === home) continue;
    (await readFile(file, 'utf8')).split('\n').forEach((line, i) => looks(line) && found.push(`${where}:${i + 1}: ${line.trim()}`));
  }
  return found;
}

/** `word` as an element of a list spelt in the code (quoted, then a comma or the list's end; not a JSON key). */
const quoted = (word: string) => new RegExp(`['"]${word}['"]\\s*[,\\])]`);

describe('declared once (issue 19): no second list of fault names, host states or NIC-reference patterns', () => {
  it('NIC references (HOST:ethN) are matched only in protocol/names.ts', async () => {
    assert.deepEqual(await elsewhere('protocol/names.ts', (l) => /eth\(?\\d/.test(l)), []);
  });
  it('fault names are listed only in protocol/fault-names.ts', async () => {
    assert.deepEqual(await elsewhere('protocol/fault-names.ts', (l) => !l.includes('Record<FaultName') && FAULT_NAMES.filter((n) => quoted(n).test(l)).length >= 2), []);
  });
  it('host and switch states and session phases are listed only in protocol/states.ts', async () => {
    assert.deepEqual(await elsewhere('protocol/states.ts', (l) => HOST_STATES.filter((s) => quoted(s).test(l)).length >= 3), []);
  });
  it('sees what it looks for', () => {
    for (const line of [String.raw`const m = /^(\w+):eth(\d+)$/;`, String.raw`/^[a-z]+:eth\d{1,3}$/.test(nic)`]) assert.ok(/eth\(?\\d/.test(line), line);
    assert.equal(FAULT_NAMES.filter((n) => quoted(n).test(`['delay', 'loss']`)).length, 2);
  });
});

describe('names (protocol/names.ts)', () => {
  it('takes topology names: letters, digits, . _ -, a letter or digit first, no "..", at most 32', () => {
    assert.deepEqual(['a', 'web-1.a_b', 'X9', 'a'.repeat(32)].map(isName), [true, true, true, true]);
    assert.deepEqual(['', '-a', '.a', 'a..b', 'a/b', 'a b', 'é', 'a'.repeat(33), 'a:eth0'].map(isName), [false, false, false, false, false, false, false, false, false]);
    assert.equal(nameProblem('a;rm', 'a host name'), `"a;rm" is not valid as a host name: use letters, digits, '.', '_' and '-', starting with a letter or digit`);
    assert.equal(nameProblem('a'.repeat(33), 'a switch name'), `"${'a'.repeat(33)}" is too long for a switch name (at most 32 characters)`);
  });
  it('splits HOST:ethN, and checks the host as a name', () => {
    assert.deepEqual(splitNicRef('syl:eth0'), { host: 'syl', nic: 0 });
    assert.deepEqual(splitNicRef('a:b:eth12'), { host: 'a:b', nic: 12 });
    assert.equal(nicRefOf('a:b:eth12'), undefined);
    assert.deepEqual(nicRefOf('web-1:eth999'), { host: 'web-1', nic: 999 });
    for (const bad of ['syl', 'syl:eth', 'syl:eth1000', 'syl:eth-1', 'syl:eth0 ', ':eth0', 'syl:ETH0', 'syl:eth0\n', '../x:eth0', 'syl:eth０']) assert.equal(nicRefOf(bad), undefined, bad);
  });
});
