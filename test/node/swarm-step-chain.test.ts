/**
 * GRPO steps on anvil through the node's code (src/node/swarm-step.ts), three nodes in this process: Alice lists
 * Carol's group beside her own but trains on her own only (the `fake-use` cheat: fakeUseStep), Carol trains honestly
 * on Alice's group; Carol proves Alice's "use" of her group. Bob re-executes both steps from the groups he received:
 * he agrees with Carol's and challenges Alice's, playing the dispute with the node's dispute code while Alice defends
 * with her own; Alice's step is refuted on chain, Carol's use of it is taken back and not paid, and tokens add up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatUnits } from 'viem';
import { readContract } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { swarmClaimScore, swarmGetEntry, swarmGetRound, type MycelWalletClient } from '../../src/chain/index.js';
import { collectSwarmRound, commitSwarmRound, proveSwarmUse, roundBeacon, type SwarmChainContext } from '../../src/node/swarm-chain.js';
import { checkSwarmStep, defendSwarmStep, fakeUseStep, runSwarmStep, usedLeavesOf } from '../../src/node/swarm-step.js';
import { grpoStepProgram } from '../../src/swarm/grpo-step.js';
import { stateLeaves } from '../../src/train/index.js';
import { ECONOMICS, MODEL_CONFIG, setupSwarmChain, syntheticClaim, type SwarmChain } from '../chain/coordinator-fixture.js';
import { CONFIG, groupHashOf, groupOf, rowsOf, stepPolicy } from '../chain/coordinator-step-fixture.js';

let c: SwarmChain;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  c = await setupSwarmChain({ nodes: 3 });
  dir = await mkdtemp(join(tmpdir(), 'mycel-swarm-step-'));
}, 120_000);
afterAll(async () => {
  await c?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const contextOf = (name: string, wallet: MycelWalletClient): SwarmChainContext => ({
  publicClient: c.publicClient,
  wallet,
  address: wallet.account.address,
  confirmations: 0,
  contracts: { disputeGame: c.game, coordinator: c.coordinator },
  dataDir: join(dir, name),
  log: (text) => logs.push(`${name}: ${text}`),
  tx: () => undefined,
});

test('a fake use: the node\'s step is re-executed by an honest node, challenged, played and refuted on chain; the colluder\'s use is not paid; an honest step is agreed with', async () => {
  const [alice, bob, carol] = [contextOf('alice', c.wallets[1]), contextOf('bob', c.wallets[2]), contextOf('carol', c.wallets[3])];
  const nodes = [alice, bob, carol];
  const before = await Promise.all(nodes.map((n) => c.balance(n.address)));
  const supply0 = await c.totalSupply();
  const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 1n;
  const s = await c.schedule(round);
  const next = await c.schedule(round + 1n);
  await c.mineTo(s.opens);
  // Round r: each node's policy and its published group (its rollouts root: one leaf per group).
  const policies = [stepPolicy(11), stepPolicy(12), stepPolicy(13)];
  const groups = [groupOf(51), groupOf(52), groupOf(53)];
  for (const [i, n] of nodes.entries()) {
    await commitSwarmRound(n, { round, policy: { model: policies[i].program.model, state: policies[i].state }, rolloutHashes: [groupHashOf(groups[i])], usedLeaves: [], modelConfig: MODEL_CONFIG });
  }
  await c.mineTo(s.deadline + 1n);
  const beacon = (await roundBeacon(carol, round))!;
  const claim = syntheticClaim({ model: policies[2].program.model, state: policies[2].state, leaves: stateLeaves(policies[2].state), hash: policies[2].hash }, beacon, 0);
  await swarmClaimScore(carol.wallet, { coordinator: c.coordinator, round, ...claim });

  // Round r+1: Alice lists her group and Carol's (slot 1) but trains on hers only; Carol trains on Alice's.
  const aliceUsed = [{ author: alice.address, groupHash: groupHashOf(groups[0]) }, { author: carol.address, groupHash: groupHashOf(groups[2]) }];
  const aliceStep = grpoStepProgram(policies[0].program, policies[0].state, [rowsOf(groups[0]), rowsOf(groups[2])], CONFIG);
  const aliceRun = await runSwarmStep(alice, { step: aliceStep, program: (h) => fakeUseStep(h, [1]), tag: 'own' });
  const carolUsed = [{ author: alice.address, groupHash: groupHashOf(groups[0]) }];
  const carolStep = grpoStepProgram(policies[2].program, policies[2].state, [rowsOf(groups[0])], CONFIG);
  const carolRun = await runSwarmStep(carol, { step: carolStep, tag: 'own' });
  await commitSwarmRound(alice, { round: round + 1n, policy: { model: policies[0].program.model, state: aliceRun.next }, rolloutHashes: [groupHashOf(groupOf(54))], usedLeaves: usedLeavesOf(aliceUsed), modelConfig: MODEL_CONFIG });
  await commitSwarmRound(carol, { round: round + 1n, policy: { model: policies[2].program.model, state: carolRun.next }, rolloutHashes: [groupHashOf(groupOf(55))], usedLeaves: usedLeavesOf(carolUsed), modelConfig: MODEL_CONFIG });
  const from = await c.block();
  const defending = [defendSwarmStep(alice, { round: round + 1n, run: aliceRun, fromBlock: from }), defendSwarmStep(carol, { round: round + 1n, run: carolRun, fromBlock: from })];
  // Carol, the colluder, proves the use of her group by Alice's step.
  await proveSwarmUse(carol, { round, rolloutHash: groupHashOf(groups[2]), ownRollouts: [groupHashOf(groups[2])], user: alice.address, userUsedLeaves: usedLeavesOf(aliceUsed) });
  expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).totalUses).toBe(1n);

  // Bob rebuilds each step from the committed start and the groups he received, and checks it.
  const checkCarol = await checkSwarmStep(bob, { round: round + 1n, node: carol.address, prev: policies[2].state, next: carolRun.next, used: carolUsed, step: carolStep });
  expect(checkCarol.agreed).toBe(true);
  const checkAlice = await checkSwarmStep(bob, { round: round + 1n, node: alice.address, prev: policies[0].state, next: aliceRun.next, used: aliceUsed, step: aliceStep });
  expect(checkAlice).toMatchObject({ agreed: false, outcome: { loser: 'solver', at: 'instruction' } });
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round: round + 1n, node: alice.address })).stepRefuted).toBe(true);
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: carol.address })).uses).toBe(0);

  await c.mineTo(next.challengeEnd);
  const defended = await Promise.all(defending);
  expect(defended[0].map((d) => d.outcome.loser)).toEqual(['solver']);
  expect(defended[1]).toEqual([]);
  const collected = [];
  for (const n of nodes) collected.push(await collectSwarmRound(n, round));
  for (const n of [alice, carol]) collected.push(await collectSwarmRound(n, round + 1n, { use: false }));
  const after = await Promise.all(nodes.map((n) => c.balance(n.address)));
  const burned = supply0 - (await c.totalSupply());
  console.log(`GRPO steps of round ${round + 1n} on chain:\n  ${nodes.map((n, i) => `${['alice', 'bob', 'carol'][i]}: net ${formatUnits(after[i] - before[i], 18)} MYC`).join('\n  ')}\n  burned ${formatUnits(burned, 18)} MYC\n${logs.join('\n')}`);
  // Carol's use share: nothing (the only use was against the refuted step); her claim bond and commit bonds back.
  expect(collected[2].usePaid).toBe(0n);
  const bond = ECONOMICS.commitBond;
  expect(after[0] - before[0]).toBe(-bond); // Alice: her commit bond of round r+1
  expect(after[1] - before[1]).toBe(bond / 2n); // Bob: half of it
  expect(after[2] - before[2]).toBe(0n);
  expect(burned).toBe(bond / 2n);
}, 180_000);
