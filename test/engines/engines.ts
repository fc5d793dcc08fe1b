// Runs one program on several JS engines (Node 20, Node 22, headless Chromium) so tests can assert that
// float32 results are bit-identical everywhere. Usage:
//
//   const nodeJs = await bundle('test/x/entry.ts', 'node');
//   const webJs = await bundle('test/x/entry.ts', 'browser');
//   const a = await runInNode(process.execPath, nodeJs);     // Node 20 (the test runner's own Node)
//   const b = await runInNode(await node22(), nodeJs);       // Node 22 from npm, cached in .cache/node22
//   const c = await runInChromium(webJs);                    // Debian's /usr/bin/chromium via playwright-core
//
// The entry computes a string and hands it to report() from ./report.ts: in Node it is printed to stdout,
// in the browser it is published as globalThis.__mycelResult (errors: stderr + exit 1 / __mycelError).
// Every run* rejects with the engine's error text when the entry fails (or after timeoutMs, default 120 s).
// Chromium serves the bundle's folder (.cache/engines/), cross-origin isolated; Workers from blob: URLs
// or from the bundle's own import.meta.url both work there.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = join(root, '.cache');
const bundleDir = join(cacheDir, 'engines');

/** Node 22 version installed from npm; scripts/install-test-deps.sh pre-installs it through node22(). */
export const NODE22_VERSION = '22.23.3';
/** Debian's chromium; playwright's own browser downloads are not reachable here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const SETUP_HINT = 'run `bash scripts/install-test-deps.sh` once (installs Debian chromium, firefox-esr and Node 22)';

/**
 * Bundles a TypeScript entry and everything it imports into one ESM file under .cache/engines/ and returns
 * its absolute path. For 'browser', a static or dynamic `node:` import is an error (esbuild's or ours);
 * runtime lookups such as `globalThis.process?.getBuiltinModule?.('node:crypto')` are plain strings and pass.
 */
export async function bundle(entry: string, platform: 'node' | 'browser'): Promise<string> {
  const entryPath = resolve(root, entry);
  // One file per entry and platform, named before the build so source maps point back at the sources.
  const id = createHash('sha256').update(entryPath).digest('hex').slice(0, 12);
  const file = join(bundleDir, `${basename(entry).replace(/\.[cm]?tsx?$/, '')}-${platform}-${id}.mjs`);
  const result = await build({
    entryPoints: [entryPath],
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    write: false,
    outfile: file,
    sourcemap: 'inline', // stack traces from a failing entry point at the TypeScript lines
    logLevel: 'silent',
    metafile: true,
    // Libraries that read process.env.NODE_ENV would otherwise throw "process is not defined" in a page.
    define: platform === 'browser' ? { 'process.env.NODE_ENV': '"production"' } : {},
    // CommonJS dependencies that require() a builtin need a real require inside an ES module in Node.
    banner: platform === 'node'
      ? { js: "import { createRequire as __mycelCreateRequire } from 'node:module'; const require = __mycelCreateRequire(import.meta.url);" }
      : {},
  }).catch((e: Error) => {
    throw new Error(`bundle(${entry}, '${platform}'): ${e.message}`);
  });
  const output = result.outputFiles?.find((f) => f.path === file);
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
    if (platform === 'browser') {
    // esbuild already refuses to resolve node: imports for the browser; the metafile lists whatever import
    // the bundle kept anyway (a package that marks one external), which would fail only when the page loads.
    // Read from the metafile, not the text: the runtime's worker source strings contain require('node:…').
    const kept = (result.metafile?.outputs[relative(root, file)]?.imports ?? []).filter((i) => i.path.startsWith('node:'));
    if (kept.length) throw new Error(`browser bundle of ${entry} imports ${kept.map((i) => i.path).join(', ')}; use a runtime lookup`);
  }
  // Written via rename so parallel test files never read half a file.
  await mkdir(bundleDir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, output.contents);
  await rename(tmp, file);
  return file;
}

let node22Promise: Promise<string> | undefined;

/**
 * Path to a Node 22 binary: the npm package `node@22.23.3` installed into .cache/node22 (npm registry only;
 * reused when already there). Installs into a temp folder and renames it, so concurrent callers are safe.
 */
