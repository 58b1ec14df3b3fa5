import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, leftovers, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** `qemunet up --detach --web`: the web server is a process of its own that ends with the session. */
describe('qemunet up --web', { timeout: 300000 }, () => {
  const tmp = suiteDir('up-web');
  const dir = join(tmp.path, 's');
  after(async () => {
    await qemunet(['down', '--session', dir]);
    // A web server that missed the stop (the defect this test is for) must not outlive the test.
    for (const p of await leftovers(dir)) process.kill(Number(p.split(':')[0]), 'SIGKILL');
    await tmp.remove();
  });
  before(() => tinyImage());

  test('prints a URL that serves the page, and the server goes when the session is stopped', async () => {
    const topo = join(tmp.path, 'one.topo');
    await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\n');
    const r = await qemunet(['up', topo, '--detach', '--web', '-K', '--session', dir]);
    assert.equal(r.code, 0, r.stderr);
    const url = /^web: (http:\/\/127\.0\.0\.1:\d+\/)#token=[\w-]+$/m.exec(r.stdout)?.[1];
    assert.ok(url, `a web URL on 127.0.0.1 with a token in: ${r.stdout}`);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const web = (await leftovers(dir)).filter((p) => / web --session /.test(p));
    assert.equal(web.length, 1, `one web server for the session: ${web.join('; ')}`);

    assert.equal((await qemunet(['down', '--session', dir])).code, 0);
    assert.equal((await stateOf(dir))?.phase, 'stopped');
    // The server heard the session stop through its subscription (the final phase is pushed before the socket closes).
    await eventually(async () => ((await leftovers(dir)).length === 0 ? true : undefined), 15000, 'the web server and every process of the session to be gone');
    await assert.rejects(fetch(url), 'nothing listens on the URL any more');
  });
});
