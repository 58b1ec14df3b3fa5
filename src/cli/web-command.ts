import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QemunetError, UsageError } from '../errors.js';
import { findSession } from '../lab/sessions.js';
import { startWebServer } from '../web/server/http-server.js';
import { LabSession } from '../web/server/lab-session.js';
import { isLoopback } from '../web/server/security.js';

const USAGE = 'usage: qemunet web [--session DIR] [--port N] [--listen ADDR [--allow-remote]] [--open] [--until-stopped]';
const MAIN = fileURLToPath(new URL('../../../bin/qemunet', import.meta.url));

/**
 * `qemunet web`: the browser front end of a session, in its own process (stopping or crashing it
 * touches no VM). Prints the URL to open; serves until Ctrl-C or SIGTERM (or, with
 * --until-stopped, until the session stops).
 */
export async function webCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      session: { type: 'string' },
      port: { type: 'string' },
      listen: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      open: { type: 'boolean' },
      'until-stopped': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(USAGE);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port needs a port number from 0 (any free one) to 65535, got "${values.port}"`);
  const listen = values.listen ?? '127.0.0.1';
  if (!isLoopback(listen)) {
    if (!values['allow-remote']) {
      throw new UsageError(`--listen ${listen} would let other machines reach the consoles of your VMs (shells) with only the token between them and those shells, over plain HTTP; add --allow-remote if you mean it, or use ssh -L to reach 127.0.0.1 from afar`);
    }
    process.stderr.write(`qemunet web: WARNING: listening on ${listen}: anyone on the network who gets the token gets shells on your VMs, and plain HTTP shows the token to whoever watches the network\n`);
  }
  const dir = await findSession(values.session ?? positionals[0], { allowStopped: true });
  const session = await LabSession.open(dir);
  const server = await startWebServer({ session, port, listen });
  process.stdout.write(`qemunet web: ${server.url}\n`);
  if (values.open) openBrowser(server.url);
  const done = new AbortController();
  const stop = () => done.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const off = values['until-stopped'] ? session.subscribe((v) => (v.phase === 'stopped' || v.phase === 'failed') && stop()) : () => {};
  await new Promise((resolve) => done.signal.addEventListener('abort', resolve, { once: true }));
  off();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await server.close();
  session.close();
  return 0;
}

function openBrowser(url: string): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write('qemunet web: could not run xdg-open; open the URL above yourself\n'));
  child.unref();
}

/**
 * `qemunet up ... --web`: starts `qemunet web --until-stopped` for the session as a process of its
 * own (output in <session>/web.log) and returns the URL it printed.
 */
export async function launchWeb(dir: string): Promise<string> {
  const log = join(dir, 'web.log');
  const fd = openSync(log, 'w', 0o600);
  const child = spawn(process.execPath, [MAIN, 'web', '--session', dir, '--until-stopped'], { stdio: ['ignore', fd, fd], detached: true });
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
