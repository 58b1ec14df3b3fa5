import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader, MAX_LINE_BYTES } from '../../src/process/lines.js';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('LineReader', () => {
  it('hands out complete lines only, however the chunks fall', () => {
    const r = new LineReader('the peer');
    assert.deepEqual(r.push(bytes('one\ntw')), ['one']);
    assert.deepEqual(r.push(bytes('o')), []);
    assert.deepEqual(r.push(bytes('\n\nthree\nfour')), ['two', '', 'three']);
    assert.deepEqual(r.push(bytes('\n')), ['four']);
  });

  it('keeps a character whose bytes are split across chunks whole', () => {
    const r = new LineReader('the peer');
    // "é" is C3 A9, "€" is E2 82 AC.
    assert.deepEqual(r.push(bytes('caf', [0xc3])), []);
    assert.deepEqual(r.push(bytes([0xa9], ' 5 ', [0xe2])), []);
    assert.deepEqual(r.push(bytes([0x82])), []);
    assert.deepEqual(r.push(bytes([0xac], '\n')), ['café 5 €']);
  });

  it('takes "\\r\\n" as a line end too', () => {
    const r = new LineReader('the peer');
    assert.deepEqual(r.push(bytes('a\r\nb\r')), ['a']);
    assert.deepEqual(r.push(bytes('\nc\rd\n')), ['b', 'c\rd']);
  });

  it('accepts a line of the limit in bytes and refuses one byte more, in whatever chunks it comes', () => {
    assert.deepEqual(new LineReader('the peer', 8).push(bytes('12345678\n')), ['12345678']);
    const r = new LineReader('the QMP connection', 8);
    assert.deepEqual(r.push(bytes('1234')), []);
    assert.throws(() => r.push(bytes('56789')), { name: 'QemunetError', code: 'LINE_TOO_LONG', message: 'the QMP connection sent a line longer than 8 bytes' });
  });

  it('refuses an over-long line between two newlines of one chunk, counting bytes rather than characters', () => {
    // Four "é" are 4 characters but 8 bytes.
    assert.deepEqual(new LineReader('the peer', 8).push(bytes('ok\néééé\n')), ['ok', 'éééé']);
    assert.throws(() => new LineReader('the peer', 8).push(bytes('ok\néééé!\nok\n')), { code: 'LINE_TOO_LONG', message: 'the peer sent a line longer than 8 bytes' });
  });

  it('states the default limit in MiB', () => {
    assert.equal(MAX_LINE_BYTES, 16 * 1024 * 1024);
    const r = new LineReader('a control client');
    assert.throws(() => r.push(Buffer.alloc(MAX_LINE_BYTES + 1, 0x61)), { code: 'LINE_TOO_LONG', message: 'a control client sent a line longer than 16 MiB' });
  });

  it('keeps the text for a protocol that ends its replies with a prompt', () => {
    const r = new LineReader('the switch');
    r.append(bytes('1000 Succ'));
    r.append(bytes('ess\nvde$ ', [0xc3]));
    assert.equal(r.text, '1000 Success\nvde$ ');
    r.skip('1000 Success\nvde$ '.length);
    r.append(bytes([0xa9]));
    assert.equal(r.text, 'é');
  });
});
