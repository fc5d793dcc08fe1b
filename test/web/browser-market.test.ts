/**
 * A browser tab on the job market, in Chromium, on anvil with the real dispute game: it reaches the chain through the
 * node that served its page (POST /rpc), bonds, claims a job, trains it in its worker, commits, and the job finalizes
 * with the tab's account paid; its root equals a Node solver's run commitment, and the step hashes and model it serves
 * and announces pass a submitter's checks (the model byte-equal to a Node solver's). Leaving: a tab closed after its claim
 * releases its relay slot at once, and the job it held times out at its deadline (expired: the submitter gets the
 * reward back and the stake the tab put up). The proxy refuses what a tab must not do (spend the RPC node's unlocked
 * accounts, drive anvil). Screenshots go to test-artifacts/browser-node/.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { getAddress, keccak256, parseEther, parseUnits, type Address, type Hex, type PublicClient, type TestClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getBalance, getBlockNumber, readContract } from 'viem/actions';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { approve } from '../../src/chain/actions/approve.js';
import { claimJob } from '../../src/chain/actions/claimJob.js';
import { commitRoot } from '../../src/chain/actions/commitRoot.js';
import { register } from '../../src/chain/actions/register.js';
import { NodeRegistryAbi } from '../../src/chain/generated/NodeRegistry.js';
import { challenge } from '../../src/chain/actions/challenge.js';
import { jobFacts } from '../../src/chain/dispute-moves.js';
import { expire } from '../../src/chain/actions/expire.js';
import { getJob } from '../../src/chain/actions/getJob.js';
import { postJob } from '../../src/chain/actions/postJob.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { createClients } from '../../src/chain/clients.js';
import { deployMycel } from '../../src/chain/deploy.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { Observer, serveDashboard, servePresence, type DashboardServer } from '../../src/node/index.js';
import { Announcements, type HeardAnnouncement } from '../../src/node/announce.js';
import { checkedStepHashes, checkModel } from '../../src/node/step-hashes.js';
import { parseBlobCid } from '../../src/p2p/blob/manifest.js';
import { playDispute } from '../../src/node/dispute.js';
import { cheatingProgram, jobOf } from '../../src/node/roles.js';
import { replayParty, rulesOf } from '../../src/verify/index.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import { canonicalJson, runJob, Store, type JobSpec } from '../../src/train/index.js';
import { buildProgram } from '../../src/train/program.js';
import type { TabState } from '../../src/web/node/main.js';
import { microSpec } from '../train/helpers.js';
import { randomSecp256k1 } from '../p2p/helpers.js';
import { injectWallet, launchChromium, screenshot, watchErrors } from './browser.js';

const T = (n: number) => parseUnits(String(n), 18);
const TOKEN = 'market-tab-token';
const WINDOW = 10n;
let anvil: Anvil;
let browser: Browser;
let node: MycelNode;
let observer: Observer;
let server: DashboardServer;
let stopPresence: () => void;
let dir: string;
let contracts: { token: Address; registry: Address; market: Address; disputeGame: Address };
let deployer: MycelWalletClient;
let submitter: MycelWalletClient;
let publicClient: PublicClient;
let testClient: TestClient;
const specs = new Map<string, Uint8Array>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-tab-market-'));
  anvil = await startAnvil();
  const clients = (i: number) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[i].privateKey) });
  deployer = clients(0).walletClient as MycelWalletClient;
  submitter = clients(1).walletClient as MycelWalletClient;
  publicClient = clients(0).publicClient as PublicClient;
  testClient = clients(0).testClient as unknown as TestClient;
  const d = await deployMycel(deployer, { disputeGame: {}, minChallengeWindow: WINDOW });
  contracts = { token: d.token, registry: d.registry, market: d.market, disputeGame: getAddress(d.disputeGame!) };
  await send(deployer, { address: contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [submitter.account.address, T(10_000)] });
  node = await MycelNode.start({ identity: identityFromRaw(randomSecp256k1()), dataDir: join(dir, 'node'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, bootstrap: [], relay: true });
  observer = new Observer('node');
  observer.attachP2p(node);
  stopPresence = servePresence(node, 'node');
  server = await serveDashboard(observer, {
    token: TOKEN,
    tokenHint: '',
    chain: { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, contracts, spec: async (hash) => specs.get(hash.toLowerCase()) },
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  stopPresence?.();
  observer?.close();
  await server?.close();
  await node?.stop();
  await anvil?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The submitter posts a job with its dispute rules (as submitJob does), and the node serves its spec. */
