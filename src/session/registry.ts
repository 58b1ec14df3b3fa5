import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where qemunet remembers the sessions it started, so `ls` and commands without `--session` can
 * find them: one small file per session directory, holding its path.
 */
export function registryDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.QEMUNET_STATE_DIR) return join(env.QEMUNET_STATE_DIR, 'sessions');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'qemunet', 'sessions');
}

function entryName(dir: string): string {
  return createHash('sha256').update(dir).digest('hex').slice(0, 16);
}

/** `reg`: the registry directory, which the caller found (registryDir() of its environment). */
export async function registerSession(dir: string, reg: string): Promise<void> {
  await mkdir(reg, { recursive: true });
  await writeFile(join(reg, entryName(dir)), `${dir}\n`);
}

export async function forgetSession(dir: string, reg: string): Promise<void> {
  await rm(join(reg, entryName(dir)), { force: true });
}

export async function registeredSessions(reg: string): Promise<string[]> {
  const names = await readdir(reg).catch(() => [] as string[]);
  const dirs = await Promise.all(names.map((n) => readFile(join(reg, n), 'utf8').then((t) => t.trim(), () => '')));
  return dirs.filter(Boolean).sort();
}
