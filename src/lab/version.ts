import { readFileSync } from 'node:fs';

/** This qemunet's version, from its package.json (recorded in saved sessions). */
export const QEMUNET_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
