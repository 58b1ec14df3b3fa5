import { accelCacheFile, imageStoreDir } from '../images/store.js';
import type { LabEnvironment } from '../lab/driver/settings.js';
import { registryDir } from '../session/registry.js';

/**
 * Where this user's files are and what desktop there is, from an environment (the CLI gives its
 * own; a program that starts labs gives whatever it means them to see). Pure.
 */
export function labEnvironment(env: NodeJS.ProcessEnv, home: string): LabEnvironment {
  return {
    imageStore: imageStoreDir(env, home),
    accelCache: accelCacheFile(env, home),
    registryDir: registryDir(env, home),
    // qemunet.cfg's ${HOME} is the variable, as QemuNet's shell expands it.
    home: env.HOME ?? '',
    tmpDir: tmpDirOf(env),
    ...(env.DISPLAY ? { xDisplay: env.DISPLAY } : {}),
    wayland: Boolean(env.WAYLAND_DISPLAY),
    dbusSession: Boolean(env.DBUS_SESSION_BUS_ADDRESS),
    programPath: env.PATH ?? '',
  };
}

/** As os.tmpdir() finds it on Linux, from the environment given. */
function tmpDirOf(env: NodeJS.ProcessEnv): string {
  const dir = env.TMPDIR || env.TMP || env.TEMP || '/tmp';
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

