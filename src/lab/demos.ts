import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageFile } from './version.js';

/** The demo topologies the package ships (demo/NAME.topo), by name. */
export function demoTopologies(): Map<string, string> {
  const dir = packageFile('demo');
  const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.topo')).map((e) => e.name.slice(0, -'.topo'.length));
  return new Map(names.sort().map((n) => [n, join(dir, `${n}.topo`)]));
}

/**
 * The file `qemunet up ARG` reads: ARG itself when it exists (a user's file always wins), else the
 * shipped demo of that name (`qemunet up lan` from any folder), else ARG, for the usual "does not exist".
 */
export function topologyArgument(arg: string, cwd: string = process.cwd()): string {
  if (existsSync(join(cwd, arg)) || arg.includes('/')) return arg;
  return demoTopologies().get(arg.replace(/\.topo$/, '')) ?? arg;
}
