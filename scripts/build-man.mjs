// Writes build/man/qemunet.1 from the help text the CLI prints (run by npm run build, after tsc).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { manPage } from '../build/src/cli/man-page.js';
import { USAGE } from '../build/src/cli/help.js';
import { UP_USAGE } from '../build/src/cli/up-command.js';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const out = new URL('../build/man/', import.meta.url);
await mkdir(out, { recursive: true });
await writeFile(new URL('qemunet.1', out), manPage(USAGE, UP_USAGE, version));
