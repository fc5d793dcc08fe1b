/**
 * A browser tab as a node, in Chromium: the page a node serves connects to it over WebSockets, hears presence gossip,
 * trains the job the node offers in a Web Worker and gets the same run commitment as a Node solver; its key persists
 * in IndexedDB and can be exported and imported; two tabs reach each other through the node's circuit relay and then
 * directly over WebRTC (the relay carrying only the handshake).
 * Screenshots go to test-artifacts/browser-node/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Observer, serveDashboard, servePresence, type DashboardServer } from '../../src/node/index.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import { runJob, Store } from '../../src/train/index.js';
import { buildProgram } from '../../src/train/program.js';
import type { Reached } from '../../src/web/node/libp2p.js';
import type { TabState } from '../../src/web/node/main.js';
import { microSpec } from '../train/helpers.js';
import { randomSecp256k1 } from '../p2p/helpers.js';
import { launchChromium, screenshot, watchErrors } from './browser.js';

const spec = microSpec({ steps: 4, checkpointEvery: 2 });
let browser: Browser;
let node: MycelNode;
let observer: Observer;
let server: DashboardServer;
let stopPresence: () => void;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-tab-'));
  node = await MycelNode.start({ identity: identityFromRaw(randomSecp256k1()), dataDir: join(dir, 'node'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, bootstrap: [], relay: true });
  observer = new Observer('node');
  observer.attachP2p(node);
  stopPresence = servePresence(node, 'node');
  server = await serveDashboard(observer, { token: 'tab-test-token', tokenHint: '', job: { name: 'micro addition (4 steps)', spec } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  stopPresence?.();
  observer?.close();
  await server?.close();
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A tab in its own browser context (its own IndexedDB), opened on the node page. */
async function openNodePage(context: BrowserContext, query = ''): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors = watchErrors(page);
  // Keeps the page's RTCPeerConnections so a test can read Chromium's own ICE statistics of a WebRTC connection.
  await page.addInitScript(() => {
    const seen: RTCPeerConnection[] = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        seen.push(this);
      }
    } as typeof RTCPeerConnection;
    (window as unknown as { __rtcPairs: () => Promise<unknown[]> }).__rtcPairs = async () => {
      const pairs: unknown[] = [];
      for (const pc of seen) (await pc.getStats()).forEach((r) => { if (r.type === 'candidate-pair') pairs.push({ state: r.state, bytesReceived: r.bytesReceived }); });
      return pairs;
    };
  });
  await page.goto(`${server.origin}/node?token=tab-test-token${query ? `&${query}` : ''}`);
  return { page, errors };
}

const tabState = (page: Page) => page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab);

