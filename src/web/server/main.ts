import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { isQemunetError, UsageError } from '../../errors.js';
import { exitStatus, isKnownCode, listSessions } from '../../api/index.js';
import { startWebServer } from './http-server.js';
import { ApiSession } from './api-session.js';
import { isLoopback, newSecret } from './security.js';
import { LabsFolder } from './labs.js';
import { openerPage, PrivateFiles } from './private-files.js';
import { NoSession, SessionPool } from './session-pool.js';
import type { WebSession } from './session-source.js';

const USAGE = 'usage: qemunet web [--session DIR] [--labs DIR] [--port N] [--listen ADDR [--allow-remote]] [--open] [--until-stopped]';

/**
 * `qemunet web`: the browser front end of a session, in its own process (stopping or crashing it
 * touches no VM). Prints the URL to open; serves until Ctrl-C or SIGTERM (or, with
 * --until-stopped, until the session stops).
 */
async function webCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      session: { type: 'string' },
      labs: { type: 'string' },
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
  const labs = values.labs === undefined ? undefined : await LabsFolder.open(values.labs);
  const known = async (dir: string) => (await listSessions()).some((s) => s.dir === dir);
  const sessions = new SessionPool(await firstSession(values.session ?? positionals[0], labs !== undefined), (dir) => ApiSession.open(dir), known);
  const token = newSecret();
  // Only --open needs one; removed however the process ends (the exit hook covers an uncaught error).
  const files = values.open ? await PrivateFiles.make() : undefined;
  const removeFiles = () => files?.removeSync();
  process.once('exit', removeFiles);
  try {
    const server = await startWebServer({ session: sessions.first, pick: (dir) => sessions.get(dir), port, listen, token, ...(labs ? { labs } : {}) });
    process.stdout.write(`qemunet web: ${server.url}\n`);
    if (files) openBrowser(await files.write('open.html', openerPage(server.url)));
    await serveUntilStopped(sessions, values['until-stopped'] === true);
    await server.close();
  } finally {
    removeFiles();
    process.off('exit', removeFiles);
    await sessions.close();
  }
  return 0;
}

/** Until Ctrl-C, SIGTERM or SIGHUP (its terminal closed), or with `untilStopped` until the first session stops. */
async function serveUntilStopped(sessions: SessionPool, untilStopped: boolean): Promise<void> {
  const done = new AbortController();
  const stop = () => done.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  const off = untilStopped ? sessions.first.subscribe((v) => (v.phase === 'stopped' || v.phase === 'failed') && stop()) : () => {};
  await new Promise((resolve) => done.signal.addEventListener('abort', resolve, { once: true }));
  off();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.off('SIGHUP', stop);
}

/**
 * The session shown first: the one named, else the only running one. With a labs folder, none
 * running (or several) is no error: the page lists them and the folder's labs to choose from.
 */
async function firstSession(named: string | undefined, haveLabs: boolean): Promise<WebSession> {
  try {
    return await ApiSession.open(named ?? '');
  } catch (e) {
    if (!named && haveLabs && isQemunetError(e) && (e.code === 'NO_SESSION' || e.code === 'SESSION_AMBIGUOUS')) return new NoSession();
    throw e;
  }
}

/** Opens `page` (a private file that forwards to the URL with the token): the token stays off xdg-open's and the browser's command lines. */
function openBrowser(page: string): void {
  const child = spawn('xdg-open', [page], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write('qemunet web: could not run xdg-open; open the URL above yourself\n'));
  child.unref();
}


/** `qemunet web ...` (bin/qemunet hands it here: cli/ does not import web/). Errors are printed as the CLI prints them. */
export async function main(args: string[]): Promise<number> {
  try {
    return await webCommand(args);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (isQemunetError(e) || isKnownCode(code)) {
      process.stderr.write(`qemunet: ${(e as Error).message}\n`);
      return exitStatus(String(code));
    }
    throw e;
  }
}
