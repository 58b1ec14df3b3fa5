import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitStatus, isKnownCode } from '../../src/api/exit-status.js';

describe('exit status from the error code', () => {
  it('2 for usage errors, 130 for an interruption, 1 for anything else', () => {
    assert.deepEqual(
      ['USAGE', 'ERR_PARSE_ARGS_UNKNOWN_OPTION', 'INTERRUPTED', 'SESSION_BUSY', 'CONFIG_SYNTAX', 'constructor'].map(exitStatus),
      [2, 2, 130, 1, 1, 1],
    );
  });
  it('knows the codes of its table only', () => {
    assert.deepEqual(['ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_INVALID_ARG_TYPE', 'toString', undefined].map(isKnownCode), [true, false, false, false]);
  });
});
