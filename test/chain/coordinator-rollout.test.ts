/**
 * The coordinator's rollout dispute on anvil with the real DisputeGame (docs/swarm-chain.md, "The rollout program"):
 * the author's run root of a group is derived on chain from its committed policy of the round before, the round's
 * rollout beacon and the group's leaf (author, index, group hash, useful) and equals the TypeScript program's; a
 * fabricated group that a colluder trained on (its use proven) is refuted by the game played to one instruction, its
 * use is taken back and never paid, and its author's commit bond goes (half to the challenger with what the commit
 * held, half burned); an honest group is defended against a wrong challenger; refusals are named; tokens add up.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import {
  swarmChallengeRollout,
  swarmClaimScore,
  swarmCollect,
  swarmCollectUse,
  swarmGetEntry,
  swarmGetRound,
  swarmProveUse,
  swarmRolloutLeaf,
  type MycelWalletClient,
  type SwarmUsedGroup,
} from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { readContract } from 'viem/actions';
import { stateLeaves } from '../../src/train/index.js';
import { expectRevert } from './mycel-fixture.js';
import { ECONOMICS, beaconOf, commitIn, playRecordedDispute, rolloutsOf, setupSwarmChain, syntheticClaim, usedOf, type SwarmChain } from './coordinator-fixture.js';
import { fabricatedRollout, honestRollout, rolloutPolicy, type RolloutPolicy } from './coordinator-rollout-fixture.js';

let c: SwarmChain;
const a = (w: MycelWalletClient) => w.account.address;
const BOND = ECONOMICS.commitBond;

beforeAll(async () => {
  c = await setupSwarmChain({ nodes: 5 });
}, 180_000);
afterAll(() => c?.stop());

describe('a rollout group on chain', () => {
  test('a fabricated group a colluder trained on is refuted by the game; its use is taken back and not paid; an honest group is defended; tokens add up', async () => {
    const [alice, bob, carol, dave] = c.wallets.slice(1, 5); // alice authors; bob trains on her group; carol and dave check
    const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 2n;
    const policy: RolloutPolicy = rolloutPolicy(7);
    // Question 0: published as generated; question 1: fabricated.
    const honest0 = await honestRollout(policy, a(alice), round, 0);
    const honest1 = await honestRollout(policy, a(alice), round, 1);
    const fake1 = await fabricatedRollout(honest1.honest, honest1.run.group);
    expect(fake1.runRoot).not.toBe(honest1.run.runRoot);
    const groups = [honest0.run.group, { ...fake1.group, useful: true }];
    expect(fake1.group.useful).toBe(true);
    const rollouts = rolloutsOf(a(alice), groups);
    const before = await Promise.all([alice, bob, carol, dave].map((w) => c.balance(a(w))));
    const supply = await c.totalSupply();

    // Round r-1: alice's policy before her step. Round r: her groups and the policy that generated them (the one a
    // dispute starts from: the round before's is refused); bob's commit (his step of r+1 starts there).
    const before1 = rolloutPolicy(8);
    await commitIn(c, alice, round - 1n, { policyHash: before1.hash });
    await commitIn(c, alice, round, { policyHash: policy.hash, rolloutsRoot: rollouts.root });
    await commitIn(c, bob, round, { policyHash: policy.hash });
    const beacon = await beaconOf(c, round);
    await swarmClaimScore(alice, { coordinator: c.coordinator, round, ...syntheticClaim({ model: policy.program.model, state: policy.state, leaves: stateLeaves(policy.state), hash: policy.hash }, beacon, 0) });
    // Round r+1: bob lists alice's fabricated (useful) group; alice proves the use.
    const used = usedOf([rollouts.leaves[1]]);
    await commitIn(c, bob, round + 1n, { policyHash: policy.hash, usedLeaves: used.leaves });
    await swarmProveUse(alice, { coordinator: c.coordinator, round, index: 1, groupHash: groups[1].groupHash, user: a(bob), own: rollouts.path(1), used: used.path(rollouts.leaves[1]) });
    expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).totalUses).toBe(1n);

    const challenge = (by: MycelWalletClient, i: number, root: Hex, o: { group?: Partial<SwarmUsedGroup>; policyLeaves?: Hex[] } = {}) =>
      swarmChallengeRollout(by, { coordinator: c.coordinator, round, group: { author: a(alice), ...groups[i], ...o.group }, proof: rollouts.path(i), policyLeaves: o.policyLeaves ?? policy.leaves, root });
    // Refusals: the author's own root (the contract derives it: the fabricated run's), itself, a leaf not in its root, its policy of round r-1.
    await expectRevert(challenge(carol, 1, fake1.runRoot), 'SwarmChallengeRootMatches', [fake1.runRoot]);
    await expectRevert(challenge(alice, 1, honest1.run.runRoot), 'SwarmSelfChallenge', [a(alice)]);
    await expectRevert(challenge(carol, 1, honest1.run.runRoot, { group: { useful: false } }), 'SwarmUseProofInvalid', [0]);
    await expectRevert(challenge(carol, 1, honest1.run.runRoot, { policyLeaves: before1.leaves }), 'SwarmPolicyMismatch');

    // Dave wrongly contests the honest group 0 (with a liar's root) and loses: alice holds half his bond.
    const liar0 = await fabricatedRollout(honest0.honest, honest0.run.group);
    const wrong = await challenge(dave, 0, liar0.runRoot);
    const defended = await playRecordedDispute(c, wrong.disputeId, honest0.honest, { solver: honest0.run, challenger: liar0 }, { solver: alice, challenger: dave });
    expect(defended.ruling.loser).toBe('challenger');
    // Carol contests the fabricated group 1 with the honest run: the game refutes it at one instruction.
    const challenged = await challenge(carol, 1, honest1.run.runRoot);
    console.log(`swarm_challenge_rollout: ${challenged.gasUsed} gas`);
    await expectRevert(swarmCollectUse(alice, { coordinator: c.coordinator, round }), 'SwarmTooEarly');
    const played = await playRecordedDispute(c, challenged.disputeId, honest1.honest, { solver: fake1, challenger: honest1.run }, { solver: alice, challenger: carol });
    console.log(`rollout_dispute_total: ${played.gas} gas in ${played.rounds} rounds, ${played.transactions} transactions (${played.ruling.loser} loses at ${played.ruling.at}; fabricated: ${honest1.run.group.useful ? "rows" : "useful"})`);
    expect(played.ruling).toMatchObject({ loser: 'solver', at: 'instruction' });

    // The group is refuted: its use left the counts, no further use of it counts, the commit bond is lost.
    const entry = await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(alice) });
    expect(entry).toMatchObject({ uses: 0, commitBondLost: true, refuted: false });
    expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).totalUses).toBe(0n);
    const leaf = swarmRolloutLeaf(a(alice), groups[1]);
    await expectRevert(
      swarmProveUse(alice, { coordinator: c.coordinator, round, index: 1, groupHash: groups[1].groupHash, user: a(bob), own: rollouts.path(1), used: used.path(rollouts.leaves[1]) }),
      'SwarmGroupRefuted',
      [round, leaf],
    );

    // Payouts: alice's use share is nothing, her commit bond of round r is gone (her score claim stands).
    const next = await c.schedule(round + 1n);
    await c.mineTo(next.challengeEnd);
    expect((await swarmCollectUse(alice, { coordinator: c.coordinator, round })).paid).toBe(0n);
    // (Her score 0 is the round's whole score: no score share; her claim bond comes back.)
    expect((await swarmCollect(alice, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.claimBond);
    for (const [w, r] of [[alice, round - 1n], [bob, round], [bob, round + 1n]] as const) await swarmCollect(w, { coordinator: c.coordinator, round: r });
    const after = await Promise.all([alice, bob, carol, dave].map((w) => c.balance(a(w))));
    // Alice loses her commit bond of round r; carol gets back her bond, its prize and what the commit held (dave's half);
    // dave loses his bond; half of each lost bond is burned.
    expect(after.map((x, i) => x - before[i])).toEqual([-BOND, 0n, BOND, -BOND]);
    expect(supply - (await c.totalSupply())).toBe(BOND);
  }, 600_000);
});

