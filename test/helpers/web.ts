import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { QEMUNET } from './cli.js';

/** Debian's chromium, which scripts/install-deps.sh installs. */
export const CHROMIUM = '/usr/bin/chromium';

/** Starts `qemunet web ARGS --port 0` and gives the process with the URL it prints (token included). */
export async function startQemunetWeb(args: readonly string[]): Promise<{ web: ChildProcess; url: string }> {
  const web = spawn(process.execPath, [QEMUNET, 'web', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    web.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^qemunet web: (http\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    web.once('exit', (code) => reject(new Error(`qemunet web exited (${code}): ${out}`)));
  });
  return { web, url };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}
