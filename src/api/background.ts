import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QemunetError } from '../errors.js';
import { pollUntil } from '../process/poll.js';
import { spawnProcess } from '../process/start.js';

/** The qemunet executable, as a user would run it. */
export const QEMUNET_MAIN = fileURLToPath(new URL('../../../bin/qemunet', import.meta.url));

export interface BackgroundQemunet {
  pid: number;
  /** Whether it has exited already. */
  exited(): boolean;
}

/**
 * Runs `qemunet ARGS` as a process of its own (own process group: a terminal's Ctrl-C does not reach
 * it; it outlives this one), its output appended to `logFile`.
 */
export function startQemunetInBackground(args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): BackgroundQemunet {
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const { child, started } = spawnProcess(process.execPath, [QEMUNET_MAIN, ...args], { stdio: ['ignore', fd, fd], env });
    started.catch(() => {});
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    return { pid: child.pid!, exited: () => exited };
  } finally {
    closeSync(fd);
  }
}

/**
 * `qemunet up ... --web`: starts `qemunet web --until-stopped` for the session as a process of its
 * own (output in <session>/web.log, this start's only) and returns the URL it printed. With `open`
 * (`up --web --open`), it also opens the page in the desktop's browser (qemunet web --open).
 */
export async function launchWeb(dir: string, options: { open?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const { open = false, timeoutMs = 15000 } = options;
  const log = join(dir, 'web.log');
  closeSync(openSync(log, 'w', 0o600));
  const web = startQemunetInBackground(['web', '--session', dir, '--until-stopped', ...(open ? ['--open'] : [])], log);
  const read = () => readFile(log, 'utf8').catch(() => '');
  const url = await pollUntil(async () => {
    const found = /^qemunet web: (http\S+)$/m.exec(await read())?.[1];
    if (found) return found;
    if (web.exited()) return null;
    return undefined;
  }, { timeoutMs });
  if (url) return url;
  throw new QemunetError('WEB_START', `qemunet web did not start:\n${(await read()).trim()}`);
}
