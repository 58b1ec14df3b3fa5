import { rmdir } from 'node:fs/promises';
import { QemunetError } from '../errors.js';
import { sessionDirectory } from '../lab/driver/prepare.js';
import { run } from '../process/run.js';
import { QEMUNET_MAIN } from './background.js';


export interface DetachedRequest {
  /** A topology file, or (`from`) a session archive or directory. */
  topology?: string;
  from?: string;
  /** A wirefilter on every NIC (faults from a browser on any link). */
  wireAll?: boolean;
  /** false: TAP lines are refused (`up --no-taps`). */
  hostNetwork?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a session in the background, driven by a qemunet process of its own (as `qemunet up
 * --detach`: its own process group, the session outlives the caller), and returns its directory
 * once it runs. The session directory is a new one of its own (as `up` makes without --session).
 */
export async function startDetached(request: DetachedRequest): Promise<string> {
  const file = request.topology ?? request.from;
  if (!file || (request.topology && request.from)) throw new QemunetError('USAGE', 'give a topology file or a session archive to start');
  const dir = await sessionDirectory(undefined, file, process.cwd());
  const what = request.topology ? [request.topology] : ['--from', request.from!];
  const args = [QEMUNET_MAIN, 'up', ...what, '--detach', '--session', dir, ...(request.wireAll ? ['--wire-all'] : []), ...(request.hostNetwork === false ? ['--no-taps'] : [])];
  await run(process.execPath, args, { env: request.env ?? process.env }).catch(async (e: Error & { output?: string }) => {
    // A start refused before it began leaves its new directory empty: nothing to keep. One with files (logs) stays.
    await rmdir(dir).catch(() => {});
    const said = (e.output ?? e.message).trim().split('\n').slice(-8).join('\n');
    throw new QemunetError('START_FAILED', `the session did not start: ${said}`);
  });
  return dir;
}
