import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { QemunetError } from '../errors.js';

const MAIN = fileURLToPath(new URL('../../../bin/qemunet', import.meta.url));

/**
 * `qemunet up ... --web`: starts `qemunet web --until-stopped` for the session as a process of its
 * own (output in <session>/web.log) and returns the URL it printed. With `open`, it also opens the
 * page in the desktop's browser (qemunet web --open).
 */
export async function launchWeb(dir: string, options: { open?: boolean } = {}): Promise<string> {
  const log = join(dir, 'web.log');
  const fd = openSync(log, 'w', 0o600);
  const child = spawn(process.execPath, [MAIN, 'web', '--session', dir, '--until-stopped', ...(options.open ? ['--open'] : [])], { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 15000;
  for (;;) {
    const text = await readFile(log, 'utf8').catch(() => '');
    const url = /^qemunet web: (http\S+)$/m.exec(text)?.[1];
    if (url) return url;
    if (exited || Date.now() > deadline) throw new QemunetError('WEB_START', `qemunet web did not start:\n${text.trim()}`);
    await sleep(50);
  }
}
