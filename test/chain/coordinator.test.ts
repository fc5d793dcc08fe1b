/**
 * SwarmCoordinator on anvil with the real DisputeGame: the round clock, commitments (late, double, unregistered:
 * named errors), the beacon and the stalled clock (a void round returns every bond), score claims (without a
 * commitment, a proof that does not verify: named errors; an honest claim computed from a real evaluation run),
 * challenges played on chain to the game's ruling (an inflated score loses; an honest node beats a wrong challenger
 * and keeps its bond; a node that never answers loses by the game's timeout), use rewards (another node's rollouts
 * claimed as one's own are refused) and payouts; and the ABI has no admin function.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Address, type Hex } from 'viem';
import { readContract } from 'viem/actions';
import { send } from '../../src/chain/actions/send.js';
import { checkCoordinator, ContractCodeMismatchError, ContractWiringError } from '../../src/chain/code.js';
import {
  swarmAvailabilityAddress,
  swarmChallengeScore,
  swarmClaimScore,
  swarmCollect,
  swarmCollectUse,
  swarmCommit,
  swarmFixBeacon,
  swarmGetEntry,
  swarmGetRound,
  swarmProveUse,
  swarmUsedLeaves,
  type MycelWalletClient,
} from '../../src/chain/index.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { SwarmAvailabilityAbi } from '../../src/chain/generated/SwarmAvailability.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { adversary, rulesOf } from '../../src/verify/index.js';
import { EVAL_TENSORS, evalH0 } from '../../src/swarm/eval-program.js';
import { rolloutTree } from '../../src/node/swarm-chain.js';
import { expectRevert } from './mycel-fixture.js';
import {
  ECONOMICS,
  MODEL_CONFIG,
  ZERO,
  beaconOf,
  commitIn,
  evalRun,
  playScoreDispute,
  policyOf,
  programFacts,
  rolloutGroup,
  rolloutHash,
  rolloutsOf,
  setupSwarmChain,
  syntheticClaim,
  usedOf,
  type Policy,
  type SwarmChain,
} from './coordinator-fixture.js';

let c: SwarmChain;
let nodes: MycelWalletClient[];
let policies: Policy[];
const a = (w: MycelWalletClient) => w.account.address;
const BOND = ECONOMICS.claimBond;
const HALF = BOND / 2n;

beforeAll(async () => {
  c = await setupSwarmChain();
  nodes = c.wallets.slice(1, 7);
  policies = nodes.map((_, i) => policyOf(i + 1));
}, 120_000);
afterAll(() => c?.stop());

/** A round whose commit window is still ahead. */
const nextRound = async () => (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 1n;
const entry = (round: bigint, w: MycelWalletClient) => swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(w) });
const claim = (w: MycelWalletClient, round: bigint, k: Awaited<ReturnType<typeof evalRun>> | ReturnType<typeof syntheticClaim>) =>
  swarmClaimScore(w, { coordinator: c.coordinator, round, runRoot: k.runRoot, scoreBits: k.scoreBits, policyLeaves: k.policyLeaves, proof: k.proof });

test('no owner, no admin function: the ABIs write only the round actions, the game callback and the SwarmAvailability\'s callbacks', () => {
  const writes = (abi: typeof SwarmCoordinatorAbi | typeof SwarmAvailabilityAbi) =>
    abi.filter((x) => x.type === 'function' && !['view', 'pure'].includes(x.stateMutability as string)).map((x) => (x as { name: string }).name).sort();
  expect(writes(SwarmCoordinatorAbi)).toEqual(['challengeRollout', 'challengeScore', 'challengeStep', 'claimScore', 'collect', 'collectUse', 'commit', 'fixBeacon', 'forfeitClaim', 'holdRequestBond', 'payRequestBond', 'proveUse', 'resolveDispute']);
  expect(writes(SwarmAvailabilityAbi)).toEqual(['forfeitUnavailable', 'publishPolicy', 'requestPolicy']);
  for (const abi of [SwarmCoordinatorAbi, SwarmAvailabilityAbi]) {
    const names = abi.filter((x) => x.type === 'function').map((x) => (x as { name: string }).name.toLowerCase());
    for (const bad of ['owner', 'transferownership', 'setgame', 'setprogram', 'withdraw', 'rescue', 'sweep', 'pause', 'upgradeto', 'advance']) expect(names).not.toContain(bad);
  }
});

