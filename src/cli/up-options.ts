import { UsageError } from '../errors.js';

/** What `qemunet up ...` and QemuNet's own `qemunet -t ...` command lines ask for. */
export interface UpOptions {
  topology?: string;
  session?: string;
  /** --checks FILE: the lab checks, kept in the session and run once every host is ready. */
  checks?: string;
  /** -s ARCHIVE / --from ARCHIVE|DIR: a saved session. */
  from?: string;
  /** -a ARCHIVE: extracted into the session before it starts. */
  extraArchive?: string;
  force: boolean;
  /** -v: VLAN support. */
  vlan: boolean;
  /** -y: switch management consoles in windows. */
  switchConsoles: boolean;
  /** -V: a viewer window per vnc/spice host. */
  viewers: boolean;
  /** --display-tcp: vnc/spice servers on 127.0.0.1 with a password, not on unix sockets. */
  displayTcp: boolean;
  /** -l SYS / -L SYS: one VM of that system alone, on a throwaway overlay / on its base image. */
  standalone?: { system: string; raw: boolean };
  /** --yes: no confirmation for -L. */
  yes: boolean;
  /** -D SYS: download the system's image. */
  download?: string;
  config?: string;
  display?: string;
  aliases: Map<string, string>;
  detach: boolean;
  wait: boolean;
  /** --web: a `qemunet web` process for the session, started once it runs. */
  web?: boolean;
  /** --open (with --web): the page opened in the desktop's browser (xdg-open). */
  open?: boolean;
  timeoutSec?: number;
  /** The boot watchdog: a host silent this long after it starts is stalled (KVM: retried under TCG). */
  bootSilenceSec?: number;
  /** The boot watchdog: a host not ready this long after it starts is stalled. */
  bootLimitSec?: number;
  dryRun: boolean;
  /** --wire-all: a wirefilter on every NIC, so `qemunet link HOST:ethN --delay ...` works on any of them. */
  wireAll?: boolean;
  /** --no-taps: TAP lines are refused (qemunet web starts the labs of its --labs folder so). */
  noTaps?: boolean;
  accel: boolean;
  internet: boolean;
  quiet: boolean;
  kernelArgs: string[];
  user?: string;
  mountDir: boolean;
  mountDisk: boolean;
  help: boolean;
  /** Options whose feature belongs to a later version: refused by name rather than ignored. */
  notYet: string[];
}

/** QemuNet's getopts string ("t:a:s:S:c:l:L:D:imMfFkKxyvd:hbz:Vq") plus -u USER. */
const WITH_VALUE = new Set(['t', 'a', 's', 'S', 'c', 'l', 'L', 'D', 'd', 'z', 'u']);
const FLAGS = new Set(['i', 'm', 'M', 'f', 'F', 'k', 'K', 'x', 'y', 'v', 'h', 'b', 'V', 'q']);
const LONG_WITH_VALUE = new Set(['checks', 'session', 'alias', 'timeout', 'boot-silence', 'boot-limit', 'display', 'config', 'topology', 'from']);
const LONG_FLAGS = new Set(['detach', 'wait', 'web', 'open', 'dry-run', 'help', 'force', 'yes', 'wire-all', 'no-taps', 'viewers', 'display-tcp']);

/** Options whose feature is not in this version: none at the moment. */
const NOT_YET: Record<string, string> = {};

