import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { SRC, sources } from '../helpers/sources.js';
import { ERROR_CODES, exitStatus, httpStatus, isErrorCode, isGone, isInputError, upgradeRefusalStatus } from '../../src/protocol/error-codes.js';
import { exitStatus as apiExitStatus, isKnownCode } from '../../src/api/exit-status.js';

const CODES = Object.keys(ERROR_CODES);

describe('error codes: one table', () => {
  it('gives the exit statuses the CLI has always had: 2 for usage, 130 for an interruption, else 1', () => {
    assert.deepEqual(CODES.filter((c) => exitStatus(c) !== 1).map((c) => [c, exitStatus(c)]), [
      ['USAGE', 2],
      ['ERR_PARSE_ARGS_UNKNOWN_OPTION', 2],
      ['ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 2],
      ['ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', 2],
      ['INTERRUPTED', 130],
      ['ENV_INVALID', 2],
    ]);
    assert.equal(exitStatus('NOT_A_CODE'), 1);
    assert.equal(apiExitStatus('USAGE'), 2);
    assert.equal(isKnownCode('ERR_PARSE_ARGS_UNKNOWN_OPTION'), true);
    assert.equal(isKnownCode('ERR_INVALID_ARG_TYPE'), false, "another node error is a bug's, reported in full");
  });

  it("the web API's 400s are the input codes the web server has always answered 400 for, the protocol's refusals and a lab console's refused command", () => {
    const input = CODES.filter(isInputError);
    assert.deepEqual(input.filter((c) => !c.startsWith('ERR_PARSE_ARGS')).sort(), [
      'BAD_COMMAND', 'BAD_LAB_PATH', 'BAD_REQUEST', 'BAD_SESSION', 'CONTROL_NOT_JSON', 'LAYOUT', 'LINK_SETTING', 'SWITCH_COMMAND_REFUSED', 'UNKNOWN_COMMAND', 'UNKNOWN_HOST', 'UNKNOWN_NIC', 'UNKNOWN_SWITCH', 'USAGE',
    ]);
    const doors: Record<string, number> = { BAD_HOST: 403, BAD_ORIGIN: 403, NO_TOKEN: 401, BAD_TOKEN: 401, NOT_FOUND: 404, NO_PAGE: 500, INTERNAL: 500 };
    for (const c of CODES) assert.equal(httpStatus(c), doors[c] ?? (input.includes(c) ? 400 : 409), c);
  });

  it('refuses a screen with 404 for what does not exist, 503 for what is not there now, 500 for the rest', () => {
    assert.deepEqual(CODES.filter((c) => upgradeRefusalStatus(c) === 404), ['UNKNOWN_HOST', 'NO_VNC_SCREEN']);
    assert.deepEqual(CODES.filter((c) => upgradeRefusalStatus(c) === 503), ['HOST_NOT_RUNNING', 'SCREEN_UNAVAILABLE']);
    assert.equal(upgradeRefusalStatus('NOT_A_CODE'), 500);
  });

  it('says which codes name something gone for good, so a lab check stops retrying', () => {
    assert.deepEqual(CODES.filter(isGone), ['UNKNOWN_HOST', 'HOST_NOT_RUNNING', 'VM_EXITED', 'NO_AGENT']);
  });

  it('knows only its own codes (an inherited name is none)', () => {
    assert.equal(isErrorCode('UNKNOWN_HOST'), true);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(3), false);
  });

  it('no other source file keeps a list of codes', async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      if (file.endsWith('protocol/error-codes.ts')) continue;
      const text = await readFile(file, 'utf8');
      // An array (or a Set's or Map's) of two or more codes, each quoted.
      for (const m of text.matchAll(/\[([^[\]]*)\]/g)) {
        const quoted = [...m[1]!.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((q) => q[1]!);
        if (quoted.length >= 2 && quoted.every((q) => CODES.includes(q))) offenders.push(`${relative(SRC, file)}: [${m[1]}]`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
