/**
 * A browser tab as a verifier, in Chromium, on anvil with the real DisputeGame. An honest Node solver's root is the
 * tab's own re-execution: the tab agrees and does not challenge, and the job finalizes. Then a Node solver (node/roles.ts
 * runSolver) cheats at one step of a job and commits its root; the tab, reaching the chain through the node that
 * served its page (POST /rpc), re-executes the job in its worker, finds the root is not its own, challenges, and plays
 * the dispute to the ruling against the Node solver (which plays its side with playDispute). The solver loses: the job
 * is refuted and the tab is paid. The tab's own root is a Node solver's honest run commitment. A screenshot goes to
 * test-artifacts/browser-node/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { getAddress, keccak256, parseEther, type Address, type Hex, type TestClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlockNumber } from 'viem/actions';
import { getJob } from '../../src/chain/actions/getJob.js';
import { send } from '../../src/chain/actions/send.js';
import { createClients } from '../../src/chain/clients.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { Observer, serveDashboard, servePresence, type DashboardServer } from '../../src/node/index.js';
import type { NodeEvent } from '../../src/node/context.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { runSolver, submitJob } from '../../src/node/roles.js';
import { startNode, type RunningNode } from '../../src/node/run.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import { canonicalJson, runJob, Store } from '../../src/train/index.js';
import type { TabState } from '../../src/web/node/main.js';
import { REWARD, STAKE, TOKENS, setupGameChain, type GameChain } from '../chain/dispute-replay.js';
import { randomSecp256k1 } from '../p2p/helpers.js';
import { honest, rules, SPEC } from '../verify/game-helpers.js';
import { injectWallet, launchChromium, screenshot, watchErrors } from './browser.js';

const TOKEN = 'verifier-tab-token';
let c: GameChain;
let browser: Browser;
let relay: MycelNode;
let observer: Observer;
let server: DashboardServer;
let stopPresence: () => void;
let dir: string;
let testClient: TestClient;
const specBytes = new TextEncoder().encode(canonicalJson(SPEC));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-tab-verifier-'));
  c = await setupGameChain(rules);
  testClient = createClients({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, account: privateKeyToAccount(c.anvil.accounts[0].privateKey) }).testClient as unknown as TestClient;
  const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
  // The node that serves the tab its page, its libp2p peer (WebSockets) and the chain (POST /rpc), with the job's spec.
  relay = await MycelNode.start({ identity: identityFromRaw(randomSecp256k1()), dataDir: join(dir, 'relay'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, bootstrap: [], relay: true });
  observer = new Observer('node');
  observer.attachP2p(relay);
  stopPresence = servePresence(relay, 'node');
  server = await serveDashboard(observer, {
    token: TOKEN,
    tokenHint: '',
    chain: { rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, contracts, spec: async (hash) => (hash.toLowerCase() === keccak256(specBytes).toLowerCase() ? specBytes : undefined) },
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  stopPresence?.();
  observer?.close();
  await server?.close();
  await relay?.stop();
  await c?.anvil.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tabState = (page: import('playwright-core').Page) => page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab);

describe('browser node as a verifier', () => {
  test('a tab re-executes a cheating Node solver\'s job, challenges it and wins the dispute', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const events: NodeEvent[] = [];
    const nodes: RunningNode[] = [];
    const ac = new AbortController();
    try {
      await page.goto(`${server.origin}/node?token=${TOKEN}`);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.market !== undefined, undefined, { timeout: 30_000 });
      const tab = getAddress((await tabState(page)).market!.account) as Address;
      // Gas and the MYC a challenge escrows (the job's stake); a challenger needs no bond.
      await testClient.setBalance({ address: tab, value: parseEther('10') });
      await send(c.wallets[0], { address: c.token, abi: MycelTokenAbi, functionName: 'transfer', args: [tab, TOKENS(100)] });
      await page.click('#verify');
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier?.balanceBefore !== undefined, undefined, { timeout: 30_000 });
      const before = await c.balance(tab);

      // A Node submitter; an honest Node solver takes the first job, one that flips one bit of a parameter write at
      // step 2 the second.
      const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
      const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
      const config = (role: string, key: Hex, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, role), name: role, bootstrap, fromBlock, confirmations: 0 });
      const start = async (role: string, account: number, bootstrap: string[]) => {
        const n = await startNode(config(role, c.anvil.accounts[account].privateKey, bootstrap), (e) => events.push(e));
        nodes.push(n);
        return n;
      };
      const submitter = await start('submitter', 1, []);
      const boot = [bootstrapAddr(submitter.p2p)];
      const settled = (n: number) => page.waitForFunction((n) => {
        const v = (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier;
        return v?.phase === 'failed' || (v !== undefined && v.jobs.filter((j) => !['checking', 'challenged'].includes(j.verdict)).length >= n);
      }, n, { timeout: 240_000, polling: 100 });

      const honestSolver = await start('honest', 3, boot);
      const honestSolving = runSolver(honestSolver, { maxJobs: 1, signal: ac.signal }).catch((e: Error) => e);
      const first = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });
      await settled(1);
      // The honest root is the tab's own: verified by re-execution, no challenge.
      expect((await tabState(page)).verifier!.jobs[0]).toMatchObject({ jobId: first.jobId.toString(), verdict: 'agreed' });
      expect((await getJob(c.publicClient, { market: c.market, jobId: first.jobId })).disputes).toBe(0);
      const { challengeEnds } = await getJob(c.publicClient, { market: c.market, jobId: first.jobId });
      await c.advance(challengeEnds - (await getBlockNumber(c.publicClient, { cacheTime: 0 })) + 1n);
      await honestSolving;
      expect((await getJob(c.publicClient, { market: c.market, jobId: first.jobId })).phase).toBe('Finalized');

      const solver = await start('solver', 2, boot);
      const solving = runSolver(solver, { maxJobs: 1, cheatAt: 2, signal: ac.signal }).catch((e: Error) => e);
      const { jobId } = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });
      await settled(2);
      const v = (await tabState(page)).verifier!;
      expect(v.jobs).toHaveLength(2);
      const check = v.jobs[1];
      expect(`${check.verdict}: ${check.note}`).toMatch(/^won: /);
      expect(check.jobId).toBe(jobId.toString());
      expect(check.ruling?.loser).toBe('solver');
      expect(check.ruling!.moves).toBeGreaterThan(2);

      // On chain: the job is refuted and the solver's cheating root is not the honest one the tab computed, which is
      // a Node solver's run commitment for the job.
      const job = await getJob(c.publicClient, { market: c.market, jobId });
      expect(job.phase).toBe('Refuted');
      expect(getAddress(job.solver)).toBe(solver.address);
      const { record } = await runJob(honest, { store: new Store(join(dir, 'honest')) });
      expect(check.mine).toBe(record.commitment);
      expect(v.jobs[0].mine).toBe(record.commitment);
      expect(job.root).not.toBe(`0x${record.commitment}`);
      // Paid: its stake back and the solver's, less the share the market burns.
      expect(await c.balance(tab)).toBeGreaterThan(before);
      expect(BigInt(v.balance!)).toBe(await c.balance(tab));
      expect(events.some((e) => e.type === 'log' && e.node === 'solver' && /challenged by/.test(e.text))).toBe(true);
      await screenshot(page, 'browser-node', 'verifier-won');
      expect(errors).toEqual([]);
      ac.abort(new Error('test done'));
      await solving;
    } finally {
      ac.abort();
      await Promise.all(nodes.map((n) => n.stop()));
      await context.close();
    }
  }, 360_000);

  // The same challenge with the browser's wallet signing (EIP-1193, through the page: the worker has no wallet): the
  // challenge's stake and every dispute move come from the wallet's account. A second full dispute: MYCEL_LONG=1.
  test.runIf(process.env.MYCEL_LONG === '1')('with an EIP-1193 wallet, the wallet signs the tab\'s challenge and moves, and is paid', async () => {
    const walletAccount = getAddress(c.anvil.accounts[6].address);
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    const { sent } = await injectWallet(context, c.anvil.rpcUrl, walletAccount);
    const page = await context.newPage();
    const errors = watchErrors(page);
    const nodes: RunningNode[] = [];
    const ac = new AbortController();
    try {
      await send(c.wallets[0], { address: c.token, abi: MycelTokenAbi, functionName: 'transfer', args: [walletAccount, TOKENS(100)] });
      const before = await c.balance(walletAccount);
      await page.goto(`${server.origin}/node?token=${TOKEN}&verify`);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier?.balanceBefore !== undefined, undefined, { timeout: 30_000 });
      expect((await tabState(page)).verifier).toMatchObject({ signer: 'wallet', account: walletAccount });
      const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
      const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
      const config = (role: string, key: Hex, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, `wallet-${role}`), name: role, bootstrap, fromBlock, confirmations: 0 });
      const submitter = await startNode(config('submitter', c.anvil.accounts[1].privateKey, []), () => undefined);
      nodes.push(submitter);
      const solver = await startNode(config('solver', c.anvil.accounts[4].privateKey, [bootstrapAddr(submitter.p2p)]), () => undefined);
      nodes.push(solver);
      const solving = runSolver(solver, { maxJobs: 1, cheatAt: 3, signal: ac.signal }).catch((e: Error) => e);
      const { jobId } = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });
      await page.waitForFunction((id) => {
        const v = (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier;
        return v?.phase === 'failed' || v?.jobs.some((j) => j.jobId === id && !['checking', 'challenged'].includes(j.verdict));
      }, jobId.toString(), { timeout: 240_000, polling: 100 });
      const check = (await tabState(page)).verifier!.jobs.find((j) => j.jobId === jobId.toString())!;
      expect(`${check.verdict}: ${check.note}`).toMatch(/^won: /);
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
      // The wallet sent the approve, the challenge and its moves, all from its account; it was paid.
      expect(sent.length).toBeGreaterThanOrEqual(2 + Math.floor(check.ruling!.moves / 2));
      expect(new Set(sent.map((a) => getAddress(a)))).toEqual(new Set([walletAccount]));
      expect(await c.balance(walletAccount)).toBeGreaterThan(before);
      expect(errors).toEqual([]);
      ac.abort(new Error('test done'));
      await solving;
    } finally {
      ac.abort();
      await Promise.all(nodes.map((n) => n.stop()));
      await context.close();
    }
  }, 360_000);
});
