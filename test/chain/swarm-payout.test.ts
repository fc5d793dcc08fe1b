/**
 * The TypeScript payout rule (src/chain/swarm-payout.ts, which bench swarm settles its poisoned rounds with) against the
 * SwarmCoordinator on anvil: generated rounds (fast-check) of four nodes with chosen scores, some claims refuted (the
 * game is MockResolver, ruling for the challenger), some nodes without a claim, and uses proven from the next round's
 * used roots; every node's score share (the Collected event's reward) and use share (UseCollected) must equal the
 * mirror's, wei for wei, and a node the mirror pays no use share is refused it (SwarmNotEligible).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseEventLogs, type Hex } from 'viem';
import { read, send } from '../../src/chain/actions/send.js';
import { swarmChallengeScore, swarmClaimScore, swarmCollect, swarmCollectUse, swarmFixBeacon, swarmProveUse, type MycelWalletClient } from '../../src/chain/index.js';
import { MockResolverAbi } from '../../src/chain/generated/MockResolver.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { roundPayouts, type PayoutEntry } from '../../src/chain/swarm-payout.js';
import { expectRevert } from './mycel-fixture.js';
import { ECONOMICS, commitIn, policyOf, rolloutGroup, rolloutHash, rolloutsOf, setupSwarmChain, syntheticClaim, usedOf, type Policy, type SwarmChain } from './coordinator-fixture.js';

let c: SwarmChain;
let policies: Policy[];
let snapshot: Hex;
const N = 4;
const a = (w: MycelWalletClient) => w.account.address;

beforeAll(async () => {
  c = await setupSwarmChain({ mock: true, nodes: N + 1 });
  policies = [1, 2, 3, 4].map(policyOf);
  snapshot = await c.testClient.snapshot();
}, 120_000);
afterAll(() => c?.stop());

type Node = { claim: boolean; score: number; refuted: boolean; uses: number[] };
/** Per node: whether it claims, its score, whether its claim is refuted, and which nodes trained on its rollout. */
const nodeArb: fc.Arbitrary<Node> = fc.record({
  claim: fc.boolean(),
  score: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 16 })),
  refuted: fc.boolean(),
  uses: fc.subarray([0, 1, 2, 3]),
});

async function play(nodes: Node[]): Promise<void> {
  await c.testClient.revert({ id: snapshot });
  snapshot = await c.testClient.snapshot();
  const wallets = c.wallets.slice(1, N + 1);
  const challenger = c.wallets[N + 1];
  // Every node committed the round before (the policy that generated its groups: they are payable only then).
  const round = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 2n;
  for (const [i, w] of wallets.entries()) await commitIn(c, w, round - 1n, { policyHash: policies[i].hash });
  const s = await c.schedule(round);
  const rollouts = wallets.map((w, i) => rolloutsOf(a(w), [rolloutGroup(i, Number(round), 0)]));
  for (const [i, w] of wallets.entries()) await commitIn(c, w, round, { policyHash: policies[i].hash, rolloutsRoot: rollouts[i].root });
  await c.mineTo(s.deadline + 1n);
  const beacon = (await swarmFixBeacon(c.wallets[0], { coordinator: c.coordinator, round })).beacon!;
  // Round r+1: user u's used root holds the rollout leaf of every node whose `uses` name u.
  const usedLeaves = wallets.map((_, u) => nodes.flatMap((n, i) => (i !== u && n.uses.includes(u) ? [rollouts[i].leaves[0]] : [])));
  for (const [u, w] of wallets.entries()) await commitIn(c, w, round + 1n, { policyHash: policies[u].hash, usedLeaves: usedLeaves[u] });
  for (const [i, n] of nodes.entries()) {
    if (!n.claim) continue;
    const k = syntheticClaim(policies[i], beacon, n.score, i);
    await swarmClaimScore(wallets[i], { coordinator: c.coordinator, round, runRoot: k.runRoot, scoreBits: k.scoreBits, policyLeaves: k.policyLeaves, proof: k.proof });
    if (!n.refuted) continue;
    const { disputeId } = await swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: a(wallets[i]), root: `0x${(i + 1).toString(16).padStart(64, 'c')}` });
    await send(c.wallets[0], { address: c.game, abi: MockResolverAbi, functionName: 'decide', args: [c.coordinator, disputeId, a(challenger)] });
  }
  for (const [i, n] of nodes.entries()) {
    for (const u of n.uses) {
      if (u === i) continue;
      const proof = swarmProveUse(wallets[i], { coordinator: c.coordinator, round, index: 0, groupHash: rolloutHash(i, Number(round), 0), user: a(wallets[u]), own: rollouts[i].path(0), used: usedOf(usedLeaves[u]).path(rollouts[i].leaves[0]) });
      // Only a node whose claim stands may prove a use.
      if (!n.claim || n.refuted) await expectRevert(proof, 'SwarmNotEligible');
      else await proof;
    }
  }
  const entries: PayoutEntry[] = nodes.map((n, i) => ({ score: n.claim ? n.score : 0, claimed: n.claim, refuted: n.claim && n.refuted, uses: n.claim && !n.refuted ? n.uses.filter((u) => u !== i).length : 0 }));
  const want = roundPayouts(Number(round), entries, ECONOMICS);
  await c.mineTo(s.useEnd);
  for (const [i, w] of wallets.entries()) {
    const collected = await swarmCollect(w, { coordinator: c.coordinator, round });
    const [event] = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: collected.logs, eventName: 'Collected' });
    expect(event.args.reward, `node ${i}'s score share`).toBe(want[i].score);
    if (!entries[i].claimed || entries[i].refuted) {
      expect(want[i].use).toBe(0n);
      await expectRevert(swarmCollectUse(w, { coordinator: c.coordinator, round }), 'SwarmNotEligible');
    } else expect((await swarmCollectUse(w, { coordinator: c.coordinator, round })).paid, `node ${i}'s use share`).toBe(want[i].use);
  }
}

test('the TS payout rule pays what the coordinator pays: score and use shares of generated rounds, wei for wei', async () => {
  // A round with every case at once: standing scores that do not divide the reward evenly, a refuted claim whose
  // rollout was used (its proofs refused), a node without a claim whose rollout was used, a zero score that stood.
  await play([
    { claim: true, score: 3, refuted: false, uses: [1, 2] },
    { claim: true, score: 16, refuted: true, uses: [0] },
    { claim: false, score: 0, refuted: false, uses: [3] },
    { claim: true, score: 7, refuted: false, uses: [] },
  ]);
  await fc.assert(fc.asyncProperty(fc.array(nodeArb, { minLength: N, maxLength: N }), play), { numRuns: 4 });
}, 120_000);
