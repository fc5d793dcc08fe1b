/**
 * A swarm round end to end on anvil through the node's code (src/node/swarm-chain.ts), three nodes in this process:
 * each commits (policy, rollouts, used rollouts), the beacon is fixed, each evaluates its policy and claims its score,
 * one inflates its score; an honest node re-executes its peers' evaluations, challenges the inflated claim and plays
 * the dispute with the node's dispute code while the inflater defends with its own; the inflater is slashed on chain,
 * a rollout's use is proven, and every node collects. Rewards per node are printed; tokens add up.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatUnits } from 'viem';
import { readContract } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { swarmGetEntry, swarmRolloutLeaf, type MycelWalletClient } from '../../src/chain/index.js';
import {
  checkSwarmClaim,
  claimSwarmScore,
  collectSwarmRound,
  commitSwarmRound,
  defendSwarmClaim,
  evaluatePolicy,
  proveSwarmUse,
  roundBeacon,
  type SwarmChainContext,
} from '../../src/node/swarm-chain.js';
import { inflateScore } from '../../src/node/swarm-node-chain.js';
import { ECONOMICS, MODEL_CONFIG, policyOf, rolloutGroup, type Policy, type SwarmChain } from '../chain/coordinator-fixture.js';
import { swarmNodes, type SwarmNodes } from './swarm-node-context.js';

let swarm: SwarmNodes;
let c: SwarmChain;
let policies: Policy[];

beforeAll(async () => {
  swarm = await swarmNodes('swarm-chain', 3);
  c = swarm.c;
  policies = [1, 2, 3].map(policyOf);
}, 120_000);
afterAll(() => swarm?.stop());

const contextOf = (name: string, wallet: MycelWalletClient): SwarmChainContext => swarm.contextOf(name, wallet);

test('three nodes: commit, beacon, evaluate and claim; the inflated score is re-executed, challenged, played and slashed on chain; use proven; everyone collects', async () => {
  const [alice, bob, mallory] = [contextOf('alice', c.wallets[1]), contextOf('bob', c.wallets[2]), contextOf('mallory', c.wallets[3])];
  const nodes = [alice, bob, mallory];
  const before = await Promise.all(nodes.map((n) => c.balance(n.address)));
  const supply0 = await c.totalSupply();
  const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 2n;
  const s = await c.schedule(round);
  // Alice's policy of the round before generated her groups (a group is paid only then).
  await c.mineTo((await c.schedule(round - 1n)).opens);
  await commitSwarmRound(alice, { round: round - 1n, policy: policies[0], groups: [rolloutGroup(0, Number(round) - 1, 0)], usedLeaves: [], modelConfig: MODEL_CONFIG });
  await c.mineTo(s.opens);
  const rollouts = nodes.map((_, i) => [0, 1].map((j) => rolloutGroup(i, Number(round), j)));
  for (const [i, n] of nodes.entries()) await commitSwarmRound(n, { round, policy: policies[i], groups: rollouts[i], usedLeaves: [], modelConfig: MODEL_CONFIG });
  await c.mineTo(s.deadline + 1n);
  const beacon = (await roundBeacon(bob, round))!;
  expect(await roundBeacon(alice, round)).toBe(beacon);
  // Next round: Bob's training step used Alice's rollout 1.
  const bobUsed = [swarmRolloutLeaf(alice.address, rollouts[0][1])];
  await commitSwarmRound(bob, { round: round + 1n, policy: policies[1], groups: [rolloutGroup(1, Number(round) + 1, 0)], usedLeaves: bobUsed, modelConfig: MODEL_CONFIG });

  const runs = [
    await evaluatePolicy(alice, { policy: policies[0], beacon }),
    await evaluatePolicy(bob, { policy: policies[1], beacon }),
    // Mallory's scoring op writes every row right: 16 (the node's --hostile inflate-score).
    await evaluatePolicy(mallory, { policy: policies[2], beacon, program: inflateScore }),
  ];
  expect(runs[2].score).toBe(16);
  const claimedAt: bigint[] = [];
  for (const [i, n] of nodes.entries()) claimedAt.push(await claimSwarmScore(n, round, runs[i]));
  const defending = nodes.map((n, i) => defendSwarmClaim(n, { round, run: runs[i], fromBlock: claimedAt[i] }));

  // Alice checks both peers (their policies: in the swarm, the blobs they published).
  const checkBob = await checkSwarmClaim(alice, { round, node: bob.address, policy: policies[1], beacon });
  expect(checkBob.agreed).toBe(true);
  const checkMallory = await checkSwarmClaim(alice, { round, node: mallory.address, policy: policies[2], beacon });
  expect(checkMallory).toMatchObject({ agreed: false, outcome: { loser: 'solver', at: 'instruction' } });
  await proveSwarmUse(alice, { round, group: rollouts[0][1], ownGroups: rollouts[0], user: bob.address, userUsedLeaves: bobUsed });

  await c.mineTo(s.challengeEnd);
  const defended = await Promise.all(defending);
  expect(defended[2].map((d) => d.outcome.loser)).toEqual(['solver']);
  expect(defended[0]).toEqual([]);
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: mallory.address })).refuted).toBe(true);

  await c.mineTo(s.useEnd);
  const collected: { paid: bigint; usePaid: bigint }[] = [];
  for (const n of nodes) collected.push(await collectSwarmRound(n, round));
  await collectSwarmRound(bob, round + 1n, { use: false });
  await collectSwarmRound(alice, round - 1n, { use: false });
  const after = await Promise.all(nodes.map((n) => c.balance(n.address)));
  const burned = supply0 - (await c.totalSupply());
  const summary = nodes.map((n, i) => `${['alice', 'bob', 'mallory'][i]}: score ${runs[i].score}, net ${formatUnits(after[i] - before[i], 18)} MYC (collected ${formatUnits(collected[i].paid, 18)} + use ${formatUnits(collected[i].usePaid, 18)})`);
  console.log(`swarm round ${round} on chain:\n  ${summary.join('\n  ')}\n  burned ${formatUnits(burned, 18)} MYC`);
  console.log(swarm.logs.join('\n'));
  const share = ECONOMICS.rewardPerRound - (ECONOMICS.rewardPerRound * BigInt(ECONOMICS.useShareBps)) / 10_000n;
  const usePart = ECONOMICS.rewardPerRound - share;
  const total = BigInt(runs[0].score + runs[1].score);
  const scoreShare = (i: number) => (total === 0n ? 0n : (share * BigInt(runs[i].score)) / total);
  // Alice: her score share, the whole use share (the only proven use), and the unburned half of Mallory's bond.
  expect(after[0] - before[0]).toBe(scoreShare(0) + usePart + ECONOMICS.claimBond / 2n);
  expect(after[1] - before[1]).toBe(scoreShare(1));
  // Mallory: her claim bond, nothing else (her commit bond came back).
  expect(after[2] - before[2]).toBe(-ECONOMICS.claimBond);
  expect(burned).toBe(ECONOMICS.claimBond / 2n);
}, 180_000);

