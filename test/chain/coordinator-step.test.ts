/**
 * The GRPO step behind a used root, on anvil with the real DisputeGame (docs/swarm-chain.md, "The GRPO step"):
 * SwarmPrograms computes a step's h_0 and run root exactly as src/swarm/grpo-step.ts does; a commit with used groups
 * needs the node's previous commit and at most the step's slots (named errors); a node that lists a colluder's group
 * it did not train on is challenged with the honest step, the dispute is played on chain to one instruction and lost,
 * the colluder's proven use is taken back and not paid, and tokens add up; the refusals of challengeStep.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Address, Hex } from 'viem';
import { readContract } from 'viem/actions';
import {
  swarmChallengeStep,
  swarmClaimScore,
  swarmCollect,
  swarmCollectUse,
  swarmGetEntry,
  swarmGetRound,
  swarmGrpoStepRun,
  swarmProveUse,
  type MycelWalletClient,
} from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { SwarmProgramsAbi } from '../../src/chain/generated/SwarmPrograms.js';
import { grpoStepRun, zeroGroupHash } from '../../src/swarm/grpo-step.js';
import { merkleProof, merkleRoot, stateHash } from '../../src/train/index.js';
import { hexToBytes } from 'viem';
import { expectRevert } from './mycel-fixture.js';
import { ECONOMICS, beaconOf, commitIn, hex, playRecordedDispute, rolloutsOf, setupSwarmChain, syntheticClaim, type SwarmChain } from './coordinator-fixture.js';
import { LAYOUT, groupOf, stepPolicy, stepRun, usedGroups } from './coordinator-step-fixture.js';

let c: SwarmChain;
let programs: Address;
let nodes: MycelWalletClient[];
const a = (w: MycelWalletClient) => w.account.address;
const bytes = (h: Hex) => hexToBytes(h);
const plain = (h: Hex) => h.slice(2).toLowerCase();

beforeAll(async () => {
  c = await setupSwarmChain({ nodes: 5 });
  nodes = c.wallets.slice(1, 6);
  programs = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'PROGRAMS' })) as Address;
}, 120_000);

afterAll(() => c?.stop());

describe('SwarmPrograms computes what grpo-step.ts does', () => {
  test('the policies\' hashes, the used root, h_0, h_1 and the run root of a step, for empty, partial and full slots', async () => {
    const prev = stepPolicy(1);
    const next = stepPolicy(2);
    const authors = nodes.map(a);
    const cases = [
      [],
      [{ author: authors[0], group: groupOf(1) }],
      Array.from({ length: LAYOUT.slots }, (_, i) => ({ author: authors[i % authors.length], group: groupOf(10 + i) })),
    ];
    for (const groups of cases) {
      const { used, leaves } = usedGroups(groups);
      const onChain = await swarmGrpoStepRun(c.publicClient, { programs, prevPolicyLeaves: prev.leaves, nextPolicyLeaves: next.leaves, used, layout: LAYOUT });
      const ts = grpoStepRun(prev.leaves.map(bytes), next.leaves.map(bytes), used.map((u) => plain(u.groupHash)), LAYOUT);
      expect(plain(onChain.prevHash)).toBe(stateHash(prev.state));
      expect(plain(onChain.nextHash)).toBe(stateHash(next.state));
      expect(onChain.usedRoot).toBe(leaves.length ? hex(merkleRoot(leaves.map(bytes))) : `0x${'00'.repeat(32)}`);
      expect(plain(onChain.h0)).toBe(ts.h0);
      expect(plain(onChain.runRoot)).toBe(ts.runRoot);
      const h1 = await readContract(c.publicClient, { address: programs, abi: SwarmProgramsAbi, functionName: 'stepState', args: [1n, next.leaves, used.map((u) => u.groupHash), LAYOUT] });
      expect(plain(h1)).toBe(ts.h1);
    }
    expect(plain(await readContract(c.publicClient, { address: programs, abi: SwarmProgramsAbi, functionName: 'zeroGroupHash', args: [LAYOUT] }))).toBe(zeroGroupHash(LAYOUT));
  });
});

describe('commits with used groups', () => {
  test('refused without the node\'s commit of the round before (SwarmNoPreviousCommit), and beyond the step\'s slots (SwarmTooManyUsed)', async () => {
    const [alice] = nodes;
    const { leaves } = usedGroups([{ author: a(nodes[1]), group: groupOf(3) }]);
    // Rounds 3 and 4 (the setup's blocks are past rounds 0-2).
    await expectRevert(commitIn(c, alice, 3n, { policyHash: stepPolicy(1).hash, usedLeaves: leaves }), 'SwarmNoPreviousCommit');
    const many = usedGroups(Array.from({ length: LAYOUT.slots + 1 }, (_, i) => ({ author: a(nodes[1]), group: groupOf(20 + i) })));
    await commitIn(c, alice, 3n, { policyHash: stepPolicy(1).hash });
    await expectRevert(commitIn(c, alice, 4n, { policyHash: stepPolicy(1).hash, usedLeaves: many.leaves }), 'SwarmTooManyUsed');
  });
});

describe('a fake use', () => {
  test('a node listing a colluder\'s group it did not train on loses the step dispute on chain; the colluder\'s use is taken back and not paid; tokens add up', async () => {
    const [alice, bob, carol] = nodes; // alice lists carol's group; bob checks alice's step
    const round = 5n; // the rollouts' round; alice's step is committed in round + 1; carol's policy of round - 1 generated her group
    const start = stepPolicy(4);
    const own = groupOf(41);
    const colluder = groupOf(42);
    const carolPolicy = stepPolicy(5);
    const carolRollouts = rolloutsOf(a(carol), [usedGroups([{ author: a(carol), group: colluder }]).used[0]]);
    const aliceRollouts = rolloutsOf(a(alice), [usedGroups([{ author: a(alice), group: own }]).used[0]]);
    const before = await Promise.all([alice, bob, carol].map((w) => c.balance(a(w))));
    const supply = await c.totalSupply();

    await commitIn(c, carol, round - 1n, { policyHash: carolPolicy.hash });
    await commitIn(c, alice, round, { policyHash: start.hash, rolloutsRoot: aliceRollouts.root });
    await commitIn(c, carol, round, { policyHash: carolPolicy.hash, rolloutsRoot: carolRollouts.root });
    const beacon = await beaconOf(c, round);
    const claim = syntheticClaim({ ...carolPolicy, model: carolPolicy.program.model, leaves: carolPolicy.leaves.map(bytes) }, beacon, 0);
    await swarmClaimScore(carol, { coordinator: c.coordinator, round, ...claim });

    // Alice's step trained on her own group only; she lists carol's too (slot 1, zeroed inside her step).
    const listed = [{ author: a(alice), group: own }, { author: a(carol), group: colluder }];
    const { used, leaves } = usedGroups(listed);
    const fake = await stepRun(start, listed.map((l) => l.group), [1]);
    const honest = await stepRun(start, listed.map((l) => l.group));
    expect(fake.nextHash).not.toBe(honest.nextHash);
    await commitIn(c, alice, round + 1n, { policyHash: fake.nextHash, usedLeaves: leaves });
    // Carol proves alice's "use" of her group.
    await swarmProveUse(carol, { coordinator: c.coordinator, round, index: used[1].index, groupHash: used[1].groupHash, user: a(alice), own: carolRollouts.path(0), used: usedPath(leaves, 1) });
    expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).totalUses).toBe(1n);

    const args = { coordinator: c.coordinator, round: round + 1n, node: a(alice), prevPolicyLeaves: start.leaves, nextPolicyLeaves: fake.nextLeaves, used };
    // Refusals: the node's own root, itself, other groups, another start policy.
    await expectRevert(swarmChallengeStep(bob, { ...args, root: fake.runRoot }), 'SwarmChallengeRootMatches');
    await expectRevert(swarmChallengeStep(alice, { ...args, root: honest.runRoot }), 'SwarmSelfChallenge');
    await expectRevert(swarmChallengeStep(bob, { ...args, root: honest.runRoot, used: used.slice(0, 1) }), 'SwarmUsedMismatch');
    await expectRevert(swarmChallengeStep(bob, { ...args, root: honest.runRoot, prevPolicyLeaves: carolPolicy.leaves }), 'SwarmPolicyMismatch');
    await expectRevert(swarmChallengeStep(bob, { ...args, node: a(carol), root: honest.runRoot }), 'SwarmNoStep');

    const challenged = await swarmChallengeStep(bob, { ...args, root: honest.runRoot });
    const played = await playRecordedDispute(c, challenged.disputeId, honest.honest, { solver: fake, challenger: honest }, { solver: alice, challenger: bob });
    expect(played.ruling.loser).toBe('solver');
    expect(played.ruling.at).toBe('instruction');
    const entry = await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round: round + 1n, node: a(alice) });
    expect(entry.stepRefuted).toBe(true);
    expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(carol) })).uses).toBe(0);
    expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).totalUses).toBe(0n);
    await expectRevert(swarmChallengeStep(bob, { ...args, root: honest.runRoot }), 'SwarmStepRefuted');
    await expectRevert(
      swarmProveUse(carol, { coordinator: c.coordinator, round, index: used[1].index, groupHash: used[1].groupHash, user: a(alice), own: carolRollouts.path(0), used: usedPath(leaves, 1) }),
      'SwarmStepRefuted',
    );

    // After round + 1's challenge window (= round's useEnd): everyone collects; carol's use share is 0.
    const s = await c.schedule(round + 1n);
    await c.mineTo(s.challengeEnd);
    await expectRevert(swarmChallengeStep(bob, { ...args, root: honest.runRoot }), 'SwarmStepRefuted');
    for (const w of [alice, carol]) await swarmCollect(w, { coordinator: c.coordinator, round });
    await swarmCollect(carol, { coordinator: c.coordinator, round: round - 1n });
    expect((await swarmCollectUse(carol, { coordinator: c.coordinator, round })).paid).toBe(0n);
    const aliceCollect = await swarmCollect(alice, { coordinator: c.coordinator, round: round + 1n });
    expect(aliceCollect.paid).toBe(0n); // its commit bond of round + 1 went with the refuted step

    const after = await Promise.all([alice, bob, carol].map((w) => c.balance(a(w))));
    const bond = ECONOMICS.commitBond;
    const scoreShare = (ECONOMICS.rewardPerRound * BigInt(10_000 - ECONOMICS.useShareBps)) / 10_000n;
    expect(after[0] - before[0]).toBe(-bond); // alice: round's bond back, round + 1's lost
    expect(after[1] - before[1]).toBe(bond / 2n); // bob: its bond back and half alice's
    // carol: bonds back; score 0 is the round's whole score, so no score share (0 of 0): nothing paid.
    expect(after[2] - before[2]).toBe(0n);
    expect(supply - (await c.totalSupply())).toBe(bond / 2n);
    expect(scoreShare).toBeGreaterThan(0n);
  }, 240_000);

  test('after the window a step cannot be challenged (SwarmStepChallengeClosed)', async () => {
    const [, bob, , dave] = nodes;
    const round = 12n; // test 3 mined to round 6's challengeEnd (round 11)
    const start = stepPolicy(8);
    const listed = [{ author: a(dave), group: groupOf(81) }];
    const { used, leaves } = usedGroups(listed);
    await commitIn(c, dave, round, { policyHash: start.hash });
    const run = await stepRun(start, listed.map((l) => l.group));
    await commitIn(c, dave, round + 1n, { policyHash: run.nextHash, usedLeaves: leaves });
    const s = await c.schedule(round + 1n);
    await c.mineTo(s.challengeEnd);
    await expectRevert(
      swarmChallengeStep(bob, { coordinator: c.coordinator, round: round + 1n, node: a(dave), root: `0x${'11'.repeat(32)}`, prevPolicyLeaves: start.leaves, nextPolicyLeaves: run.nextLeaves, used }),
      'SwarmStepChallengeClosed',
    );
  }, 120_000);
});

/** A used leaf's path in the user's used tree. */
function usedPath(leaves: readonly Hex[], i: number) {
  const b = leaves.map(bytes);
  return { index: BigInt(i), size: BigInt(leaves.length), path: merkleProof(b, i).map(hex) };
}