export function node22(): Promise<string> {
  node22Promise ??= (async () => {
    const dir = join(cacheDir, 'node22');
    const bin = (d: string) => join(d, 'node_modules', 'node', 'bin', 'node');
    if (await isNodeVersion(bin(dir), NODE22_VERSION)) return bin(dir);
    const tmp = `${dir}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await exec('npm', ['i', '--prefix', tmp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      `node@${NODE22_VERSION}`], { cwd: tmp, timeoutMs: 300_000 });
    if (!(await isNodeVersion(bin(tmp), NODE22_VERSION))) throw new Error(`npm i node@${NODE22_VERSION} gave no working binary`);
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another process won the race: use its copy if it works.
      await rm(tmp, { recursive: true, force: true });
      if (!(await isNodeVersion(bin(dir), NODE22_VERSION))) throw e;
    }
    return bin(dir);
  })();
  node22Promise.catch(() => (node22Promise = undefined)); // a failed install may be retried
  return node22Promise;
}

async function isNodeVersion(binary: string, version: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  try {
    return (await exec(binary, ['--version'])).trim() === `v${version}`;
  } catch {
    return false;
  }
}

/** Runs a node bundle with the given Node binary; resolves to its trimmed stdout, rejects with its stderr. */
export async function runInNode(binary: string, bundleFile: string, timeoutMs = 120_000): Promise<string> {
  // Source maps: an entry's stack trace then points at its TypeScript lines.
  return (await exec(binary, ['--enable-source-maps', bundleFile], { cwd: root, timeoutMs })).trim();
}

function exec(file: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(file, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return ok(stdout);
        const why = err.killed ? `killed (timeout ${opts.timeoutMs ?? 60_000} ms?)` : `exit ${err.code}`;
        fail(new Error(`${basename(file)} ${args.join(' ')}: ${why}\n${stderr.trim() || stdout.trim()}`));
      });
  });
}

const contentTypes: Record<string, string> = {
  '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html',
};

// The page imports the bundle, then waits for report() to publish; a bundle that throws while loading
// (syntax error, top-level throw) rejects the import, which we turn into __mycelError as well.
const page = (name: string) => `<!doctype html><meta charset="utf-8"><title>mycel engines</title>
<script type="module">
import(${JSON.stringify(`./${name}`)}).catch((e) => {
  globalThis.__mycelError ??= 'bundle failed to load: ' + (e && e.stack || String(e));
});
</script>`;

/**
 * Serves the bundle's folder from 127.0.0.1 with COOP/COEP headers (so the page is crossOriginIsolated:
 * SharedArrayBuffer, shared WebAssembly.Memory in Workers) and a page at / that imports the bundle.
 */
async function serveBundle(bundleFile: string): Promise<{ url: string; close(): Promise<void> }> {
  const served = dirname(resolve(bundleFile));
  const name = basename(bundleFile);
  const server = createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/favicon.ico') return void res.writeHead(204, headers).end(); // not a 404 in the log
    if (path === '/') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page(name));
      return;
    }
    // Only files inside the bundle's folder: a bundle may load sibling files (a module Worker of itself).
    const file = resolve(served, '.' + decodeURIComponent(path));
    if (!file.startsWith(served + sep)) return void res.writeHead(403, headers).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** The page's outcome: the entry's reported string, or its error (both set by report.ts). */
function pageOutcome(): { result: string } | { error: string } | false {
  const g = globalThis as { __mycelResult?: unknown; __mycelError?: unknown };
  if (g.__mycelError !== undefined) return { error: String(g.__mycelError) };
  if (g.__mycelResult !== undefined) return { result: String(g.__mycelResult) };
  return false;
}

/**
 * Loads the bundle in headless Chromium from serveBundle, and resolves to the entry's reported string or
 * rejects with its error. Fails (never skips) if Chromium is not installed.
 */
export async function runInChromium(bundleFile: string, opts: { timeoutMs?: number; executablePath?: string } = {}): Promise<string> {
  const executablePath = opts.executablePath ?? CHROMIUM_PATH;
  const timeout = opts.timeoutMs ?? 120_000;
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: ${SETUP_HINT}`);
  const name = basename(bundleFile);
  const server = await serveBundle(bundleFile);

  // Imported lazily so that Node-only users of this module don't pay for playwright.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const log: string[] = []; // console errors and page errors, attached to a failure to explain it
  try {
    const tab = await browser.newPage();
    tab.on('console', (m) => { if (m.type() === 'error') log.push(`console.error: ${m.text()}`); });
    tab.on('pageerror', (e) => log.push(`pageerror: ${e.stack ?? e.message}`));
    await tab.goto(server.url);
    const handle = await tab.waitForFunction(
      pageOutcome,
      undefined,
      { timeout, polling: 50 },
    ).catch((e: Error) => {
      throw new Error(`Chromium: no result from ${name} within ${timeout} ms (${e.message.split('\n')[0]})\n${log.join('\n')}`);
    });
    const outcome = (await handle.jsonValue()) as { result?: string; error?: string };
    if (outcome.error !== undefined) throw new Error(`Chromium: ${outcome.error}${log.length ? '\n' + log.join('\n') : ''}`);
    return (outcome.result ?? '').trim();
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
}

export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/**
 * The same in headless Firefox ESR (SpiderMonkey), driven by puppeteer-core over WebDriver BiDi. Fails
 * (never skips) if Firefox is not installed.
 */
export async function runInFirefox(bundleFile: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? 180_000;
  if (!existsSync(FIREFOX_PATH)) throw new Error(`Firefox not found at ${FIREFOX_PATH}: ${SETUP_HINT}`);
  const name = basename(bundleFile);
  const server = await serveBundle(bundleFile);
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, protocol: 'webDriverBiDi' });
  const log: string[] = [];
  try {
    const tab = await browser.newPage();
    tab.on('console', (m) => { if (m.type() === 'error') log.push(`console.error: ${m.text()}`); });
    tab.on('pageerror', (e) => log.push(`pageerror: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
    await tab.goto(server.url);
    const handle = await tab.waitForFunction(pageOutcome, { timeout, polling: 50 }).catch((e: Error) => {
      throw new Error(`Firefox: no result from ${name} within ${timeout} ms (${e.message.split('\n')[0]})\n${log.join('\n')}`);
    });
    const outcome = (await handle.jsonValue()) as { result?: string; error?: string };
    if (outcome.error !== undefined) throw new Error(`Firefox: ${outcome.error}${log.length ? '\n' + log.join('\n') : ''}`);
    return (outcome.result ?? '').trim();
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
}