/** Parses options in QemuNet's forms (bundled `-xK`, `-tFILE`, `-t FILE`) and the long ones (`--session DIR`, `--session=DIR`). */
export function parseUpOptions(argv: readonly string[]): UpOptions {
  const o: UpOptions = { switchConsoles: false, viewers: false, displayTcp: false, vlan: false, force: false, yes: false, aliases: new Map(), detach: false, wait: false, dryRun: false, accel: true, internet: false, quiet: false, kernelArgs: [], mountDir: true, mountDisk: true, help: false, notYet: [] };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (LONG_FLAGS.has(name)) {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        applyLong(o, name, '');
      } else if (LONG_WITH_VALUE.has(name)) {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        applyLong(o, name, value);
      } else throw new UsageError(`unknown option ${arg}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        if (WITH_VALUE.has(letter)) {
          const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
          if (value === undefined) throw new UsageError(`option -${letter} needs a value`);
          applyShort(o, letter, value);
          break;
        }
        if (!FLAGS.has(letter)) throw new UsageError(`unknown option -${letter}`);
        applyShort(o, letter, '');
      }
      continue;
    }
    positional.push(arg);
  }
  if (positional.length > 1) throw new UsageError(`one topology file at a time (got ${positional.join(', ')})`);
  if (positional[0] !== undefined) {
    if (o.topology !== undefined) throw new UsageError(`a topology is given twice (${o.topology} and ${positional[0]})`);
    o.topology = positional[0];
  }
  if (o.open && !o.web) throw new UsageError('--open opens the page of --web in a browser: give --web too');
  return o;
}

function applyShort(o: UpOptions, letter: string, value: string): void {
  if (NOT_YET[letter]) {
    o.notYet.push(NOT_YET[letter]!);
    return;
  }
  switch (letter) {
    case 't': return void (o.topology = value);
    case 's': return void (o.from = value);
    case 'a': return void (o.extraArchive = value);
    case 'l': return void (o.standalone = { system: value, raw: false });
    case 'L': return void (o.standalone = { system: value, raw: true });
    case 'D': return void (o.download = value);
    case 'S': return void (o.session = value);
    case 'c': return void (o.config = value);
    case 'd': return void (o.display = value);
    case 'x': return void (o.display = 'xterm');
    case 'z': return void o.kernelArgs.push(...value.split(/\s+/).filter(Boolean));
    case 'u': return void (o.user = value);
    case 'i': return void (o.internet = true);
    case 'm': return void (o.mountDir = true);
    case 'M': return void (o.mountDir = false);
    case 'f': return void (o.mountDisk = true);
    case 'F': return void (o.mountDisk = false);
    case 'k': return void (o.accel = true);
    case 'K': return void (o.accel = false);
    case 'q': return void (o.quiet = true);
    case 'v': return void (o.vlan = true);
    case 'y': return void (o.switchConsoles = true);
    case 'V': return void (o.viewers = true);
    case 'b': return void (o.detach = true);
    case 'h': return void (o.help = true);
  }
}

function applyLong(o: UpOptions, name: string, value: string): void {
  switch (name) {
    case 'session': return void (o.session = value);
    case 'checks': return void (o.checks = value);
    case 'from': return void (o.from = value);
    case 'force': return void (o.force = true);
    case 'wire-all': return void (o.wireAll = true);
    case 'no-taps': return void (o.noTaps = true);
    case 'yes': return void (o.yes = true);
    case 'config': return void (o.config = value);
    case 'topology': return void (o.topology = value);
    case 'display': return void (o.display = value);
    case 'detach': return void (o.detach = true);
    case 'viewers': return void (o.viewers = true);
    case 'display-tcp': return void (o.displayTcp = true);
    case 'wait': return void (o.wait = true);
    case 'web': return void (o.web = true);
    case 'open': return void (o.open = true);
    case 'dry-run': return void (o.dryRun = true);
    case 'help': return void (o.help = true);
    case 'boot-silence': return void (o.bootSilenceSec = seconds('--boot-silence', value));
    case 'boot-limit': return void (o.bootLimitSec = seconds('--boot-limit', value));
    case 'timeout': return void (o.timeoutSec = seconds('--timeout', value));
    case 'alias': {
      const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(value);
      if (!m) throw new UsageError(`--alias needs NAME=SYSTEM, like --alias debian=tiny (got "${value}")`);
      o.aliases.set(m[1]!, m[2]!);
    }
  }
}

function seconds(option: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new UsageError(`${option} needs a number of seconds, got "${value}"`);
  return n;
}
