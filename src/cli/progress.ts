import type { BuildProgress } from '../api/index.js';

const LABELS: Record<BuildProgress['phase'], string> = {
  resolve: 'resolving packages',
  download: 'downloading packages',
  install: 'installing packages (mmdebstrap)',
  extract: 'unpacking packages',
  configure: 'configuring the guest',
  kernel: 'preparing the kernel',
  initrd: 'making the initrd',
  disk: 'making the disk image',
  finish: 'checksums and manifest',
};

/** One rewritten status line on a terminal; one line per phase when output is a file or pipe. */
export function progressReporter(out: NodeJS.WriteStream) {
  let lastPhase = '';
  let active = false;
  return {
    update: (p: BuildProgress) => {
      const count = p.total ? ` ${p.done ?? 0}/${p.total}` : '';
      const bar = p.total ? ` [${'#'.repeat(Math.round(((p.done ?? 0) / p.total) * 20)).padEnd(20, '.')}]` : '';
      const text = `building ${p.system ?? 'tiny'}: ${LABELS[p.phase]}${bar}${count}${p.detail ? ` ${p.detail}` : ''}`;
      if (out.isTTY) {
        out.write(`\r\x1b[K${text.slice(0, (out.columns ?? 80) - 1)}`);
        active = true;
      } else if (p.phase !== lastPhase) out.write(`building ${p.system ?? 'tiny'}: ${LABELS[p.phase]}\n`);
      lastPhase = p.phase;
    },
    done: () => {
      if (active) out.write('\r\x1b[K');
      active = false;
    },
  };
}
