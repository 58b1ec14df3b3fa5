import { buildTinyImage } from '../images/builder.js';
import { imageStoreDir } from '../images/store.js';

export async function imageCommand(argv: string[]): Promise<number> {
  const [sub] = argv;
  if (sub === 'build') {
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    const m = await buildTinyImage({ storeDir: imageStoreDir(), signal: ac.signal, force: argv.includes('--force'), onProgress: (p) => process.stderr.write(`${p.phase} ${p.done ?? ''}/${p.total ?? ''} ${p.detail ?? ''}\n`) });
    process.stdout.write(`built tiny in ${m.buildSeconds}s\n`);
    return 0;
  }
  return 2;
}
