import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/process/run.js';
import { qemunet } from '../helpers/cli.js';
import { suiteDir } from '../helpers/tiny.js';

test("qemunet -D SYS downloads, checks and installs a system as QemuNet's qemunet.cfg declares it", async () => {
  const tmp = suiteDir('pull');
  const files = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-length': body?.length ?? 0 });
    res.end(body);
  });
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await run('mkdir', ['-p', join(tmp.path, 'pack'), join(tmp.path, 'images')]);
    await writeFile(join(tmp.path, 'pack', 'demo.img'), 'a raw disk image');
    await run('tar', ['-czf', join(tmp.path, 'demo.tgz'), '-C', join(tmp.path, 'pack'), 'demo.img']);
    const tgz = await readFile(join(tmp.path, 'demo.tgz'));
    files.set('/demo.tgz', tgz);
    files.set('/demo.md5sum', Buffer.from(`${createHash('md5').update(tgz).digest('hex')}  demo.tgz\n`));
    await writeFile(join(tmp.path, 'qemunet.cfg'), `IMGDIR=${join(tmp.path, 'images')}\nSYS[demo]="linux"\nFS[demo]="$IMGDIR/demo.img"\nURL[demo]="${base}/demo.tgz"\n`);

    const r = await qemunet(['-D', 'demo'], { cwd: tmp.path });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `demo is installed: ${join(tmp.path, 'images', 'demo.img')}\n`);
    assert.equal(await readFile(join(tmp.path, 'images', 'demo.img'), 'utf8'), 'a raw disk image');
    const again = await qemunet(['image', 'pull', 'demo'], { cwd: tmp.path });
    assert.equal(again.stdout, `demo is already present: ${join(tmp.path, 'images', 'demo.img')}\n`);
  } finally {
    server.close();
    await tmp.remove();
  }
});