test('a node checks the coordinator\'s code and wiring before it commits: this build\'s contract on the deployment\'s token, registry and game', async () => {
  const d = { coordinator: c.coordinator, token: c.token, registry: c.registry, disputeGame: c.game };
  await checkCoordinator(c.publicClient, d);
  await expect(checkCoordinator(c.publicClient, { ...d, coordinator: c.game })).rejects.toBeInstanceOf(ContractCodeMismatchError);
  await expect(checkCoordinator(c.publicClient, { ...d, token: c.registry })).rejects.toBeInstanceOf(ContractWiringError);
  // Its SwarmAvailability is checked too: the coordinator's AVAILABILITY, at the address its constructor created.
  expect(await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'AVAILABILITY' })).toBe(swarmAvailabilityAddress(c.coordinator));
});

describe('clock, commit and beacon', () => {
  test('commits only in the round\'s window, once, by registered nodes, for an admitted model; the beacon only after the deadline', async () => {
    const round = await nextRound();
    const s = await c.schedule(round);
    expect([s.deadline - s.opens, s.claimEnd - s.deadline, s.challengeEnd - s.claimEnd, s.useEnd - s.challengeEnd]).toEqual([10n, 20n, 20n, 10n]);
    const commit = (w: MycelWalletClient, o: { modelConfig?: Hex } = {}) =>
      swarmCommit(w, { coordinator: c.coordinator, round, rolloutsRoot: `0x${'11'.repeat(32)}`, policyHash: policies[0].hash, usedLeaves: [], modelConfig: o.modelConfig ?? MODEL_CONFIG });
    // Early: the block is before the round's window.
    await expectRevert(commit(nodes[0]), 'SwarmCommitClosed', [round, await c.block(), s.opens, s.deadline]);
    await c.mineTo(s.opens);
    const before = await c.balance(a(nodes[0]));
    await commit(nodes[0]);
    expect(await c.balance(a(nodes[0]))).toBe(before - ECONOMICS.commitBond);
    await expectRevert(commit(nodes[0]), 'SwarmAlreadyCommitted', [round, a(nodes[0])]);
    await expectRevert(commit(c.wallets[8]), 'SwarmNotRegistered', [a(c.wallets[8])]);
    await expectRevert(commit(nodes[1], { modelConfig: `0x${'ab'.repeat(32)}` }), 'SwarmModelUnknown', [`0x${'ab'.repeat(32)}`]);
    await expectRevert(swarmFixBeacon(nodes[1], { coordinator: c.coordinator, round }), 'SwarmBeaconTooEarly');
    await c.mineTo(s.deadline);
    // Late: the deadline block is the first after the window, and the beacon's block.
    await expectRevert(commit(nodes[1]), 'SwarmCommitClosed', [round, s.deadline, s.opens, s.deadline]);
    await expectRevert(swarmFixBeacon(nodes[5], { coordinator: c.coordinator, round }), 'SwarmBeaconTooEarly', [round, s.deadline, s.deadline]);
    await c.mineTo(s.deadline + 1n);
    const fixed = await swarmFixBeacon(nodes[5], { coordinator: c.coordinator, round });
    expect(fixed.beacon).toBe((await c.publicClient.getBlock({ blockNumber: s.deadline })).hash);
    await expectRevert(swarmFixBeacon(nodes[5], { coordinator: c.coordinator, round }), 'SwarmBeaconAlreadyFixed', [round]);
  });

  test('a stalled clock: nobody fixes the beacon within 256 blocks, the round is void, no claim, every bond comes back', async () => {
    const round = await nextRound();
    const s = await c.schedule(round);
    await commitIn(c, nodes[0], round, { policyHash: policies[0].hash });
    await commitIn(c, nodes[1], round, { policyHash: policies[1].hash });
    await c.mineTo(s.deadline + 258n);
    const k = syntheticClaim(policies[0], `0x${'01'.repeat(32)}`, 1);
    await expectRevert(claim(nodes[0], round, k), 'SwarmBeaconUnfixed', [round]);
    const voided = await swarmFixBeacon(nodes[4], { coordinator: c.coordinator, round });
    expect(voided.voided).toBe(true);
    expect((await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round })).void).toBe(true);
    await expectRevert(claim(nodes[0], round, k), 'SwarmRoundVoid', [round]);
    await expectRevert(swarmFixBeacon(nodes[4], { coordinator: c.coordinator, round }), 'SwarmRoundVoid', [round]);
    for (const w of nodes.slice(0, 2)) {
      const before = await c.balance(a(w));
      expect((await swarmCollect(w, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond);
      expect(await c.balance(a(w))).toBe(before + ECONOMICS.commitBond);
    }
  });
});