async function post(spec: JobSpec, o: { reward: bigint; stake: bigint; deadlineIn: bigint }): Promise<bigint> {
  const bytes = new TextEncoder().encode(canonicalJson(spec));
  specs.set(keccak256(bytes).toLowerCase(), bytes);
  await approve(submitter, { token: contracts.token, spender: contracts.market, amount: o.reward });
  const { jobId } = await postJob(submitter, { market: contracts.market, spec: bytes, steps: BigInt(spec.steps), reward: o.reward, stake: o.stake, deadlineIn: o.deadlineIn, challengeWindow: WINDOW });
  const { facts } = jobOf(spec);
  await send(submitter, { address: contracts.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, facts.h0, facts.root, facts.size] });
  return jobId;
}

const tabState = (page: Page) => page.evaluate(() => (window as unknown as { __mycelTab: TabState }).__mycelTab);
const balance = (who: Address) => readContract(publicClient, { address: contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] });

/** A tab opened on the node page, its account funded with gas and tokens by the deployer, ready to press "Solve". */
async function fundedTab(): Promise<{ page: Page; errors: string[]; address: Address; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.origin}/node?token=${TOKEN}`);
  await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.market !== undefined, undefined, { timeout: 30_000 });
  const address = getAddress((await tabState(page)).market!.account);
  await testClient.setBalance({ address, value: parseEther('10') });
  await send(deployer, { address: contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [address, T(1_000)] });
  return { page, errors, address, close: () => context.close() };
}

const waitPhase = (page: Page, phases: string[], timeout: number) =>
  page.waitForFunction((ps) => {
    const m = (window as unknown as { __mycelTab: TabState }).__mycelTab.market;
    return m !== undefined && (ps.includes(m.phase) || m.phase === 'failed');
  }, phases, { timeout, polling: 50 });

describe('browser node on the job market', () => {
  test('the proxy forwards reads and signed transactions only', async () => {
    const call = (method: string) => fetch(`${server.origin}/rpc`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }) }).then((r) => r.json() as Promise<{ result?: string; error?: { message: string } }>);
    expect((await call('eth_chainId')).result).toBe(`0x${anvil.chainId.toString(16)}`);
    expect((await call('eth_sendTransaction')).error?.message).toContain('not served to browser nodes');
    expect((await call('anvil_mine')).error?.message).toContain('not served to browser nodes');
    // What a tab is told about the chain, beside the dashboard's own view of it (/api/chain: none attached here).
    const get = (path: string) => fetch(`${server.origin}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<unknown>);
    expect(await get('/api/served-chain')).toEqual({ chainId: anvil.chainId, contracts, rpc: '/rpc', confirmations: 0 });
    expect(await get('/api/chain')).toBeNull();
    const noToken = await fetch(`${server.origin}/rpc`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
  });

  test('a tab bonds, claims a job, trains it in its worker, commits a Node solver\'s root and is paid', async () => {
    const spec = microSpec({ steps: 4, checkpointEvery: 2 });
    const reward = T(50);
    const stake = T(20);
    const jobId = await post(spec, { reward, stake, deadlineIn: 1_000n });
    const announcements = Announcements.open(node, anvil.chainId, contracts.market);
    const tab = await fundedTab();
    try {
      await tab.page.click('#work');
      await waitPhase(tab.page, ['committed', 'challenged'], 120_000);
      const committed = (await tabState(tab.page)).market!;
      expect(`${committed.phase}: ${committed.note}`).toMatch(/^committed: /);
      // The window is in blocks: mine past it (anvil mines only on transactions).
      await testClient.mine({ blocks: Number(WINDOW) + 1 });
      await waitPhase(tab.page, ['finalized', 'refuted'], 60_000);
      const m = (await tabState(tab.page)).market!;
      expect(m.phase).toBe('finalized');
      expect(m.jobId).toBe(jobId.toString());

      // On chain: the tab's account solved the job, its root is the job's result, and it was paid reward + stake.
      const job = await getJob(publicClient, { market: contracts.market, jobId });
      expect(job.phase).toBe('Finalized');
      expect(getAddress(job.solver)).toBe(tab.address);
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'node-solver')) });
      expect(job.root).toBe(`0x${record.commitment}`);
      expect(m.root).toBe(job.root);
      expect(BigInt(m.balanceAfter!) - BigInt(m.balanceBefore!)).toBe(reward);
      expect(await balance(tab.address)).toBe(BigInt(m.balanceAfter!));

      // The tab served its step hashes and model, announced on the market's topic as a Node solver does: the node takes
      // each from the tab over the blob protocol and checks it as a submitter does (the list's Merkle root is the root
      // on chain, the model's state hash its last step hash). The model is a Node solver's last checkpoint, byte for byte.
      const heard = async (kind: 'steps' | 'model') => {
        for await (const a of announcements.candidates(kind, jobId, job.root, AbortSignal.timeout(30_000))) return a;
        throw new Error(`no ${kind} announcement`);
      };
      const fromTab = async (a: HeardAnnouncement) => {
        expect(a.from).toBe((await tabState(tab.page)).peerId);
        await node.fetch(a.cid, { providers: [a.from], timeoutMs: 30_000 });
        return new Uint8Array(await readFile(node.store.paths(parseBlobCid(a.cid)).data));
      };
      const stepsAnnounced = await heard('steps');
      const stepHashes = checkedStepHashes(await fromTab(stepsAnnounced), { jobId, root: job.root, steps: spec.steps, cid: stepsAnnounced.cid });
      expect(stepHashes).toEqual(record.stepHashes);
      const modelAnnounced = await heard('model');
      const model = await fromTab(modelAnnounced);
      checkModel(model, { jobId, finalHash: stepHashes[spec.steps], cid: modelAnnounced.cid });
      expect(model).toEqual(await new Store(join(dir, 'node-solver')).getObject(record.checkpoints[String(spec.steps)]));
      expect(m.published).toMatchObject({ steps: stepsAnnounced.cid, model: modelAnnounced.cid, states: 3 });
      await screenshot(tab.page, 'browser-node', 'market-finalized');
      expect(tab.errors).toEqual([]);
    } finally {
      announcements.close();
      await tab.close();
    }
  }, 240_000);

  test('a challenged tab plays the dispute as the solver and wins against a lying challenger, then is paid', async () => {
    const spec = microSpec({ steps: 4, checkpointEvery: 2 });
    const reward = T(30);
    const stake = T(10);
    const jobId = await post(spec, { reward, stake, deadlineIn: 1_000n });
    // The challenger: a Node party whose step 2 flips a bit of a parameter write (it claims that run's root), playing
    // with the Node's own replayParty and playDispute. Funded before the tab commits (the window is 10 blocks).
    const liar = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[2].privateKey) }).walletClient as MycelWalletClient;
    await send(deployer, { address: contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [liar.account.address, T(100)] });
    await approve(liar, { token: contracts.token, spender: contracts.market, amount: stake });
    const honestProgram = buildProgram(spec);
    const lie = cheatingProgram(honestProgram, 2);
    const lieStore = new Store(join(dir, 'liar'));
    const { record: lieRecord } = await runJob(lie, { store: lieStore });
    const tab = await fundedTab();
    try {
      await tab.page.click('#work');
      await waitPhase(tab.page, ['committed', 'challenged'], 120_000);
      const committed = await getJob(publicClient, { market: contracts.market, jobId });
      expect(committed.phase).toBe('Committed');
      const commitBlock = await getBlockNumber(publicClient, { cacheTime: 0 });
      const { disputeId } = await challenge(liar, { market: contracts.market, jobId, root: `0x${lieRecord.commitment}` as Hex });
      const rules = rulesOf(honestProgram);
      const outcome = await playDispute(
        { publicClient, wallet: liar, contracts, confirmations: 0, log: () => undefined, tx: () => undefined },
        {
          disputeId, jobId, rules, facts: jobFacts(rules),
          party: replayParty({ role: 'challenger', program: lie, reference: honestProgram, store: lieStore, record: lieRecord }),
          roots: { solver: committed.root, challenger: `0x${lieRecord.commitment}` },
          parties: { solver: tab.address, challenger: liar.account.address },
          fromBlock: commitBlock - 1n,
        },
      );
      expect(outcome.loser).toBe('challenger');
      await testClient.mine({ blocks: Number(WINDOW) + 1 });
      await waitPhase(tab.page, ['finalized', 'refuted'], 60_000);
      const m = (await tabState(tab.page)).market!;
      expect(`${m.phase}: ${m.note}`).toMatch(new RegExp(`^finalized: job ${jobId} finalized after dispute ${disputeId}: challenger lost`));
      // Reward and stake, and the liar's stake less the share burned.
      expect(BigInt(m.balanceAfter!) - BigInt(m.balanceBefore!)).toBeGreaterThan(reward);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  }, 240_000);

  test('with an EIP-1193 wallet in the browser, the wallet signs the tab\'s chain writes and is paid', async () => {
    // The wallet (test/web/browser.ts injectWallet): a provider backed by anvil's JSON-RPC, one of its dev accounts.
    const walletAccount = getAddress(anvil.accounts[5].address);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    // It starts on chain 1: the tab asks it to switch to the node's chain, and it does (as a person approving it).
    const { sent, switchedTo } = await injectWallet(context, anvil.rpcUrl, walletAccount, { chainId: 1, switches: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    try {
      const spec = microSpec({ steps: 4, checkpointEvery: 2 });
      const reward = T(40);
      const stake = T(15);
      const jobId = await post(spec, { reward, stake, deadlineIn: 1_000n });
      // The wallet's account has ETH (an anvil dev account) and gets MYC; the tab's own key gets nothing.
      await send(deployer, { address: contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [walletAccount, T(1_000)] });
      await page.goto(`${server.origin}/node?token=${TOKEN}`);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.market !== undefined, undefined, { timeout: 30_000 });
      const tabKeyAccount = getAddress((await tabState(page)).address!);
      await page.click('#work');
      await waitPhase(page, ['committed', 'challenged'], 120_000);
      await testClient.mine({ blocks: Number(WINDOW) + 1 });
      await waitPhase(page, ['finalized', 'refuted'], 60_000);
      const m = (await tabState(page)).market!;
      expect(`${m.phase}: ${m.note}`).toMatch(/^finalized: /);
      expect(m.signer).toBe('wallet');
      expect(getAddress(m.account)).toBe(walletAccount);

      const job = await getJob(publicClient, { market: contracts.market, jobId });
      expect(job.phase).toBe('Finalized');
      expect(getAddress(job.solver)).toBe(walletAccount);
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'wallet-solver')) });
      expect(job.root).toBe(`0x${record.commitment}`);
      expect(BigInt(m.balanceAfter!) - BigInt(m.balanceBefore!)).toBe(reward);
      // Every write went through the wallet, from its account: approve, register, approve, claim, commit, finalize.
      expect(sent.length).toBeGreaterThanOrEqual(6);
      expect(new Set(sent.map((a) => getAddress(a)))).toEqual(new Set([walletAccount]));
      expect(await getBalance(publicClient, { address: tabKeyAccount })).toBe(0n);
      expect(switchedTo).toEqual([`0x${anvil.chainId.toString(16)}`]);
      await screenshot(page, 'browser-node', 'market-wallet');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  test('a tab verifier waits for the node\'s confirmations on top of a committed root before it checks the job', async () => {
    const served = { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, contracts, spec: async (hash: string) => specs.get(hash.toLowerCase()) };
    server.setChain({ ...served, confirmations: 2 });
    const tab = await fundedTab();
    try {
      await tab.page.click('#verify');
      await tab.page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier?.balanceBefore !== undefined, undefined, { timeout: 30_000 });
      // A Node party solves a job honestly and commits its root (anvil mines one block per transaction, then none).
      const spec = microSpec({ steps: 3, checkpointEvery: 3 });
      const stake = T(10);
      const jobId = await post(spec, { reward: T(20), stake, deadlineIn: 1_000n });
      const solver = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[4].privateKey) }).walletClient as MycelWalletClient;
      await send(deployer, { address: contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [solver.account.address, T(1_000)] });
      const bond = await readContract(publicClient, { address: contracts.registry, abi: NodeRegistryAbi, functionName: 'MIN_STAKE' });
      await approve(solver, { token: contracts.token, spender: contracts.registry, amount: bond });
      await register(solver, { registry: contracts.registry, stake: bond });
      await approve(solver, { token: contracts.token, spender: contracts.market, amount: stake });
      await claimJob(solver, { market: contracts.market, jobId });
      const { record } = await runJob(buildProgram(spec), { store: new Store(join(dir, 'confirmed-solver')) });
      await commitRoot(solver, { market: contracts.market, jobId, root: `0x${record.commitment}` });
      // No block on top of the commit: the tab does not look at the job yet.
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await tabState(tab.page)).verifier!.jobs.map((j) => j.jobId)).not.toContain(jobId.toString());
      await testClient.mine({ blocks: 2 });
      await tab.page.waitForFunction((id) => (window as unknown as { __mycelTab: TabState }).__mycelTab.verifier?.jobs.some((j) => j.jobId === id && j.verdict !== 'checking'), jobId.toString(), { timeout: 60_000, polling: 100 });
      const check = (await tabState(tab.page)).verifier!.jobs.find((j) => j.jobId === jobId.toString())!;
      expect(`${check.verdict}: ${check.note}`).toMatch(/^agreed: /);
      expect(check.mine).toBe(record.commitment);
      expect(tab.errors).toEqual([]);
    } finally {
      server.setChain({ ...served, confirmations: 0 });
      await tab.close();
    }
  }, 240_000);

  test('a wallet on another chain that will not switch: the page names the chain to switch to, and nothing is sent', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const { sent, switchedTo } = await injectWallet(context, anvil.rpcUrl, getAddress(anvil.accounts[7].address), { chainId: 1 });
    const page = await context.newPage();
    const errors = watchErrors(page);
    try {
      await page.goto(`${server.origin}/node?token=${TOKEN}`);
      await page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.market !== undefined, undefined, { timeout: 30_000 });
      await page.click('#work');
      await waitPhase(page, ['failed'], 30_000);
      const m = (await tabState(page)).market!;
      expect(m.phase).toBe('failed');
      expect(m.note).toContain(`WalletChainError: The wallet is on chain 1 and did not switch to the node's chain ${anvil.chainId}`);
      expect(m.note).toContain(`switch the wallet to chain ${anvil.chainId} (the node's), then reload`);
      expect(await page.textContent('#market')).toContain(`switch the wallet to chain ${anvil.chainId}`);
      expect(switchedTo).toEqual([`0x${anvil.chainId.toString(16)}`]);
      expect(sent).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  test('a tab closed after its claim frees its relay slot, and the job it held expires at its deadline', async () => {
    // Slow enough to train that the tab is closed while it trains (its facts check comes first, at the same cost).
    const spec = microSpec({ steps: 8, checkpointEvery: 8, batchSize: 64 });
    const reward = T(30);
    const stake = T(10);
    const deadlineIn = 200n;
    const jobId = await post(spec, { reward, stake, deadlineIn });
    const before = await balance(submitter.account.address);
    const tab = await fundedTab();
    await tab.page.waitForFunction(() => (window as unknown as { __mycelTab: TabState }).__mycelTab.relayAddrs.length > 0, undefined, { timeout: 30_000 });
    const peerId = (await tabState(tab.page)).peerId!;
    await tab.page.click('#work');
    await waitPhase(tab.page, ['claimed', 'training'], 120_000);
    expect((await getJob(publicClient, { market: contracts.market, jobId })).phase).toBe('Claimed');
    await tab.page.close({ runBeforeUnload: true });
    await tab.close();

    // Its connection, and with it its relay reservation, go at once.
    const reservations = () => [...(node.host.services.relay as { reservations: Map<unknown, unknown> }).reservations.keys()].map(String);
    const deadline = Date.now() + 15_000;
    while ((node.peers().some((p) => p.peerId === peerId) || reservations().includes(peerId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(reservations()).not.toContain(peerId);
    // The job stays claimed, uncommitted, until its deadline; then anyone expires it: the submitter gets the reward back
    // and the stake the tab put up, and the tab's bond is unlocked.
    const job = await getJob(publicClient, { market: contracts.market, jobId });
    expect(job.phase).toBe('Claimed');
    expect(getAddress(job.solver)).toBe(tab.address);
    await testClient.mine({ blocks: Number(deadlineIn) + 1 });
    await expire(deployer, { market: contracts.market, jobId });
    expect((await getJob(publicClient, { market: contracts.market, jobId })).phase).toBe('Expired');
    expect(await balance(submitter.account.address)).toBe(before + reward + stake);
  }, 240_000);
});
