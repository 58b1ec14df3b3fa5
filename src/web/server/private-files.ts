import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Files that hand the token to programs of this user without putting it on a command line (which
 * every user of the machine reads in /proc/PID/cmdline): the page `--open` gives the browser. A
 * folder of mode 0700 made for this server, files of mode 0600, removed when the server stops.
 */
export class PrivateFiles {
  private constructor(readonly dir: string) {}

  /** In $XDG_RUNTIME_DIR (the user's own tmpfs) where there is one, else the temporary folder. */
  static async make(env: NodeJS.ProcessEnv = process.env): Promise<PrivateFiles> {
    return new PrivateFiles(await mkdtemp(join(env.XDG_RUNTIME_DIR || tmpdir(), 'qemunet-web-')));
  }

  /** Writes a new file (never an existing one, nor through a link planted there) readable by this user only. */
  async write(name: string, content: string): Promise<string> {
    const file = join(this.dir, name);
    await writeFile(file, content, { mode: 0o600, flag: 'wx' });
    return file;
  }

  /** Synchronous: it also runs from the process's exit hook. */
  removeSync(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The page `--open` hands the browser: it forwards to the URL with the token, which stays off every command line. */
export function openerPage(url: string): string {
  const quoted = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0; url=${quoted}">\n<title>qemunet web</title>\n<p>Opening <a href="${quoted}">qemunet web</a>…</p>\n`;
}
