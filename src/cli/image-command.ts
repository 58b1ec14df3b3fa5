import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { InterruptedError, UsageError } from '../errors.js';
import { buildImage, listImages, pullImage, removeImage } from '../api/index.js';
import { catalogSettings } from './lab-settings.js';
import { progressReporter } from './progress.js';

const USAGE = 'usage: qemunet image build [tiny|debian] [--force] | qemunet image list [--json] [-c FILE] | qemunet image pull NAME [-c FILE] | qemunet image rm NAME';

export async function imageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean' }, json: { type: 'boolean' }, config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const [sub, name] = positionals;
  const catalogOptions = catalogSettings(values.config, { env: process.env, home: homedir() });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (sub) {
    case 'build': {
      const ac = new AbortController();
      const onSignal = () => ac.abort(new InterruptedError('interrupted: the build was abandoned and its temporary files removed'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = progressReporter(process.stderr);
      try {
        const m = await buildImage(name ?? 'tiny', { ...catalogOptions, force: values.force ?? false, signal: ac.signal, onProgress: progress.update });
        progress.done();
        process.stdout.write(`${m.system} is built (kernel ${m.kernelVersion}, ${m.packages.length} packages, ${m.buildSeconds} s)\n`);
        return 0;
      } finally {
        progress.done();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    case 'list': {
      const { rows, configFiles, notes } = await listImages(catalogOptions);
      if (values.json) {
        process.stdout.write(JSON.stringify({ systems: rows, configFiles, notes }, null, 2) + '\n');
        return 0;
      }
      for (const r of rows) {
        process.stdout.write(`${r.name} (${r.sys}, ${r.source})\n`);
        for (const f of r.files) process.stdout.write(`  ${f.role.padEnd(7)} ${f.state.padEnd(12)} ${f.bytes !== undefined ? humanBytes(f.bytes).padStart(9) : ''.padStart(9)}  ${f.path}\n`);
      }
      process.stdout.write(configFiles.length ? `config read: ${configFiles.join(', ')}\n` : 'no qemunet.cfg read (none in this directory; use -c FILE)\n');
      for (const n of notes) process.stdout.write(`note: ${n}\n`);
      return 0;
    }
    case 'pull':
      if (!name) throw new UsageError(USAGE);
      return pullCommand(name, values.config);
    case 'rm': {
      if (!name) throw new UsageError(USAGE);
      process.stdout.write(`removed ${await removeImage(name, catalogOptions)}\n`);
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** Downloads a system's image (QemuNet's -D): a progress line, and Ctrl-C keeps the partial file for a resume. */
export async function pullCommand(name: string, configFile: string | undefined): Promise<number> {
  const catalogOptions = catalogSettings(configFile, { env: process.env, home: homedir() });
  const ac = new AbortController();
  const onSignal = () => ac.abort(new InterruptedError('interrupted: the partial download is kept and resumes next time'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let last = '';
  try {
    const r = await pullImage(name, {
      ...catalogOptions,
      signal: ac.signal,
      onProgress: (p) => {
        const pct = p.totalBytes ? ` ${Math.floor(((p.receivedBytes ?? 0) / p.totalBytes) * 100)}%` : p.receivedBytes ? ` ${humanBytes(p.receivedBytes)}` : '';
        const text = `${name}: ${p.phase}${pct}`;
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
        else if (p.phase !== last) process.stderr.write(`${text}\n`);
        last = p.phase;
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
    process.stdout.write(r.downloaded ? `${name} is installed: ${r.files.join(', ')}\n` : `${name} is already present: ${r.files.join(', ')}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
