import { readFile } from 'node:fs/promises';
import type { SessionPaths } from '../../session/paths.js';

/** The last lines of a host's console log (empty when there is no log yet). */
export async function consoleTail(paths: SessionPaths, host: string, lines: number): Promise<string[]> {
  const text = await readFile(paths.host(host).log, 'utf8').catch(() => '');
  return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines);
}

/** The ends of several hosts' consoles, each under a line naming the host and its log. */
export async function consoleTails(paths: SessionPaths, hosts: readonly string[], lines = 10): Promise<string> {
  const tails = await Promise.all(hosts.map(async (name) => `--- end of ${name}'s console (${paths.host(name).log}) ---\n${(await consoleTail(paths, name, lines)).join('\n')}`));
  return tails.join('\n');
}
