#!/usr/bin/env node
// Bundles the pages in src/web (one entry per page, with its stylesheet) into dist/pages, where the node's dashboard
// server finds them. esbuild, minified, with source maps; a few hundred milliseconds.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'pages');
const pages = ['dashboard', 'node', 'assist'];

await mkdir(out, { recursive: true });
const { metafile } = await build({
  absWorkingDir: root,
  metafile: true,
  entryPoints: pages.flatMap((p) => [
    { in: `src/web/${p}/main.ts`, out: p },
    { in: `src/web/${p}/style.css`, out: p },
  ]).concat([{ in: 'src/web/node/worker.ts', out: 'node-worker' }, { in: 'src/web/assist/worker.ts', out: 'assist-worker' }]),
  outdir: out,
  bundle: true,
  format: 'esm',
  // Shared code in chunks, and what a page imports dynamically (the node page's market code) loaded on use.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'browser',
  target: 'es2022',
  // MYCEL_WEB_MINIFY=0 keeps the names, for a profile of a page or its worker.
  minify: process.env.MYCEL_WEB_MINIFY !== '0',
  sourcemap: true,
  logLevel: 'warning',
  // The data layer reads text files through a dynamic import of node:fs/promises, a path a page never takes.
  external: ['node:*'],
  // Libraries that read process.env.NODE_ENV would otherwise throw "process is not defined" in a page.
  define: { 'process.env.NODE_ENV': '"production"' },
});
// A static import of a Node module stops a page, or its worker, at load (the worker says only "Error"): it comes in
// through a module that imports one (train/index.js and chain/index.js do), so the build is refused instead.
const nodeImports = Object.entries(metafile.outputs).flatMap(([file, o]) =>
  o.imports.filter((i) => i.external && i.kind === 'import-statement' && i.path.startsWith('node:')).map((i) => `${file} imports ${i.path}`));
if (nodeImports.length > 0) {
  console.error(`build-web: a page bundles Node-only code:\n  ${nodeImports.join('\n  ')}\nImport the modules a page needs directly, not through an index that re-exports Node-only ones (e.g. train/index.js).`);
  process.exit(1);
}
for (const p of pages) await copyFile(join(root, 'src', 'web', p, `${p}.html`), join(out, `${p}.html`));
console.log(`build-web: ${pages.join(', ')} -> ${out}`);
