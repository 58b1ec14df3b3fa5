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

/** `registry`: the caller's registryDir (a session started from settings names it; cli/ resolves it from the environment). */
export async function registerSession(dir: string, reg: string = registryDir()): Promise<void> {
  await mkdir(reg, { recursive: true });
  await writeFile(join(reg, entryName(dir)), `${dir}\n`);
}

export async function forgetSession(dir: string, env?: NodeJS.ProcessEnv): Promise<void> {
  await rm(join(registryDir(env), entryName(dir)), { force: true });
}

export async function registeredSessions(env?: NodeJS.ProcessEnv): Promise<string[]> {
  const reg = registryDir(env);
  const names = await readdir(reg).catch(() => [] as string[]);
  const dirs = await Promise.all(names.map((n) => readFile(join(reg, n), 'utf8').then((t) => t.trim(), () => '')));
  return dirs.filter(Boolean).sort();
}