describe('score claims and their disputes', () => {
  let round: bigint;
  let beacon: Hex;

  beforeAll(async () => {
    round = await nextRound();
    for (const [i, w] of nodes.slice(0, 4).entries()) await commitIn(c, w, round, { policyHash: policies[i].hash });
  }, 60_000);

  test('a claim is refused before the beacon, without a commitment, with another policy, with a path that does not verify, with a score that is not a count', async () => {
    const early = syntheticClaim(policies[0], `0x${'01'.repeat(32)}`, 1);
    await expectRevert(claim(nodes[0], round, early), 'SwarmBeaconUnfixed', [round]);
    beacon = await beaconOf(c, round);
    const k = await evalRun(policies[0], beacon);
    expect(k.score).toBe(new Float32Array(new Uint32Array([k.scoreBits]).buffer)[0]);
    await expectRevert(claim(nodes[4], round, k), 'SwarmNoCommitment', [round, a(nodes[4])]);
    await expectRevert(claim(nodes[0], round, { ...k, policyLeaves: policies[1].leaves.map((l) => `0x${Buffer.from(l).toString('hex')}` as Hex) }), 'SwarmPolicyMismatch', [round, a(nodes[0]), policies[1].hash, policies[0].hash]);
    await expectRevert(claim(nodes[0], round, { ...k, proof: { ...k.proof, hKPath: [ZERO, ...k.proof.hKPath.slice(1)] } }), 'SwarmProofInvalid');
    // Another score than the run's: its leaf does not open in h_K.
    await expectRevert(claim(nodes[0], round, { ...k, scoreBits: new Uint32Array(new Float32Array([k.score + 1]).buffer)[0] }), 'SwarmProofInvalid');
    await expectRevert(claim(nodes[0], round, { ...k, policyLeaves: k.policyLeaves.slice(0, -1) }), 'SwarmPolicyLayout', [BigInt(k.policyLeaves.length - 1), BigInt(k.policyLeaves.length)]);
    await expectRevert(claim(nodes[0], round, { ...k, scoreBits: 0x3fc00000 }), 'SwarmScoreInvalid', [0x3fc00000]);
    await expectRevert(claim(nodes[0], round, { ...k, scoreBits: 0xbf800000 }), 'SwarmScoreInvalid', [0xbf800000]);
  }, 60_000);

  let runs: Awaited<ReturnType<typeof evalRun>>[];
  let liar: Awaited<ReturnType<typeof evalRun>>;

  test('an honest claim is taken with its bond; h_0 is the one the contract computes from the beacon and the policy', async () => {
    runs = [];
    for (const p of policies.slice(0, 4)) runs.push(await evalRun(p, beacon));
    const before = await c.balance(a(nodes[0]));
    await claim(nodes[0], round, runs[0]);
    expect(await c.balance(a(nodes[0]))).toBe(before - BOND);
    const e = await entry(round, nodes[0]);
    expect(e).toMatchObject({ claimed: true, refuted: false, runRoot: runs[0].runRoot, score: runs[0].score });
    expect(e.h0).toBe(`0x${evalH0(Buffer.from(beacon.slice(2), 'hex'), policies[0].leaves).h0}`);
    await expectRevert(claim(nodes[0], round, runs[0]), 'SwarmAlreadyClaimed', [round, a(nodes[0])]);
    // Node 1 inflates its score: its scoring op writes 16 right answers, whatever the rows hold.
    liar = await evalRun(policies[1], beacon, (honest) => {
      const K = honest.spec.steps;
      const op = (rulesOf(honest).structure(K).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.score}`)!.source as { index: number }).index;
      return adversary.tamperAt(honest, K, (i, _op, _attrs, _inputs, out) => {
        if (i === op) (out.data as Float32Array)[0] = 16;
      });
    });
    expect(liar.score).toBe(16);
    expect(runs[1].score).not.toBe(16);
    await claim(nodes[1], round, liar);
    await claim(nodes[2], round, runs[2]);
    await claim(nodes[3], round, runs[3]);
  }, 60_000);

  test('disputes played on chain: an inflated score loses and is never paid; an honest node beats a wrong challenger; a node that never answers loses by the game\'s timeout', async () => {
    const [challenger, wrongChallenger] = [c.wallets[7], c.wallets[8]];
    // Challengers need no registration: funds and an allowance.
    for (const [w, amount] of [[challenger, 2n * BOND], [wrongChallenger, BOND]] as const) {
      await send(c.wallets[0], { address: c.token, abi: MycelTokenAbi, functionName: 'transfer', args: [a(w), amount] });
      await send(w, { address: c.token, abi: MycelTokenAbi, functionName: 'approve', args: [c.coordinator, amount] });
    }
    const supply0 = await c.totalSupply();
    const before = await c.balance(a(challenger));
    await expectRevert(swarmChallengeScore(nodes[1], { coordinator: c.coordinator, round, node: a(nodes[1]), root: runs[1].runRoot }), 'SwarmSelfChallenge', [a(nodes[1])]);
    await expectRevert(swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: a(nodes[1]), root: liar.runRoot }), 'SwarmChallengeRootMatches', [liar.runRoot]);
    await expectRevert(swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: a(nodes[4]), root: liar.runRoot }), 'SwarmNoClaim', [round, a(nodes[4])]);
    // The wrong challenger's run forges row 0's first generated token of node 2's evaluation.
    const wrong = await evalRun(policies[2], beacon, (honest) => {
      const op = (rulesOf(honest).structure(1).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.tokens}`)!.source as { index: number }).index;
      const at = (honest.init().opt.tensors[EVAL_TENSORS.at].data as Int32Array)[1];
      return adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
        if (i === op) (out.data as Int32Array)[at] ^= 1;
      });
    });
    expect(wrong.runRoot).not.toBe(runs[2].runRoot);
    // All three open while the window is; each is its own game.
    const inflated = await swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: a(nodes[1]), root: runs[1].runRoot });
    const honestOne = await swarmChallengeScore(wrongChallenger, { coordinator: c.coordinator, round, node: a(nodes[2]), root: wrong.runRoot });
    const silent = await swarmChallengeScore(challenger, { coordinator: c.coordinator, round, node: a(nodes[3]), root: `0x${'5a'.repeat(32)}` });
    expect(await c.balance(a(challenger))).toBe(before - 2n * BOND);

    const played = await playScoreDispute(c, inflated.disputeId, runs[1].program, { solver: liar, challenger: runs[1] }, { solver: nodes[1], challenger });
    expect(played.facts.root).toBe(programFacts().root);
    expect(played.ruling.loser).toBe('solver');
    console.log(`score dispute on chain: ${played.gas} gas in ${played.rounds} rounds, ${played.transactions} transactions, ruled at ${played.ruling.at}`);
    expect(played.gas).toBeLessThan(2_000_000n);
    expect(await entry(round, nodes[1])).toMatchObject({ refuted: true, openDisputes: 0 });
    await expectRevert(swarmChallengeScore(c.wallets[9], { coordinator: c.coordinator, round, node: a(nodes[1]), root: runs[1].runRoot }), 'SwarmClaimRefuted', [round, a(nodes[1])]);

    const beaten = await playScoreDispute(c, honestOne.disputeId, runs[2].program, { solver: runs[2], challenger: wrong }, { solver: nodes[2], challenger: wrongChallenger });
    expect(beaten.ruling.loser).toBe('challenger');
    expect(await entry(round, nodes[2])).toMatchObject({ refuted: false, held: HALF });
    expect(await c.balance(a(wrongChallenger))).toBe(0n);

    // Node 3 never moves. Collect waits for its dispute; the timeout needs its clock to have run out.
    const s = await c.schedule(round);
    await c.mineTo(s.challengeEnd);
    await expectRevert(swarmCollect(nodes[0], { coordinator: c.coordinator, round }), 'SwarmDisputesOpen', [round, 1n]);
    const deadline = (await readContract(c.publicClient, { address: c.game, abi: DisputeGameAbi, functionName: 'getDispute', args: [silent.disputeId] })).deadline;
    if ((await c.block()) + 1n <= BigInt(deadline)) {
      await expectRevert(send(c.wallets[9], { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [silent.disputeId] }), 'DisputeDeadlineNotPassed');
      await c.mineTo(BigInt(deadline) + 1n);
    }
    await send(c.wallets[9], { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [silent.disputeId] });
    expect(await entry(round, nodes[3])).toMatchObject({ refuted: true });
    // The challenger won twice: its bonds back and two unburned halves; two halves (and the loser's) were burned.
    expect(await c.balance(a(challenger))).toBe(before + 2n * HALF);
    expect(await c.totalSupply()).toBe(supply0 - 3n * HALF);
  }, 180_000);

  test('after the window: standing claims get their bonds (and held prizes) back and the score share; refuted ones only the commit bond', async () => {
    const r = await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round });
    const standing = [nodes[0], nodes[2]];
    const scores = await Promise.all(standing.map(async (w) => (await entry(round, w)).score));
    expect(r.totalScore).toBe(BigInt(scores[0] + scores[1]));
    const share = ECONOMICS.rewardPerRound - (ECONOMICS.rewardPerRound * BigInt(ECONOMICS.useShareBps)) / 10_000n;
    for (const [i, w] of standing.entries()) {
      const e = await entry(round, w);
      const reward = r.totalScore === 0n ? 0n : (share * BigInt(scores[i])) / r.totalScore;
      expect((await swarmCollect(w, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond + BOND + e.held + reward);
    }
    for (const w of [nodes[1], nodes[3]]) expect((await swarmCollect(w, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond);
    await expectRevert(swarmCollect(nodes[0], { coordinator: c.coordinator, round }), 'SwarmAlreadyCollected', [round, a(nodes[0])]);
  });
});

