// `npm run bench -- browser [--json] [--steps N] [--repeats N]`: the browser node beside a Node process on the same
// job (the `quick` preset, N steps, default 8), both on the WebAssembly SIMD kernels with the same thread count:
// training speed (tokens/s over the steps and their state hashes) in Chromium's Web Worker and in Node, the time
// from page load to the tab's first gossip message, and whether both runs commit to the same root.
// Rows: {where: "chromium"|"node", job, tokens_per_s} per repeat, then
// {summary: true, browser_over_node, first_gossip_ms, commitments_equal} (medians over the repeats).
// Goals (issue 16): browser_over_node >= 0.8, first_gossip_ms <= 3000.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Observer, serveDashboard, servePresence } from '../src/node/index.js';
import { identityFromRaw } from '../src/p2p/identity.js';
import { MycelNode } from '../src/p2p/node.js';
import { buildProgram, parseJobSpec, PRESETS, runInMemory } from '../src/train/index.js';
import { configureKernels } from '../src/tensor/index.js';
import type { TabState } from '../src/web/node/main.js';
import { launchChromium } from '../test/web/browser.js';
import { makeReporter } from './report.js';

/** The tab's kernel threads: min(4, cores) (src/web/node/caps.ts); Node gets the same. */
const THREADS = Math.max(1, Math.min(4, cpus().length));

const flag = (args: string[], name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const steps = flag(args, '--steps', 8);
  const repeats = flag(args, '--repeats', 1);
  const spec = parseJobSpec({ ...PRESETS.quick, steps, checkpointEvery: steps });
  const job = `quick, ${steps} steps`;
  const dir = await mkdtemp(join(tmpdir(), 'mycel-bench-browser-'));
  const node = await MycelNode.start({ identity: identityFromRaw(randomBytes(32)), dataDir: join(dir, 'node'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, bootstrap: [], relay: true });
  const observer = new Observer('bench');
  observer.attachP2p(node);
  const stopPresence = servePresence(node, 'bench');
  const token = randomBytes(16).toString('hex');
  const server = await serveDashboard(observer, { token, tokenHint: '', job: { name: job, spec } });
  const browser = await launchChromium();
  const rows = { chromium: [] as number[], node: [] as number[], gossip: [] as number[], equal: true };
  try {
    for (let r = 0; r < repeats; r++) {
      // 'wasm', not 'fast': in Node 'fast' is the native addon where it was built; the tab has only WebAssembly.
      configureKernels({ kernels: 'wasm', threads: THREADS });
      const inNode = runInMemory(buildProgram(spec));
      configureKernels({ kernels: 'reference', threads: 1 });
      rows.node.push(inNode.tokensPerS);
      report({ where: 'node', job, tokens_per_s: round(inNode.tokensPerS), threads: THREADS, kernels: 'wasm' });

      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.origin}/node?token=${token}&run`);
      await page.waitForFunction(() => {
        const t = (window as unknown as { __mycelTab: TabState }).__mycelTab;
        return t.error !== undefined || (t.result !== undefined && t.firstGossipMs !== undefined);
      }, undefined, { timeout: 600_000 });
      const tab = await page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab);
      await context.close();
      if (tab.error || !tab.result) throw new Error(`the browser node failed: ${tab.error}`);
      rows.chromium.push(tab.result.tokensPerS);
      rows.gossip.push(tab.firstGossipMs!);
      rows.equal &&= tab.result.commitment === inNode.commitment;
      // stages_ms: where the time to first gossip goes (script running, key loaded, libp2p started, connected).
      report({ where: 'chromium', job, tokens_per_s: round(tab.result.tokensPerS), threads: tab.result.threads, kernels: tab.result.kernels, matmul: tab.result.matmul, first_gossip_ms: Math.round(tab.firstGossipMs!), stages_ms: tab.marks });
    }
    report({ summary: true, loadavg_1m: round(loadavg()[0], 2), browser_over_node: round(median(rows.chromium) / median(rows.node), 3), first_gossip_ms: Math.round(median(rows.gossip)), commitments_equal: rows.equal, goals: { browser_over_node: 0.8, first_gossip_ms: 3000 } });
  } finally {
    await browser.close();
    stopPresence();
    observer.close();
    await server.close();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
