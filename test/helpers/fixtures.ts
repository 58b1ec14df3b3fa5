import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/fixtures/qemunet beside the checkout (CI clones the repo with shared/ next to it). */
const candidates = [process.env.QEMUNET_FIXTURES, resolve(fileURLToPath(import.meta.url), '../../../../../shared/fixtures/qemunet'), '/work/shared/fixtures/qemunet'];
export const FIXTURES = candidates.find((c): c is string => !!c && existsSync(c)) ?? candidates[1]!;

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}
