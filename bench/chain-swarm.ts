// The swarm coordinator's rows of `npm run bench -- chain`: gas of each SwarmCoordinator action, each a real
// transaction on anvil with the real DisputeGame (test/chain/coordinator-fixture.ts: the tests' tiny policy, its real
// evaluation runs on the round's beacon), `{action: "swarm_<name>", gas}`; and a full score dispute played on chain
// (a node whose scoring op writes 16 right answers, against an honest challenger), `{action: "score_dispute_total",
// gas, rounds}` with its moves before it (`score_dispute_move`); and the data-availability challenge (a policy
// requested, published in calldata in batches, and a withheld one forfeited); and a GRPO step dispute (a node that
// lists a colluder's group it did not train on, challenged with the honest step), `swarm_challenge_step` and
// `{action: "step_dispute_total", gas, rounds}` with its moves (`step_dispute_move`).
import { keccak256, toHex as viemHex } from 'viem';
import { swarmChallengeRollout, swarmChallengeScore, swarmChallengeStep, swarmClaimScore, swarmCollect, swarmCollectUse, swarmFixBeacon, swarmForfeitUnavailable, swarmProveUse, swarmPublishPolicy, swarmRequestPolicy, swarmRolloutLeaf } from '../src/chain/index.js';
import { policyBatches, policyParts } from '../src/node/swarm-availability.js';
import { adversary, rulesOf } from '../src/verify/index.js';
import { EVAL_TENSORS } from '../src/swarm/eval-program.js';
import { MycelTokenAbi } from '../src/chain/generated/MycelToken.js';
import { read, send } from '../src/chain/actions/send.js';
import { SwarmCoordinatorAbi } from '../src/chain/generated/SwarmCoordinator.js';
import { LAYOUT, groupOf, stepPolicy, stepRun, usedGroups } from '../test/chain/coordinator-step-fixture.js';
import { ECONOMICS, beaconOf, commitIn, evalRun, playRecordedDispute, playScoreDispute, policyOf, rolloutGroup, rolloutHash, rolloutsOf, setupSwarmChain, syntheticClaim, usedOf, type Claim } from '../test/chain/coordinator-fixture.js';
import { fabricatedRollout, honestRollout, rolloutPolicy } from '../test/chain/coordinator-rollout-fixture.js';
import type { makeReporter } from './report.js';

/** A used leaf of some other contributor's rollout. */
const rolloutLeafOf = (i: number) => swarmRolloutLeaf(`0x${'0b'.repeat(20)}`, rolloutGroup(9, 2, i));

/**
 * A step dispute: Alice lists Carol's group beside her own, trains on hers only (the fake use), and Bob challenges her
 * step with the honest one; played on chain to one instruction.
 */
async function stepDispute(c: Awaited<ReturnType<typeof setupSwarmChain>>, report: ReturnType<typeof makeReporter>): Promise<void> {
  const [alice, bob, carol] = c.wallets.slice(1, 4);
  const round = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 1n;
  const start = stepPolicy(40);
  await commitIn(c, alice, round, { policyHash: start.hash });
  const listed = [{ author: alice.account.address, group: groupOf(1) }, { author: carol.account.address, group: groupOf(2) }];
  const { used, leaves } = usedGroups(listed);
  const fake = await stepRun(start, listed.map((l) => l.group), [1]);
  const honest = await stepRun(start, listed.map((l) => l.group));
  await commitIn(c, alice, round + 1n, { policyHash: fake.nextHash, usedLeaves: leaves });
  const challenged = await swarmChallengeStep(bob, {
    coordinator: c.coordinator, round: round + 1n, node: alice.account.address, root: honest.runRoot, prevPolicyLeaves: start.leaves, nextPolicyLeaves: fake.nextLeaves, used,
  });
  report({ action: 'swarm_challenge_step', gas: Number(challenged.gasUsed), used_groups: used.length, slots: LAYOUT.slots, policy_leaves: start.leaves.length });
  const played = await playRecordedDispute(c, challenged.disputeId, honest.honest, { solver: fake, challenger: honest }, { solver: alice, challenger: bob });
  for (const m of played.moves) report({ action: 'step_dispute_move', move: m.kind, by: m.by, level: m.level, gas: Number(m.gas) });
  const r = played.ruling;
  report({
    action: 'step_dispute_total', gas: Number(played.gas), rounds: played.rounds, transactions: played.transactions,
    ruling: `${r.loser} loses at ${r.at}: step ${r.t}, op ${r.op}, instruction ${r.instruction} (${r.opcode})`,
    with_challenge: Number(played.gas + challenged.gasUsed),
  });
}

/**
 * A rollout dispute: Alice commits a fabricated group (useful claimed on an all-equal group, or rows her policy did not
 * generate), Bob challenges it with the honest run of her question; the coordinator derives her run root from her
 * policy of the round before; played on chain to one instruction.
 */
