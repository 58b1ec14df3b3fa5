import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchTinyImage } from './tiny-image.bench.js';

/** `npm run bench`: runs every benchmark, prints a table and keeps the figures as JSON. */
const results: Record<string, unknown> = { date: new Date().toISOString(), cores: (await import('node:os')).cpus().length };
results.tinyImage = await benchTinyImage((line) => process.stdout.write(`${line}\n`));
const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../bench/results');
await mkdir(dir, { recursive: true });
const file = join(dir, `bench-${Date.now()}.json`);
await writeFile(file, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`results kept in ${file}\n`);
