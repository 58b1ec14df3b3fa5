import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SRC, sources } from '../helpers/sources.js';

/** Every module a file imports (static, dynamic and type-only), as written. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

describe('layering', () => {
  it('cli/ and web/ reach sessions and images only through api/ (and errors.ts, and the protocol\'s declarations)', async () => {
    const offenders: string[] = [];
    for (const folder of ['cli', 'web']) {
      for (const file of await sources(join(SRC, folder))) {
        for (const spec of importsOf(await readFile(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue; // node: modules and packages
          const target = relative(SRC, resolve(dirname(file), spec));
          // protocol/ is pure declarations; the page takes its fault names from there (api/ is Node's).
          const allowed = target.startsWith(`${folder}/`) || target.startsWith('api/') || target.startsWith('protocol/') || target === 'errors.js';
          if (!allowed) offenders.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('nothing imports cli/ or web/', async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      const where = relative(SRC, file);
      if (/^(cli|web)\//.test(where)) continue;
      for (const spec of importsOf(await readFile(file, 'utf8'))) if (/\/(cli|web)\//.test(spec)) offenders.push(`${where} imports ${spec}`);
    }
    assert.deepEqual(offenders, []);
  });

  it('protocol/ stands alone: it imports only the schema library, itself and errors.ts', async () => {
    const offenders: string[] = [];
    for (const file of await sources(join(SRC, 'protocol'))) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
        if (!(target === 'zod' || target.startsWith('protocol/') || target === 'errors.js')) offenders.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('only lab/kinds/ launches hosts: nothing else imports vm/launch or uml/launch', async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      const where = relative(SRC, file);
      if (/^(lab\/kinds|vm|uml)\//.test(where)) continue;
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
        if (target === 'vm/launch.js' || target === 'uml/launch.js') offenders.push(`${where} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('checks/ is pure but for its clock and crypto: no files, processes or sockets, and nothing above it (it meets the session in lab/ or api/)', async () => {
    const offenders: string[] = [];
    for (const file of await sources(join(SRC, 'checks'))) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
        const allowed = ['node:crypto', 'node:timers/promises', 'errors.js', 'protocol/error-codes.js', 'topology/parse.js', 'topology/types.js'].includes(target) || target.startsWith('checks/');
        if (!allowed) offenders.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('lab/driver/ (runs in the session\'s own process) and lab/client/ (what another process does to a session) do not import each other', async () => {
    const offenders: string[] = [];
    for (const [side, other] of [['lab/driver', 'lab/client'], ['lab/client', 'lab/driver']] as const) {
      const files = await sources(join(SRC, side));
      assert.ok(files.length > 3, `${side}/ has its modules`);
      for (const file of files) {
        for (const spec of importsOf(await readFile(file, 'utf8'))) {
          const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
          if (target.startsWith(`${other}/`)) offenders.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('only lab/driver/ serves the control socket, only lab/client/ and api/ speak to it', async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      const where = relative(SRC, file);
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
        if (target === 'lab/driver/control-server.js' && !where.startsWith('lab/driver/')) offenders.push(`${where} imports ${spec}`);
        if (target === 'lab/client/control-client.js' && !/^(lab\/client|api)\//.test(where)) offenders.push(`${where} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('sees imports in every form it checks', () => {
    assert.deepEqual(importsOf(`import { a } from '../lab/lab.js';\nimport type { B } from "../x.js";\nexport { c } from './c.js';\nconst m = await import('../vm/qmp.js');\nimport './owned.js';\n`), ['../lab/lab.js', '../x.js', './c.js', '../vm/qmp.js', './owned.js']);
  });
});
