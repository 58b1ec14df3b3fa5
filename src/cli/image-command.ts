import { parseArgs } from 'node:util';
import { InterruptedError, UsageError } from '../errors.js';
import { buildImage, listImages, removeImage } from '../lab/images.js';
import { progressReporter } from './progress.js';

const USAGE = 'usage: qemunet image build [tiny] [--force] | qemunet image list [--json] [-c FILE] | qemunet image rm NAME';

export async function imageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean' }, json: { type: 'boolean' }, config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const [sub, name] = positionals;
  const catalogOptions = values.config ? { configFile: values.config } : {};
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
