import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelNewlines } from '../../src/uml/kernel-newlines.js';

const fed = (chunks: string[]) => {
  const n = new KernelNewlines();
  return chunks.map((c) => n.feed(Buffer.from(c, 'latin1')).toString('latin1'));
};

describe('KernelNewlines (a UML console: bare LFs of kernel messages, then userspace CRLFs)', () => {
  it('adds the CR to each bare LF of the boot messages', () => {
    assert.deepEqual(fed(['SELinux: deprecated.\nmmapper_init failed\n', 'third\n']), ['SELinux: deprecated.\r\nmmapper_init failed\r\n', 'third\r\n']);
  });

  it('lets every byte through untouched from the first CRLF on, also a bare LF of a raw-mode program', () => {
    assert.deepEqual(fed(['boot\nqemunet: u1 is ready\r\nroot@u1:~# ', 'top\x1b[H\n\n']), ['boot\r\nqemunet: u1 is ready\r\nroot@u1:~# ', 'top\x1b[H\n\n']);
  });

  it('sees a CRLF split between two reads', () => {
    assert.deepEqual(fed(['kernel\nshell\r', '\nraw\n']), ['kernel\r\nshell\r', '\nraw\n']);
  });

  it('keeps an empty read and a lone CR as they are', () => {
    assert.deepEqual(fed(['', 'a\rb\n']), ['', 'a\rb\r\n']);
  });
});