async function rolloutDispute(c: Awaited<ReturnType<typeof setupSwarmChain>>, report: ReturnType<typeof makeReporter>): Promise<void> {
  const [alice, bob] = c.wallets.slice(1, 3);
  const round = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 2n;
  const policy = rolloutPolicy(41);
  const { honest, run } = await honestRollout(policy, alice.account.address, round, 0);
  const fake = await fabricatedRollout(honest, run.group);
  const rollouts = rolloutsOf(alice.account.address, [fake.group]);
  await commitIn(c, alice, round - 1n, { policyHash: policy.hash });
  await commitIn(c, alice, round, { policyHash: policy.hash, rolloutsRoot: rollouts.root });
  const challenged = await swarmChallengeRollout(bob, {
    coordinator: c.coordinator, round, group: { author: alice.account.address, ...fake.group }, proof: rollouts.path(0), policyLeaves: policy.leaves, root: run.runRoot,
  });
  report({ action: 'swarm_challenge_rollout', gas: Number(challenged.gasUsed), completions: honest.layout.completions, tokens: honest.layout.tokens, width: honest.layout.width, policy_leaves: policy.leaves.length });
  const played = await playRecordedDispute(c, challenged.disputeId, honest, { solver: fake, challenger: run }, { solver: alice, challenger: bob });
  const r = played.ruling;
  report({
    action: 'rollout_dispute_total', gas: Number(played.gas), rounds: played.rounds, transactions: played.transactions, fabricated: run.group.useful ? 'rows' : 'useful',
    ruling: `${r.loser} loses at ${r.at}: step ${r.t}, op ${r.op}, instruction ${r.instruction} (${r.opcode})`,
    with_challenge: Number(played.gas + challenged.gasUsed),
  });
}

