/**
 * An RPC outage under a swarm node's chain loop (src/node/swarm-node-chain.ts), on anvil behind a proxy that the test
 * takes down: the node commits round 0, the chain goes silent while round 1's commit window passes, and when it
 * answers again the node retries its reads, resumes at the current block (round 1 is dropped, never committed late),
 * claims and collects round 0, and its evaluation run is still in its data dir.
 */
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, test } from 'vitest';
import { parseUnits } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients } from '../../src/chain/clients.js';
import { deployMycel, deploySwarmCoordinator } from '../../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { approve, register, swarmGetEntry } from '../../src/chain/index.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { DEFAULT_SWARM_CONFIG, swarmProgramOf } from '../../src/node/swarm-chain.js';
import { openSwarmChain, swarmChainNode, type SwarmChainEvent } from '../../src/node/swarm-node-chain.js';
import { startRound } from '../../src/swarm/round.js';
import { TINY_MODEL, testNodes } from './helpers.js';

const T = (n: number) => parseUnits(String(n), 18);
let anvil: Anvil | undefined;
let proxy: Server | undefined;
let dir: string | undefined;
afterAll(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the chain goes silent and comes back: the node retries, skips the round it missed, settles the one it committed', async () => {
  anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  dir = await mkdtemp(join(tmpdir(), 'mycel-swarm-outage-'));
  const clients = anvil.accounts.map((a) => createClients({ rpcUrl: anvil!.rpcUrl, chainId: anvil!.chainId, account: privateKeyToAccount(a.privateKey) }));
  const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
  const { publicClient, testClient } = clients[0];
  const d = await deployMycel(wallets[0], { disputeGame: { clock: 60 }, minStake: T(100), unbondingDelay: 1_000n, minChallengeWindow: 50n });
  await send(wallets[0], { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [wallets[1].account.address, T(1_000)] });
  await approve(wallets[1], { token: d.token, spender: d.registry, amount: T(100) });
  await register(wallets[1], { registry: d.registry, stake: T(100) });
  const start = (await publicClient.getBlockNumber()) + 20n;
  const timing = { start, commitBlocks: 10, claimBlocks: 30, challengeBlocks: 10 };
  const swarm = await deploySwarmCoordinator(wallets[0], { token: d.token, registry: d.registry, game: d.disputeGame!, timing, economics: { commitBond: T(1), claimBond: T(10), rewardPerRound: T(100), rounds: 10, useShareBps: 2_000 }, programs: [swarmProgramOf(TINY_MODEL)], swarmId: DEFAULT_SWARM_CONFIG.swarmId });

  // The node's RPC: a proxy to anvil that the test can take down (every request then fails to connect).
  let down = false;
  const target = new URL(anvil.rpcUrl);
  proxy = createServer((req, res) => {
    if (down) return req.socket.destroy();
    const upstream = request({ host: target.hostname, port: target.port, path: '/', method: 'POST', headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
  const rpcUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const logs: string[] = [];
  const events: SwarmChainEvent[] = [];
  const chain = await openSwarmChain({ rpcUrl, privateKey: anvil.accounts[1].privateKey, coordinator: swarm.coordinator, model: TINY_MODEL, dataDir: join(dir, 'chain'), log: (t) => logs.push(t) });
  const stop = new AbortController();
  const driver = swarmChainNode({
    ctx: chain.ctx, clock: chain.clock, modelConfig: chain.modelConfig, checkFraction: 1, secret: new Uint8Array(32).fill(7),
    fetchPolicy: async () => ({ kind: 'unknown-policy', reason: 'no peers in this test' }), onEvent: (e) => events.push(e), signal: stop.signal,
  });
  const [node] = testNodes(1);
  const publish = (round: number) => {
    const s = startRound(node, round);
    driver.published({ round, rollout: s.rollout, policy: s.node.policy, model: s.node.program.model });
    last = round;
  };
  let last = -1;
  const loop = driver.loop(() => last === 1 && driver.settled(1n));
  const mineTo = async (n: bigint) => {
    const left = Number(n - (await publicClient.getBlockNumber()));
    if (left > 0) await testClient.mine({ blocks: left });
  };
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 300 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(what(), `${JSON.stringify(events)}\n${logs.join("\n")}`).toBe(true);
  };

  await mineTo(start);
  publish(0);
  await until(() => events.some((e) => e.action === 'commit' && e.round === 0));
  // The chain goes silent: round 0's commit window closes and round 1's passes while the node cannot reach it.
  down = true;
  await until(() => logs.some((l) => l.startsWith('the chain does not answer')));
  publish(1);
  await mineTo(start + 2n * 10n + 2n);
  const frozen = driver.now();
  await new Promise((r) => setTimeout(r, 1_500));
  expect(driver.now()).toBe(frozen); // the SAPO clock stands still while the chain is silent
  down = false;
  await until(() => logs.some((l) => l.startsWith('the chain answers again')));
  await until(() => events.some((e) => e.action === 'claim' && e.round === 0));
  await mineTo(start + 2n * 10n + 30n + 10n + 1n); // past round 1's challenge window too
  await loop;

  expect(events.filter((e) => e.action === 'collect').map((e) => e.round)).toEqual([0]);
  expect(logs.some((l) => l.startsWith('round 1: not committed'))).toBe(true);
  const entry = (round: bigint) => swarmGetEntry(publicClient, { coordinator: swarm.coordinator, round, node: chain.ctx.address });
  expect(await entry(0n)).toMatchObject({ committed: true, claimed: true, collected: true, refuted: false });
  expect((await entry(1n)).committed).toBe(false);
  // What the node stored is still there: round 0's evaluation run.
  expect((await readdir(join(dir, 'chain', 'swarm-eval'))).length).toBeGreaterThan(0);
  // An account that is not a registered node is refused before the swarm starts, with the fix.
  await expect(openSwarmChain({ rpcUrl, privateKey: anvil.accounts[2].privateKey, coordinator: swarm.coordinator, model: TINY_MODEL, dataDir: join(dir, 'other'), log: () => undefined })).rejects.toThrow(/is not registered in the node registry/);
}, 120_000);
