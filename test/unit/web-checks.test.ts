import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QemunetError } from '../../src/errors.js';
import type { CheckOptions, SessionState } from '../../src/api/index.js';
import { startWebServer, type WebServer } from '../../src/web/server/http-server.js';
import { buildView } from '../../src/web/server/view.js';
import { FakeWebSession, RecordingClient } from '../helpers/fake-web-session.js';

/** The Checks panel's server side: the view's rows from the session's state, and the route that runs them in the session. */

const base: SessionState = { version: 1, dir: '/s', topology: '/t.topo', pid: 1, phase: 'running', accel: 'tcg', startedAt: '', hosts: [], switches: [] };

describe('the view of the lab checks', () => {
  it('has none before any run', () => {
    assert.equal('checks' in buildView(base, undefined), false);
  });

  it("carries the state's rows, score and error as they are, and nothing else the state holds", () => {
    const row = { name: 'a reaches b', host: 'a', kind: 'ping', points: 1, status: 'fail' as const, earned: 0, seen: '100% packet loss' };
    const checks = { running: true, startedAt: '2026-12-08T03:00:00Z', student: 'ann', checks: [row, { name: 'b named b', host: 'b', kind: 'exec', points: 2, status: 'pending' as const, earned: 0 }], score: { earned: 0, possible: 3, passed: 0, total: 2 }, error: 'x', extra: 'not for the page' };
    const view = buildView({ ...base, checks } as SessionState, undefined);
    assert.deepEqual(view.checks, {
      running: true,
      startedAt: '2026-12-08T03:00:00Z',
      student: 'ann',
      checks: [row, { name: 'b named b', host: 'b', kind: 'exec', points: 2, status: 'pending', earned: 0 }],
      score: { earned: 0, possible: 3, passed: 0, total: 2 },
      error: 'x',
    });
  });
});

describe('POST /api/checks/run', () => {
  let server: WebServer;
  let refusal: QemunetError | undefined;
  const client = new (class extends RecordingClient {
    override async check(options: CheckOptions) {
      if (refusal) throw refusal;
      return super.check(options);
    }
  })();
  before(async () => {
    server = await startWebServer({ session: new FakeWebSession(), port: 0, token: 'tok', clientOf: () => client });
  });
  after(() => server.close());
  const post = async (body: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/checks/run`, { method: 'POST', headers: { Authorization: 'Bearer tok', 'Content-Type': 'application/json' }, body });
    return [res.status, await res.json()] as const;
  };

  it("runs the session's checks, the student's view, and answers the score", async () => {
    client.calls.length = 0;
    assert.deepEqual(await post('{}'), [200, { ok: true, result: { score: { earned: 2, possible: 3, passed: 1, total: 2 }, passed: false } }]);
    assert.deepEqual(client.calls, [['check', { format: 'json', view: 'student' }]]);
  });

  it('takes {} only: a teacher view, a checks text or a student asked from the page is a 400, and nothing runs', async () => {
    client.calls.length = 0;
    for (const [body, field] of [['{"view":"teacher"}', 'view'], ['{"checks":"CHECK \\"x\\" ping a 10.0.0.1"}', 'checks'], ['{"student":"bob"}', 'student']] as const) {
      assert.deepEqual(await post(body), [400, { ok: false, code: 'BAD_REQUEST', message: `bad checks request: unknown field "${field}" (allowed: none); send a body like {}` }]);
    }
    assert.deepEqual(await post('[]'), [400, { ok: false, code: 'BAD_REQUEST', message: 'bad checks request: the body must be an object, not an array; send a body like {}' }]);
    assert.deepEqual(client.calls, []);
  });

  it("the session's refusals come back with their code, as a 409", async () => {
    for (const [code, message] of [['CHECKS_MISSING', 'this session has no checks file (/s/checks: ENOENT)'], ['CHECKS_RUNNING', 'the checks are running already'], ['CHECKS_SYNTAX', '/s/checks:2:11: unknown test traceroute']] as const) {
      refusal = new QemunetError(code, message);
      assert.deepEqual(await post('{}'), [409, { ok: false, code, message }]);
    }
    refusal = undefined;
  });
});