export async function swarmOnChain(report: ReturnType<typeof makeReporter>): Promise<void> {
  const c = await setupSwarmChain({ nodes: 3 });
  try {
    report({ action: 'swarm_deploy', gas: Number(c.deployGas) });
    report({ action: 'swarm_deploy_programs', gas: Number(c.programsGas) });
    const [alice, bob, carol] = c.wallets.slice(1, 4);
    const challenger = c.wallets[7];
    await send(c.wallets[0], { address: c.token, abi: MycelTokenAbi, functionName: 'transfer', args: [challenger.account.address, ECONOMICS.claimBond] });
    await send(challenger, { address: c.token, abi: MycelTokenAbi, functionName: 'approve', args: [c.coordinator, ECONOMICS.claimBond] });
    const policies = [1, 2, 3].map(policyOf);
    // Alice's policy of round 1 generates her groups of round 2 (a group is paid only then).
    await commitIn(c, alice, 1n, { policyHash: policies[0].hash });
    const round = 2n;
    const s = await c.schedule(round);
    const rollouts = rolloutsOf(alice.account.address, [0, 1, 2, 3].map((i) => rolloutGroup(1, 2, i)));
    report({ action: 'swarm_commit', gas: Number((await commitIn(c, alice, round, { policyHash: policies[0].hash, rolloutsRoot: rollouts.root })).gasUsed) });
    await commitIn(c, bob, round, { policyHash: policies[1].hash });
    await commitIn(c, carol, round, { policyHash: policies[2].hash }); // a step of round + 1 starts from a committed policy
    await c.mineTo(s.deadline + 1n);
    const fixed = await swarmFixBeacon(carol, { coordinator: c.coordinator, round });
    report({ action: 'swarm_fix_beacon', gas: Number(fixed.gasUsed) });
    // Carol trains on two of Alice's rollouts in the next round.
    const used = usedOf([rollouts.leaves[1], rollouts.leaves[3]]);
    // The used leaves go into the commit: the coordinator computes their root and logs them.
    const withUsed = await commitIn(c, carol, round + 1n, { policyHash: policies[2].hash, usedLeaves: used.leaves });
    report({ action: 'swarm_commit_used', gas: Number(withUsed.gasUsed), used_leaves: used.leaves.length });
    const claim = (w: typeof alice, k: Claim) => swarmClaimScore(w, { coordinator: c.coordinator, round, runRoot: k.runRoot, scoreBits: k.scoreBits, policyLeaves: k.policyLeaves, proof: k.proof });
    const honest = await evalRun(policies[0], fixed.beacon!);
    report({ action: 'swarm_claim_score', gas: Number((await claim(alice, honest)).gasUsed), policy_leaves: honest.policyLeaves.length });
    const liar = await evalRun(policies[1], fixed.beacon!, (p) => {
      const K = p.spec.steps;
      const op = (rulesOf(p).structure(K).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.score}`)!.source as { index: number }).index;
      return adversary.tamperAt(p, K, (i, _op, _attrs, _inputs, out) => {
        if (i === op) (out.data as Float32Array)[0] = 16;
      });
    });
    await claim(bob, liar);
    const good = await evalRun(policies[1], fixed.beacon!);
    const challenged = await swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: bob.account.address, root: good.runRoot });
    report({ action: 'swarm_challenge_score', gas: Number(challenged.gasUsed) });
    const played = await playScoreDispute(c, challenged.disputeId, good.program, { solver: liar, challenger: good }, { solver: bob, challenger });
    for (const m of played.moves) report({ action: 'score_dispute_move', move: m.kind, by: m.by, level: m.level, gas: Number(m.gas) });
    const r = played.ruling;
    report({
      action: 'score_dispute_total', gas: Number(played.gas), rounds: played.rounds, transactions: played.transactions,
      ruling: `${r.loser} loses at ${r.at}: step ${r.t}, op ${r.op}, instruction ${r.instruction} (${r.opcode})`,
      with_challenge: Number(played.gas + challenged.gasUsed),
    });
    // Carol (a registered node) asks for Alice's policy; Alice publishes it, in batches of at most 64 KiB of tensor data.
    const asked = await swarmRequestPolicy(carol, { coordinator: c.coordinator, round, node: alice.account.address });
    report({ action: 'swarm_request_policy', gas: Number(asked.gasUsed) });
    const parts = policyParts(policies[0].state);
    const batches = policyBatches(parts);
    let publishGas = 0n;
    for (const b of batches) publishGas += (await swarmPublishPolicy(alice, { coordinator: c.coordinator, round, parts: b })).gasUsed;
    const policyBytes = parts.reduce((sum, p) => sum + (p.data.length - 2) / 2, 0);
    report({ action: 'swarm_publish_policy', gas: Number(publishGas), transactions: batches.length, policy_leaves: parts.length, policy_bytes: policyBytes, gas_per_byte: Math.round((Number(publishGas) / policyBytes) * 10) / 10 });
    const proved = await swarmProveUse(alice, { coordinator: c.coordinator, round, index: 1, groupHash: rolloutHash(1, 2, 1), user: carol.account.address, own: rollouts.path(1), used: used.path(rollouts.leaves[1]) });
    report({ action: 'swarm_prove_use', gas: Number(proved.gasUsed) });
    await c.mineTo(s.useEnd);
    report({ action: 'swarm_collect', gas: Number((await swarmCollect(alice, { coordinator: c.coordinator, round })).gasUsed) });
    report({ action: 'swarm_collect_use', gas: Number((await swarmCollectUse(alice, { coordinator: c.coordinator, round })).gasUsed) });
    // A withheld policy: Bob claims in a later round, Carol asks for his policy, he does not publish, anyone ends the claim.
    const dark = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 1n;
    await commitIn(c, bob, dark, { policyHash: policies[1].hash });
    const darkBeacon = await beaconOf(c, dark);
    const k = syntheticClaim(policies[1], darkBeacon, 3);
    await swarmClaimScore(bob, { coordinator: c.coordinator, round: dark, runRoot: k.runRoot, scoreBits: k.scoreBits, policyLeaves: k.policyLeaves, proof: k.proof });
    const darkAsked = await swarmRequestPolicy(carol, { coordinator: c.coordinator, round: dark, node: bob.account.address });
    await c.mineTo(darkAsked.deadline);
    report({ action: 'swarm_forfeit_unavailable', gas: Number((await swarmForfeitUnavailable(challenger, { coordinator: c.coordinator, round: dark, node: bob.account.address })).gasUsed) });
    // A void round: nobody fixed the beacon within 256 blocks.
    const voidRound = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 2n;
    const late = await c.schedule(voidRound);
    for (const w of [bob, carol]) await commitIn(c, w, voidRound - 1n, { policyHash: policies[1].hash });
    await commitIn(c, alice, voidRound, { policyHash: policies[0].hash, rolloutsRoot: keccak256(viemHex('late')) });
    // What each used leaf costs a commit: two commits alike but for their used leaves (2 and the step's 8 slots; neither the round's first).
    const few = (await commitIn(c, bob, voidRound, { policyHash: policies[1].hash, usedLeaves: [0, 1].map(rolloutLeafOf) })).gasUsed;
    const many = Array.from({ length: LAYOUT.slots }, (_, i) => rolloutLeafOf(i));
    const manyGas = (await commitIn(c, carol, voidRound, { policyHash: policies[2].hash, usedLeaves: many })).gasUsed;
    report({ action: 'swarm_commit_used', gas: Number(manyGas), used_leaves: many.length, gas_per_used_leaf: Math.round(Number(manyGas - few) / (many.length - 2)) });
    await c.mineTo(late.deadline + 257n);
    report({ action: 'swarm_fix_beacon_void', gas: Number((await swarmFixBeacon(carol, { coordinator: c.coordinator, round: voidRound })).gasUsed) });
    await stepDispute(c, report);
    await rolloutDispute(c, report);
  } finally {
    await c.stop();
  }
}