describe('late claims and verified use', () => {
  test('the used root is computed on chain from the used leaves (RFC 6962, as rolloutTree) and the leaves are logged in Committed', async () => {
    // A commit with used leaves needs the node's commit of the round before (its step's start).
    const before = await nextRound();
    const sizes = [0, 1, 2, 3, 5, 7];
    for (const k of sizes.keys()) await commitIn(c, nodes[k], before, { policyHash: policies[k].hash });
    const round = before + 1n;
    const leafSets = sizes.map((n, k) => Array.from({ length: n }, (_, i) => rolloutsOf(a(nodes[(k + 1) % nodes.length]), [rolloutGroup(k, Number(round), i)]).leaves[0]));
    for (const [k, leaves] of leafSets.entries()) await commitIn(c, nodes[k], round, { policyHash: policies[k].hash, usedLeaves: leaves });
    const s = await c.schedule(round);
    const logged = await swarmUsedLeaves(c.publicClient, { coordinator: c.coordinator, round, fromBlock: s.opens, toBlock: await c.block() });
    expect(logged.map((l) => l.user)).toEqual(nodes.slice(0, sizes.length).map(a));
    for (const [k, leaves] of leafSets.entries()) {
      const root = rolloutTree(leaves).root;
      expect((await entry(round, nodes[k])).usedRoot, `${leaves.length} leaves`).toBe(root);
      expect(logged[k]).toEqual({ user: a(nodes[k]), usedRoot: root, leaves });
    }
  });

  test('a late claim is refused; a use is proven by the contributor\'s own leaf in another node\'s usedRoot; another node\'s rollouts claimed as one\'s own are refused; shares are paid', async () => {
    const round = await nextRound();
    const [alice, bob, carol, dave] = nodes;
    // Alice's group 3 has equal rewards (not useful): its use is never paid.
    const aliceGroups = [0, 1, 2, 3].map((i) => rolloutGroup(1, Number(round), i, i !== 3));
    const aliceRollouts = rolloutsOf(a(alice), aliceGroups);
    // Carol copies Alice's rollouts into her own root: leaves naming Carol, over Alice's groups.
    const carolCopy = rolloutsOf(a(carol), aliceGroups);
    await commitIn(c, alice, round, { policyHash: policies[0].hash, rolloutsRoot: aliceRollouts.root });
    await commitIn(c, carol, round, { policyHash: policies[2].hash, rolloutsRoot: carolCopy.root });
    await commitIn(c, dave, round, { policyHash: policies[3].hash });
    await commitIn(c, bob, round, { policyHash: policies[1].hash }); // his step of the next round starts here
    const beacon = await beaconOf(c, round);
    // Synthetic runs (claimScore checks h_0's inputs and the openings; nobody challenges these).
    await claim(alice, round, syntheticClaim(policies[0], beacon, 3));
    await claim(carol, round, syntheticClaim(policies[2], beacon, 1));
    // Next round: Bob trained on Alice's rollouts 0 and 2 (and so committed them as used).
    const next = round + 1n;
    const used = usedOf([aliceRollouts.leaves[0], aliceRollouts.leaves[2], aliceRollouts.leaves[3]]);
    await commitIn(c, bob, next, { policyHash: policies[1].hash, usedLeaves: used.leaves });
    const s = await c.schedule(round);
    expect(await c.block()).toBeLessThan(s.claimEnd);
    await c.mineTo(s.claimEnd);
    await expectRevert(claim(dave, round, syntheticClaim(policies[3], beacon, 2)), 'SwarmClaimClosed', [round, s.claimEnd, s.claimEnd]);
    const prove = (w: MycelWalletClient, i: number, user: Address, own: ReturnType<typeof aliceRollouts.path>, usedPath: ReturnType<typeof used.path>) =>
      swarmProveUse(w, { coordinator: c.coordinator, round, index: i, groupHash: rolloutHash(1, Number(round), i), user, own, used: usedPath });
    // Carol's copy: her leaf names her, so it is not the leaf Bob's usedRoot holds.
    await expectRevert(prove(carol, 0, a(bob), carolCopy.path(0), used.path(aliceRollouts.leaves[0])), 'SwarmUseProofInvalid', [1]);
    // Nor can she send Alice's path: the leaf is computed with the sender's address.
    await expectRevert(prove(carol, 0, a(bob), aliceRollouts.path(0), used.path(aliceRollouts.leaves[0])), 'SwarmUseProofInvalid', [0]);
    await expectRevert(prove(alice, 0, a(alice), aliceRollouts.path(0), used.path(aliceRollouts.leaves[0])), 'SwarmUserInvalid', [round, a(alice)]);
    await expectRevert(prove(alice, 0, a(dave), aliceRollouts.path(0), used.path(aliceRollouts.leaves[0])), 'SwarmUserInvalid', [round, a(dave)]);
    // Rollout 1 was not used by Bob: no path opens it in his usedRoot.
    await expectRevert(prove(alice, 1, a(bob), aliceRollouts.path(1), used.path(aliceRollouts.leaves[0])), 'SwarmUseProofInvalid', [1]);
    // Group 3 is in both roots, but its leaf says not useful: the proof's leaf (useful) is in neither.
    await expectRevert(prove(alice, 3, a(bob), aliceRollouts.path(3), used.path(aliceRollouts.leaves[3])), 'SwarmUseProofInvalid', [0]);
    await prove(alice, 0, a(bob), aliceRollouts.path(0), used.path(aliceRollouts.leaves[0]));
    await prove(alice, 2, a(bob), aliceRollouts.path(2), used.path(aliceRollouts.leaves[2]));
    await expectRevert(prove(alice, 2, a(bob), aliceRollouts.path(2), used.path(aliceRollouts.leaves[2])), 'SwarmUseAlreadyProven');
    expect((await entry(round, alice)).uses).toBe(2);
    await expectRevert(swarmCollectUse(alice, { coordinator: c.coordinator, round }), 'SwarmTooEarly', [round, await c.block(), s.useEnd]);
    await c.mineTo(s.useEnd);
    await expectRevert(prove(alice, 1, a(bob), aliceRollouts.path(1), used.path(aliceRollouts.leaves[0])), 'SwarmUseClosed', [round, s.useEnd, s.useEnd]);
    const usePart = (ECONOMICS.rewardPerRound * BigInt(ECONOMICS.useShareBps)) / 10_000n;
    expect((await swarmCollectUse(alice, { coordinator: c.coordinator, round })).paid).toBe(usePart);
    expect((await swarmCollectUse(carol, { coordinator: c.coordinator, round })).paid).toBe(0n);
    await expectRevert(swarmCollectUse(dave, { coordinator: c.coordinator, round }), 'SwarmNotEligible', [round, a(dave)]);
    // Score share 3 : 1 of the round's score part; Dave (no claim) only his commit bond.
    const share = ECONOMICS.rewardPerRound - usePart;
    expect((await swarmCollect(alice, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond + BOND + (share * 3n) / 4n);
    expect((await swarmCollect(carol, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond + BOND + share / 4n);
    expect((await swarmCollect(dave, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond);
  }, 60_000);
});