describe('browser node', () => {
  test('joins over WebSockets, gossips, trains the offered job in a worker: same commitment as a Node solver', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      const { page, errors } = await openNodePage(context, 'run');
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.result !== undefined, undefined, { timeout: 120_000 });
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.firstGossipMs !== undefined, undefined, { timeout: 30_000 });
      const tab = await tabState(page);
      expect(tab.caps.crossOriginIsolated).toBe(true);
      expect(tab.caps.missing).toEqual([]);
      expect(tab.result!.kernels).toBe('fast');
      expect(tab.result!.matmul).toBe('wasm-fma');
      expect(tab.connectedTo).toContain('/ws');
      expect(node.peers().map((p) => p.peerId)).toContain(tab.peerId);

      // A Node solver's run of the same spec (runJob: checkpoints, the state hasher thread) commits to the same root.
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'solver')) });
      expect(tab.result!.commitment).toBe(record.commitment);
      expect(tab.result!.stepHashes).toEqual(record.stepHashes);
      expect(await page.textContent('#commitment')).toBe(record.commitment);
      await screenshot(page, 'browser-node', 'trained');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  test('served without COOP/COEP (no SharedArrayBuffer): the page says what is missing and trains on one thread, same commitment', async () => {
    const plain = await serveDashboard(observer, { token: 'plain-token', tokenHint: '', job: { name: 'micro addition (4 steps)', spec }, crossOriginIsolated: false });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await page.goto(`${plain.origin}/node?token=plain-token&run`);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.result !== undefined || (window as unknown as { __mycelTab: TabState }).__mycelTab.error !== undefined, undefined, { timeout: 120_000 });
      const tab = await tabState(page);
      expect(tab.caps.crossOriginIsolated).toBe(false);
      expect(tab.caps.sharedMemory).toBe(false);
      expect(tab.caps.missing.join(' ')).toContain('SharedArrayBuffer (the page is not cross-origin isolated)');
      expect(await page.textContent('#caps-missing')).toContain('falls back to the WebAssembly SIMD kernels on one thread');
      // The SIMD matmul on unshared memory, one thread: the same bits as the Node solver.
      expect(tab.result).toMatchObject({ kernels: 'fast', threads: 1, matmul: 'wasm-fma' });
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'solver-plain')) });
      expect(tab.result!.commitment).toBe(record.commitment);
      await screenshot(page, 'browser-node', 'no-shared-memory');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await plain.close();
    }
  }, 180_000);

  test('without WebAssembly SIMD: the page says what is missing and trains on the reference kernels, same commitment', async () => {
    // V8 runs WebAssembly SIMD on x86-64 only with SSE4.1; --no-enable-sse4-1 makes it treat this CPU as one without
    // (as on older x86 machines), so SIMD is gone from the whole engine, the worker included: WebAssembly.validate
    // rejects a SIMD module and none compiles. A stub of WebAssembly.validate in the page would leave the worker's.
    const noSimd = await launchChromium(['--js-flags=--no-enable-sse4-1']);
    try {
      const context = await noSimd.newContext();
      const { page, errors } = await openNodePage(context, 'run');
      expect(await page.evaluate(() => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11])))).toBe(false);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.result !== undefined || (window as unknown as { __mycelTab: TabState }).__mycelTab.error !== undefined, undefined, { timeout: 120_000 });
      const tab = await tabState(page);
      expect(tab.error).toBeUndefined();
      expect(tab.caps).toMatchObject({ simd: false, sharedMemory: true, kernels: 'reference', threads: 1 });
      expect(tab.caps.missing).toEqual(['WebAssembly SIMD']);
      expect(await page.textContent('#caps-missing')).toContain('This browser lacks WebAssembly SIMD: the runtime falls back to the reference kernels on one thread');
      expect(tab.result).toMatchObject({ kernels: 'reference', threads: 1, matmul: 'reference' });
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'solver-no-simd')) });
      expect(tab.result!.commitment).toBe(record.commitment);
      await screenshot(page, 'browser-node', 'no-simd');
      expect(errors).toEqual([]);
    } finally {
      await noSimd.close();
    }
  }, 180_000);

  test('the key stays in IndexedDB across reloads; export and import move it', async () => {
    const context = await browser.newContext();
    try {
      const { page } = await openNodePage(context);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.peerId !== undefined);
      const first = await tabState(page);
      await page.reload();
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.peerId !== undefined);
      expect((await tabState(page)).peerId).toBe(first.peerId);
      await page.click('#key-export');
      const exported = await page.inputValue('#key-text');
      expect(exported).toMatch(/^0x[0-9a-f]{64}$/);
      expect(identityFromRaw(Buffer.from(exported.slice(2), 'hex')).peerId.toString()).toBe(first.peerId);

      // Bad input is refused with a message that says what a key looks like; nothing stored changes.
      await page.fill('#key-text', '0x1234');
      await page.click('#key-import');
      expect(await page.textContent('#key-note')).toContain('64 hex digits');
      // Another key, imported: after the reload this tab is that node.
      const other = randomSecp256k1();
      await page.fill('#key-text', `0x${Buffer.from(other).toString('hex')}`);
      await Promise.all([page.waitForEvent('load'), page.click('#key-import')]);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.peerId !== undefined);
      expect((await tabState(page)).peerId).toBe(identityFromRaw(other).peerId.toString());
    } finally {
      await context.close();
    }
  }, 60_000);

  test('two tabs reach each other through the node\'s circuit relay, then directly over WebRTC; a closed tab is gone from the node', async () => {
    const [ca, cb] = [await browser.newContext(), await browser.newContext()];
    try {
      const a = await openNodePage(ca);
      const b = await openNodePage(cb);
      const relayed = (p: Page) => p.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.relayAddrs.length > 0, undefined, { timeout: 30_000 });
      await Promise.all([relayed(a.page), relayed(b.page)]);
      const tabA = await tabState(a.page);
      expect(tabA.relayAddrs[0]).toContain(`/p2p/${node.peerId}/p2p-circuit/p2p/${tabA.peerId}`);
      const reach = (page: Page, addr: string) => page.evaluate((a) => (window as unknown as { __mycelReach: (a: string) => Promise<Reached> }).__mycelReach(a), addr);
      // Through the relay: a limited, relayed connection.
      const relayedConn = await reach(b.page, tabA.relayAddrs[0]);
      expect(relayedConn.remoteAddr).toContain('/p2p-circuit');
      expect(relayedConn.limited).toBe(true);
      // Over WebRTC: the relay carries the SDP handshake, then the tabs talk directly (no relay limits), and a ping
      // goes over that very connection.
      expect(tabA.webrtcAddrs[0]).toContain(`/p2p/${node.peerId}/p2p-circuit/webrtc/p2p/${tabA.peerId}`);
      const direct = await reach(b.page, tabA.webrtcAddrs[0]);
      // libp2p names a WebRTC connection by the address it was dialled at (relay, then /webrtc); what makes it direct
      // is that it carries no relay limits and that Chromium's own peer connection has a working ICE candidate pair.
      expect(direct.remoteAddr).toContain(`/p2p-circuit/webrtc/p2p/${tabA.peerId}`);
      expect(direct.limited).toBe(false);
      // Chromium refreshes its statistics on its own clock: a busy machine may show the pair's bytes a moment late.
      // (page.waitForFunction does not await a promise, hence the loop here)
      const pairWorks = () => b.page.evaluate(async () => {
        const pairs = await (window as unknown as { __rtcPairs: () => Promise<{ state: string; bytesReceived: number }[]> }).__rtcPairs();
        return pairs.some((p) => p.state === 'succeeded' && p.bytesReceived > 0);
      });
      const pairDeadline = Date.now() + 15_000;
      while (!(await pairWorks()) && Date.now() < pairDeadline) await new Promise((r) => setTimeout(r, 250));
      expect(await pairWorks()).toBe(true);
      expect(direct.rttMs).toBeGreaterThan(0);
      // Both tabs see it: the listener's side too.
      const bPeer = (await tabState(b.page)).peerId!;
      await a.page.waitForFunction((p) => (window as unknown as { __mycelTab: TabState }).__mycelTab.webrtcPeers.includes(p), bPeer, { timeout: 10_000 });
      await screenshot(b.page, 'browser-node', 'two-tabs');
      await screenshot(a.page, 'browser-node', 'two-tabs-listener');
      // Closing tab A closes its connection to the node, and the node frees its relay slot at once.
      const reservations = () => [...(node.host.services.relay as { reservations: Map<unknown, unknown> }).reservations.keys()].map(String);
      expect(reservations()).toContain(tabA.peerId);
      await a.page.close({ runBeforeUnload: true });
      const deadline = Date.now() + 15_000;
      while (node.peers().some((p) => p.peerId === tabA.peerId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(node.peers().map((p) => p.peerId)).not.toContain(tabA.peerId);
      expect(reservations()).not.toContain(tabA.peerId);
      expect(reservations()).toContain((await tabState(b.page)).peerId);
      expect([...a.errors, ...b.errors]).toEqual([]);
    } finally {
      await ca.close();
      await cb.close();
    }
  }, 90_000);
});
