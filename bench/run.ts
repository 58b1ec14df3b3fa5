import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchAccel } from './accel.bench.js';
import { benchDebian } from './debian.bench.js';
import { benchLab } from './lab.bench.js';
import { benchScale } from './scale.bench.js';
import { benchScreenBridge } from './screen-bridge.bench.js';
import { benchTinyImage } from './tiny-image.bench.js';
import { benchWeb } from './web.bench.js';
import { benchUml } from './uml.bench.js';
import { benchWireAll } from './wire-all.bench.js';

/**
 * `npm run bench [-- NAME...]`: runs every benchmark (or the named ones), prints the figures and
 * keeps them as JSON.
 */
const print = (line: string) => process.stdout.write(`${line}\n`);
const benches: Array<{ name: string; key: string; run: (print: (line: string) => void) => Promise<unknown> }> = [
  { name: 'tiny-image', key: 'tinyImage', run: benchTinyImage },
  { name: 'lab', key: 'lab', run: benchLab },
  { name: 'accel', key: 'accel', run: benchAccel },
  { name: 'scale', key: 'scale', run: benchScale },
  { name: 'screen-bridge', key: 'screenBridge', run: benchScreenBridge },
  { name: 'web', key: 'web', run: benchWeb },
  { name: 'debian', key: 'debian', run: benchDebian },
  { name: 'uml', key: 'uml', run: benchUml },
  { name: 'wire-all', key: 'wireAll', run: benchWireAll },
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${benches.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const results: Record<string, unknown> = { date: new Date().toISOString(), cores: (await import('node:os')).cpus().length };
for (const bench of benches) {
  if (wanted.length && !wanted.includes(bench.name)) continue;
  print(`== ${bench.name}`);
  results[bench.key] = await bench.run(print);
}
const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../bench/results');
await mkdir(dir, { recursive: true });
const file = join(dir, `bench-${Date.now()}.json`);
await writeFile(file, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`results kept in ${file}\n`);
