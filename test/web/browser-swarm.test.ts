/**
 * A browser tab takes a round in a SAPO swarm with a Node peer (swarm/sapo-node.ts runSapoNode over libp2p): it makes
 * its rollout in its worker with the swarm's own startRound, serves its policy blob over the blob protocol, and
 * publishes the rollout over gossip; the Node peer checks it as any peer's (questions, answers and rewards recomputed,
 * and, with reexec 1, every completion regenerated from the tab's policy blob fetched from the tab, token for token)
 * and accepts it. The tab's rollout is the same bits a Node peer makes for its key, round and policy. The tab then
 * finishes the round: it re-executes the peer's questions from the peer's policy blob (fetched over libp2p) and takes
 * the GRPO step, reaching the policy finishRound reaches in Node.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { Observer, serveDashboard, servePresence, type DashboardServer } from '../../src/node/index.js';
import { parseBlobCid, sha256Bytes } from '../../src/p2p/blob/manifest.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import { toHex } from '../../src/platform/sha256.js';
import { blobKey, createSapoNode, finishRound, startRound } from '../../src/swarm/round.js';
import { rolloutCodec } from '../../src/swarm/rollout-message.js';
import { runSapoNode, type SapoEvent } from '../../src/swarm/sapo-node.js';
import type { TabState } from '../../src/web/node/main.js';
import { keyOf, testConfig, testNodes } from '../swarm/helpers.js';
import { MYCEL_MAIN } from '../cli/spawn-mycel.js';
import { launchChromium, screenshot, watchErrors } from './browser.js';

const TOKEN = 'swarm-tab-token';
const ROUND_MS = 120_000;
// As sapoFingerprint's swarm: policies pre-trained 20 steps answer sometimes right, so groups' rewards differ and
// the GRPO step trains (an untrained policy's all-zero rewards would leave nothing to train on); in this swarm's
// round 0 one of the peer's groups has mixed rewards (its id fixes the questions and their uniforms).
const config = testConfig({ swarmId: 'tab-swarm-1', tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 2, external: 2, completions: 4, maxTokens: 2, temperature: 0.7, reexecFraction: 1 });
const [peer] = testNodes(1, config, 1, 20);
// The policy the node offers joiners is not the Node peer's own (another seed): to re-execute the tab's completions
// the peer must fetch the tab's policy blob from the tab, over the blob protocol.
const [offered] = testNodes(1, config, 2, 20);
const TAB_KEY = keyOf(5);
let browser: Browser;
let p2p: MycelNode;
let observer: Observer;
let server: DashboardServer;
let stopPresence: () => void;
let dir: string;
let genesisMs: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-tab-swarm-'));
  p2p = await MycelNode.start({ identity: identityFromRaw(keyOf(0)), dataDir: join(dir, 'peer'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, bootstrap: [], relay: true });
  observer = new Observer('node');
  observer.attachP2p(p2p);
  stopPresence = servePresence(p2p, 'node');
  genesisMs = Date.now();
  server = await serveDashboard(observer, { token: TOKEN, tokenHint: '', swarm: { config, genesisMs, roundMs: ROUND_MS, policy: { hash: offered.blob.hash, bytes: offered.blob.bytes } } });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  stopPresence?.();
  observer?.close();
  await server?.close();
  await p2p?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('browser node in a swarm round', () => {
  test('a tab\'s rollout passes a Node peer\'s recompute check, and the tab finishes the round with the Node\'s GRPO step, bit for bit', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1100 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const events: SapoEvent[] = [];
    const ac = new AbortController();
    // The Node peer runs round 0 expecting one peer: it waits for the tab to subscribe, then for its rollout. (Its
    // policy blob is announced on the DHT only once a DHT peer connects; a tab runs none: test/p2p/provide.test.ts.)
    const running = runSapoNode({ p2p, node: peer, dataDir: join(dir, 'peer'), genesisMs, roundMs: ROUND_MS, rounds: 1, expectPeers: 1, signal: ac.signal, onEvent: (e) => events.push(e) });
    try {
      await page.goto(`${server.origin}/node?token=${TOKEN}&rounds=1`);
      // A known key, so that the test can make the rollout this tab must make.
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.peerId !== undefined);
      await page.fill('#key-text', `0x${Buffer.from(TAB_KEY).toString('hex')}`);
      await Promise.all([page.waitForEvent('load'), page.click('#key-import')]);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.swarm !== undefined, undefined, { timeout: 30_000 });
      const tabId = identityFromRaw(TAB_KEY).peerId.toString();

      await page.click('#swarm-round');
      await page.waitForFunction(() => ['finished', 'failed'].includes((window as unknown as { __mycelTab: TabState }).__mycelTab.swarm!.phase), undefined, { timeout: 90_000, polling: 100 });
      const s = (await page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab)).swarm!;
      expect(`${s.phase}: ${s.note}`).toMatch(/^finished: /);
      expect(s.round).toBe(0);
      expect(s.history).toMatchObject([{ round: 0, phase: 'finished' }]);
      const final = await running;

      // The Node peer took the tab's rollout, re-executed its completions from the tab's policy blob, rejected nothing.
      expect(events.filter((e) => e.type === 'reject')).toEqual([]);
      const round = events.find((e) => e.type === 'round');
      // rolloutsIn and reexecuted count questions: all of the tab's (reexec 1), every completion regenerated.
      expect(round?.type === 'round' && round.metrics).toMatchObject({ round: 0, rolloutsIn: config.own, reexecuted: config.own, rejected: 0, dropped: [] });
      expect(round?.type === 'round' && round.metrics.externalFrom.every((id) => id === tabId)).toBe(true);
      expect(final.dropped.size).toBe(0);

      // Bit for bit: the rollout a Node peer makes with the tab's key, for round 0, from the served policy.
      const twin = createSapoNode({ id: tabId, key: TAB_KEY, config, program: offered.program, policy: offered.policy });
      const { rollout, blob } = startRound(twin, 0);
      expect(s.rolloutDigest).toBe(toHex(sha256Bytes(rolloutCodec.encode('rollout', rollout))));
      expect(s.cid).toBe(blob.cid);
      expect(blob.cid).not.toBe(peer.blob.cid);
      expect(await p2p.store.has(parseBlobCid(blob.cid))).toBe(true); // fetched from the tab
      // The tab finished the round as a Node peer would: the peer's questions accepted after re-executing them from
      // the peer's policy blob, fetched from the peer over libp2p, and the GRPO step: the same policy, bit for bit, as
      // finishRound gives in Node for the tab's key on the same inbox.
      expect(s.metrics).toMatchObject({ round: 0, node: tabId, rolloutsIn: config.own, reexecuted: config.own, rejected: 0, dropped: [] });
      expect(s.rejections).toEqual([]);
      const peerRollout = startRound(peer, 0).rollout;
      const twinDone = finishRound(startRound(twin, 0).node, { rollouts: [{ from: peer.id, rollout: peerRollout }], blobs: new Map([[blobKey(peer.id, peer.blob.cid), peer.blob.bytes]]) });
      expect(twinDone.metrics.trainedOwn + twinDone.metrics.trainedExternal).toBeGreaterThan(0);
      expect(s.metrics!.loss).toBeDefined();
      expect(s.metrics!.policy).not.toBe(offered.blob.hash);
      expect(s.metrics!.policy).toBe(twinDone.metrics.policy);
      expect(s.metrics!.trainedOwn + s.metrics!.trainedExternal).toBe(twinDone.metrics.trainedOwn + twinDone.metrics.trainedExternal);
      await screenshot(page, 'browser-node', 'swarm-round');
      expect(errors).toEqual([]);
    } finally {
      ac.abort();
      await running.catch(() => undefined);
      await context.close();
    }
  }, 180_000);

  test('mycel swarm start --tabs-port serves the page; a tab takes part round after round', async () => {
    const dataDir = join(dir, 'cli');
    const child = spawn(process.execPath, [MYCEL_MAIN, 'swarm', 'start', '--tabs-port', '0', '--port', '0', '--model', 'micro', '--pretrain-steps', '0', '--split', '2/2', '--rounds', '3', '--peers', '1', '--round-ms', '120000', '--reexec', '1', '--genesis', String(Date.now()), '--data-dir', dataDir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let buffered = '';
    child.stdout.on('data', (d) => {
      buffered += d;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    const context = await browser.newContext();
    try {
      const deadline = Date.now() + 60_000;
      while (!lines.some((l) => l.type === 'tabs') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      const url = lines.find((l) => l.type === 'tabs')?.url as string | undefined;
      expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/node\?token=[0-9a-f]{32}$/);
      const page = await context.newPage();
      // One press takes part until stopped: two rounds here (?rounds=2), the second from the policy the first trained.
      // The node runs a third, so it still serves its round-1 policy blob while the tab re-executes from it (a node
      // that stops after its last round may stop serving before a slow peer fetched it: an unknown-policy rejection).
      await page.goto(`${url}&swarm&rounds=2`);
      await page.waitForFunction(() => {
        const s = (window as unknown as { __mycelTab: TabState }).__mycelTab.swarm;
        return (s?.history.length ?? 0) >= 2 || (s?.phase === 'failed' && s.history.length === 0);
      }, undefined, { timeout: 120_000, polling: 100 });
      const s = (await page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab)).swarm!;
      expect(s.history, `${s.note}; rejected: ${s.rejections?.join('; ')}`).toMatchObject([{ round: 0, phase: 'finished', rolloutsIn: 2, rejected: 0 }, { round: 1, phase: 'finished', rolloutsIn: 2, rejected: 0 }]);
      expect(s.metrics, s.rejections?.join('; ')).toMatchObject({ round: 1, rolloutsIn: 2, reexecuted: 2, rejected: 0 });
      expect(await page.isEnabled('#swarm-round')).toBe(true); // done: the button takes part again
      // The swarm node took the tab's two questions in each round after re-executing them from its policy blob.
      const deadline2 = Date.now() + 60_000;
      while (lines.filter((l) => l.type === 'round').length < 2 && Date.now() < deadline2 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(lines.filter((l) => l.type === 'round').slice(0, 2), stderr).toMatchObject([{ round: 0, rolloutsIn: 2, reexecuted: 2, rejected: 0 }, { round: 1, rolloutsIn: 2, reexecuted: 2, rejected: 0 }]);
    } finally {
      child.kill('SIGKILL');
      await context.close();
    }
  }, 180_000);
});
