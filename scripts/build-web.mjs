// Bundles the page (src/web/page) into build/web: app.js, app.css (with xterm.js's CSS) and
// index.html. Everything the page needs is in those files: no CDN, it works offline.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const out = new URL('../build/web/', import.meta.url);
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: 'src/web/page/main.ts' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  outdir: 'build/web',
  logLevel: 'warning',
});
await build({ entryPoints: { app: 'src/web/page/style.css' }, bundle: true, minify: true, outdir: 'build/web', logLevel: 'warning' });
await copyFile('src/web/page/index.html', new URL('index.html', out));
