import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manPage } from '../../src/cli/man-page.js';
import { synopses, USAGE } from '../../src/cli/help.js';
import { UP_USAGE } from '../../src/cli/up-command.js';

describe('man page', () => {
  it('is made of the help text: a .TP entry per USAGE command, up --help as its options', () => {
    const page = manPage(USAGE, UP_USAGE, '0.1.0');
    const lines = page.split('\n');
    assert.equal(lines[0], '.TH QEMUNET 1 "" "qemunet 0.1.0" "User Commands"');
    assert.deepEqual(lines.filter((l) => l.startsWith('.SH ')), ['.SH NAME', '.SH SYNOPSIS', '.SH COMMANDS', '.SH OPTIONS OF UP', '.SH FILES', '.SH SEE ALSO']);
    const entries = lines.flatMap((l, i) => (lines[i - 1] === '.TP' && l.startsWith('.B ') ? [l] : []));
    assert.deepEqual(entries.slice(0, synopses().length), synopses().map((s) => `.B ${`${s.name} ${s.args}`.trim().replace(/-/g, '\\-')}`));
    assert.ok(lines.includes('\\-\\-wire\\-all             a wirefilter on every NIC: faults can then be set live on any link (qemunet link)'));
    // No line starts with a character roff would read as a request.
    assert.deepEqual(lines.filter((l) => /^['.]/.test(l) && !/^\.(TH|SH|TP|B|I|PP|nf|fi) ?/.test(l)), []);
  });
});
