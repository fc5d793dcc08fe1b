/**
 * The coordinator against generated adversaries (fast-check), on anvil: each case is a round of nodes that each
 * commit and claim honestly, inflate their score, stay silent, commit late or twice, claim without a commitment, or
 * copy another node's rollouts and claim their use; an honest challenger contests every inflated claim and a wrong
 * one contests honest claims at random and some inflated ones too (the referee then matches neither: "both" lose);
 * sometimes nobody fixes the beacon. Data availability (docs/swarm-chain.md): a withholder inflates its claim and
 * keeps its policy to itself; a registered node asks for its policy and for other claimers' at random (a claimer with
 * no claim is refused: SwarmNoClaim); honest nodes and inflaters publish theirs (taking the request's bond), the
 * withholder does not and anyone ends its claim after the deadline (refuted: half its bond to the asker). The game is MockResolver ruling for the
 * party that told the truth (the real game's rulings are test/chain/coordinator.test.ts's and the game's own tests'):
 * what is checked here is the coordinator's bookkeeping. GRPO steps (docs/swarm-chain.md, "The GRPO step"): the
 * next round's user is a fake user at random (its step did not train on the groups it lists, so its colluders' uses
 * are fake): the honest challenger contests its step, the wrong one contests honest steps at random and fake ones too
 * ("both" lose). Rollout groups (docs/swarm-chain.md, "The rollout program"): a group is its author's committed
 * policy's output, payable when useful; a fabricator's group is not its policy's
 * output: the honest challenger contests it with challengeRollout and wins (its uses leave the count, its commit bond
 * goes), the wrong one contests honest groups at random and loses. Properties: an honest node never ends with less than it started with; a cheat is never paid a
 * reward (a fake user's contributors are paid no use share, the fake user loses its commit bond; a fabricator is paid
 * no use share and loses its commit bond); every refused action is refused with its named error and moves
 * nothing; tokens add up (what everyone gained plus what was burned equals what left the pool), and once everyone
 * collected the coordinator holds only the unpaid pool.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseEventLogs, zeroAddress as ZERO_ADDRESS, type Address, type Hex, type Log } from 'viem';
import { read, send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { swarmChallengeRollout, swarmChallengeScore, swarmChallengeStep, swarmClaimScore, swarmCollect, swarmCollectUse, swarmCommit, swarmFixBeacon, swarmForfeitUnavailable, swarmProveUse, swarmPublishPolicy, swarmRequestPolicy } from '../../src/chain/index.js';
import { policyBatches, policyParts } from '../../src/node/swarm-availability.js';
import { MockResolverAbi } from '../../src/chain/generated/MockResolver.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { expectRevert } from './mycel-fixture.js';
import { ECONOMICS, MODEL_CONFIG, ZERO, commitIn, hex, policyOf, rolloutGroup, rolloutHash, rolloutsOf, setupSwarmChain, syntheticClaim, usedOf, type Policy, type SwarmChain } from './coordinator-fixture.js';

const RUNS = process.env.MYCEL_LONG ? 60 : 6;
const BEHAVIOURS = ['honest', 'inflate', 'silent', 'late', 'double', 'claim-uncommitted', 'copy', 'withhold', 'fabricate'] as const;
type Behaviour = (typeof BEHAVIOURS)[number];
type Case = { nodes: { behaviour: Behaviour; score: number; wronglyChallenged: boolean; requested: boolean; groupWronglyChallenged: boolean }[]; fixBeacon: boolean; usedBy: number; fakeUser: boolean; stepWronglyChallenged: boolean };
/** The node that asks for policies (registered: wallet 6; the case's nodes are wallets 1-5). */
const ASKER = 6;

let c: SwarmChain;
let policies: Policy[];
let snapshot: Hex;
const a = (w: MycelWalletClient) => w.account.address;

beforeAll(async () => {
  c = await setupSwarmChain({ mock: true, nodes: 6 });
  policies = [1, 2, 3, 4, 5, 6].map(policyOf);
  // Challengers: 7 honest, 8 wrong; both funded and approved.
  for (const w of [c.wallets[7], c.wallets[8]]) {
    await send(c.wallets[0], { address: c.token, abi: MycelTokenAbi, functionName: 'transfer', args: [a(w), ECONOMICS.claimBond * 10n] });
    await send(w, { address: c.token, abi: MycelTokenAbi, functionName: 'approve', args: [c.coordinator, ECONOMICS.claimBond * 10n] });
  }
  snapshot = await c.testClient.snapshot();
}, 120_000);
afterAll(() => c?.stop());

const caseArb: fc.Arbitrary<Case> = fc.record({
  nodes: fc.array(fc.record({ behaviour: fc.constantFrom(...BEHAVIOURS), score: fc.integer({ min: 0, max: 16 }), wronglyChallenged: fc.boolean(), requested: fc.boolean(), groupWronglyChallenged: fc.boolean() }), { minLength: 2, maxLength: 5 }),
  fixBeacon: fc.integer({ min: 0, max: 4 }).map((v) => v !== 0),
  usedBy: fc.integer({ min: 0, max: 4 }),
  fakeUser: fc.boolean(),
  stepWronglyChallenged: fc.boolean(),
});

async function play(k: Case): Promise<void> {
  await c.testClient.revert({ id: snapshot });
  snapshot = await c.testClient.snapshot();
  const wallets = k.nodes.map((_, i) => c.wallets[i + 1]);
  const everyone = [...c.wallets.slice(1, 9).map(a), c.coordinator];
  const before = new Map(await Promise.all(everyone.map(async (x) => [x, await c.balance(x)] as const)));
  const supply0 = await c.totalSupply();
  const round = (await read<bigint>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound', args: [] })) + 2n;
  const commits = (n: Case['nodes'][number]) => n.behaviour !== 'late' && n.behaviour !== 'claim-uncommitted';
  const s = await c.schedule(round);
  const groupsOf = (i: number) => [0, 1].map((j) => rolloutGroup(i, Number(round), j));
  const rollouts = wallets.map((w, i) => rolloutsOf(a(w), groupsOf(i)));
  // The copier's rollouts: another node's groups, as leaves naming the copier.
  const victim = k.nodes.findIndex((n) => n.behaviour === 'honest');
  const copyOf = (i: number) => rolloutsOf(a(wallets[i]), groupsOf(victim < 0 ? i : victim));

  const committed: boolean[] = [];
  for (const [i, n] of k.nodes.entries()) {
    const root = n.behaviour === 'copy' ? copyOf(i).root : rollouts[i].root;
    if (!commits(n)) { committed.push(false); continue; }
    await commitIn(c, wallets[i], round, { policyHash: policies[i].hash, rolloutsRoot: root });
    committed.push(true);
    if (n.behaviour === 'double') {
      await expectRevert(swarmCommit(wallets[i], { coordinator: c.coordinator, round, rolloutsRoot: root, policyHash: policies[i].hash, usedLeaves: [], modelConfig: MODEL_CONFIG }), 'SwarmAlreadyCommitted');
    }
  }
  await c.mineTo(s.deadline);
  for (const [i, n] of k.nodes.entries()) {
    if (n.behaviour === 'late') await expectRevert(swarmCommit(wallets[i], { coordinator: c.coordinator, round, rolloutsRoot: rollouts[i].root, policyHash: policies[i].hash, usedLeaves: [], modelConfig: MODEL_CONFIG }), 'SwarmCommitClosed');
  }
  let beacon: Hex | undefined;
  // The next round (its commit window opens at this round's deadline): one committed node trained on the other
  // contributors' rollout 0; the copier's leaves name the copier, so none of them is in its used root.
  const contributors = k.nodes.map((_, i) => i).filter((i) => committed[i] && k.nodes[i].behaviour !== 'copy');
  const userIndex = committed.findIndex((x, i) => x && i === k.usedBy % k.nodes.length);
  const next = await c.schedule(round + 1n);
  const usedLeaves = contributors.filter((i) => i !== userIndex).map((i) => rollouts[i].leaves[0]);
  const used = usedOf(usedLeaves);
  const useRound = k.fixBeacon && userIndex >= 0 && usedLeaves.length > 0;
  if (k.fixBeacon) {
    await c.mineTo(s.deadline + 1n);
    beacon = (await swarmFixBeacon(c.wallets[9], { coordinator: c.coordinator, round })).beacon;
    if (useRound) await commitIn(c, wallets[userIndex], round + 1n, { policyHash: policies[userIndex].hash, usedLeaves: used.leaves });
  } else {
    await c.mineTo(s.deadline + 257n);
    expect((await swarmFixBeacon(c.wallets[9], { coordinator: c.coordinator, round })).voided).toBe(true);
  }
  // Claims (truth: node i's evaluation scores n.score); the inflater claims more.
  const claimed: (number | undefined)[] = [];
  for (const [i, n] of k.nodes.entries()) {
    const claimArgs = (score: number) => {
      const claim = syntheticClaim(policies[i], beacon ?? `0x${'01'.repeat(32)}`, score, i);
      return { coordinator: c.coordinator, round, runRoot: claim.runRoot, scoreBits: claim.scoreBits, policyLeaves: claim.policyLeaves, proof: claim.proof };
    };
    const score = n.behaviour === 'inflate' || n.behaviour === 'withhold' ? Math.min(n.score + 1 + (n.score % 3), 1 << 20) : n.score;
    if (n.behaviour === 'claim-uncommitted') await expectRevert(swarmClaimScore(wallets[i], claimArgs(score)), 'SwarmNoCommitment');
    else if (!beacon && committed[i]) await expectRevert(swarmClaimScore(wallets[i], claimArgs(score)), 'SwarmRoundVoid');
    if (!beacon || !committed[i] || n.behaviour === 'silent') { claimed.push(undefined); continue; }
    await swarmClaimScore(wallets[i], claimArgs(score));
    claimed.push(score);
  }
  // Challenges: every inflated claim by the honest challenger (7); honest claims at random by the wrong one (8),
  // which also contests some inflated claims with a root as wrong as theirs: the referee matches neither ("both").
  type Dispute = { id: bigint; node: number; challenger: 7 | 8; winner: 'node' | 'challenger' | 'both' };
  const disputes: Dispute[] = [];
  const open = async (i: number, challenger: 7 | 8, winner: Dispute['winner']) => {
    const root: Hex = `0x${(i + 1).toString(16).padStart(62, 'c')}${challenger.toString(16).padStart(2, '0')}`;
    const { disputeId } = await swarmChallengeScore(c.wallets[challenger], { coordinator: c.coordinator, round, node: a(wallets[i]), root });
    disputes.push({ id: disputeId, node: i, challenger, winner });
  };
  // Requests for policies: always the withholder's (nobody can fetch it), others' at random; a claim that does not exist is refused.
  const published = new Set<number>();
  const withheld: { node: number; deadline: bigint }[] = [];
  for (const [i, n] of k.nodes.entries()) {
    if (!beacon || !(n.requested || n.behaviour === 'withhold')) continue;
    const ask = () => swarmRequestPolicy(c.wallets[ASKER], { coordinator: c.coordinator, round, node: a(wallets[i]) });
    if (claimed[i] === undefined) { await expectRevert(ask(), 'SwarmNoClaim', [round, a(wallets[i])]); continue; }
    const { deadline } = await ask();
    if (n.behaviour === 'withhold') { withheld.push({ node: i, deadline }); continue; }
    for (const b of policyBatches(policyParts(policies[i].state))) await swarmPublishPolicy(wallets[i], { coordinator: c.coordinator, round, parts: b });
    published.add(i);
  }
  for (const [i, n] of k.nodes.entries()) {
    // The withholder's policy cannot be fetched: nobody can check its claim, only ask for the policy.
    if (claimed[i] === undefined || n.behaviour === 'withhold') continue;
    if (n.behaviour !== 'inflate') {
      if (n.wronglyChallenged) await open(i, 8, 'node');
    } else if (n.wronglyChallenged && n.score % 2 === 0) {
      await open(i, 8, 'both');
      await open(i, 7, 'challenger');
    } else {
      await open(i, 7, 'challenger');
      if (n.wronglyChallenged) await open(i, 8, 'both');
    }
  }
  if (useRound) {
    for (const i of contributors.filter((j) => j !== userIndex)) {
      const proof = swarmProveUse(wallets[i], { coordinator: c.coordinator, round, index: 0, groupHash: rolloutHash(i, Number(round), 0), user: a(wallets[userIndex]), own: rollouts[i].path(0), used: used.path(rollouts[i].leaves[0]) });
      // Only a prover with a claim (an inflater's counts until it is refuted, then leaves the total).
      if (claimed[i] === undefined) await expectRevert(proof, 'SwarmNotEligible', [round, a(wallets[i])]);
      else await proof;
    }
    for (const [i, n] of k.nodes.entries()) {
      if (n.behaviour !== 'copy' || victim < 0 || !usedLeaves.includes(rollouts[victim].leaves[0]) || i === userIndex) continue;
      await expectRevert(swarmProveUse(wallets[i], { coordinator: c.coordinator, round, index: 0, groupHash: rolloutHash(victim, Number(round), 0), user: a(wallets[userIndex]), own: copyOf(i).path(0), used: used.path(rollouts[victim].leaves[0]) }), 'SwarmUseProofInvalid', [1]);
    }
  }
  // The user's GRPO step: a fake user's is contested by the honest challenger (and by the wrong one, at random:
  // both lie), an honest user's by the wrong one at random. The policies and groups are the committed ones (the
  // user committed the same policy in both rounds; each used group is (contributor, rollout hash)).
  const stepDisputes: { id: bigint; challenger: 7 | 8; winner: 'node' | 'challenger' | 'both' }[] = [];
  if (useRound) {
    const usedGroups = contributors.filter((i) => i !== userIndex).map((i) => ({ author: a(wallets[i]), ...rolloutGroup(i, Number(round), 0) }));
    const leaves = policies[userIndex].leaves.map(hex);
    const challengeStep = (challenger: number, root: Hex) =>
      swarmChallengeStep(c.wallets[challenger], { coordinator: c.coordinator, round: round + 1n, node: a(wallets[userIndex]), root, prevPolicyLeaves: leaves, nextPolicyLeaves: leaves, used: usedGroups });
    await expectRevert(challengeStep(userIndex + 1, `0x${'5e'.repeat(32)}`), 'SwarmSelfChallenge');
    const openStep = async (challenger: 7 | 8, winner: 'node' | 'challenger' | 'both') => {
      const { disputeId } = await challengeStep(challenger, `0x${'5f'.repeat(31)}${challenger.toString(16).padStart(2, '0')}`);
      stepDisputes.push({ id: disputeId, challenger, winner });
    };
    if (k.fakeUser) {
      await openStep(7, 'challenger');
      if (k.stepWronglyChallenged) await openStep(8, 'both');
    } else if (k.stepWronglyChallenged) await openStep(8, 'node');
  }
  // Rollout groups (docs/swarm-chain.md, "The rollout program"): the fabricator's group 0 is not what its committed
  // policy generates: the honest challenger contests it; the wrong one contests honest nodes' groups at random. The
  // author's run root is computed by the coordinator from its policy of the round before and the round's beacon.
  const rolloutDisputes: { id: bigint; node: number; challenger: 7 | 8; winner: 'node' | 'challenger' }[] = [];
  for (const [i, n] of k.nodes.entries()) {
    const fabricated = n.behaviour === 'fabricate';
    if (!beacon || !committed[i] || !(fabricated || (n.behaviour === 'honest' && n.groupWronglyChallenged))) continue;
    const challenger = fabricated ? 7 : 8;
    const challenge = (by: MycelWalletClient) => swarmChallengeRollout(by, {
      coordinator: c.coordinator, round, group: { author: a(wallets[i]), ...rolloutGroup(i, Number(round), 0) }, proof: rollouts[i].path(0), policyLeaves: policies[i].leaves.map(hex), root: `0x${(i + 1).toString(16).padStart(62, 'f')}${challenger.toString(16).padStart(2, '0')}`,
    });
    await expectRevert(challenge(wallets[i]), 'SwarmSelfChallenge', [a(wallets[i])]);
    const { disputeId } = await challenge(c.wallets[challenger]);
    rolloutDisputes.push({ id: disputeId, node: i, challenger, winner: fabricated ? 'challenger' : 'node' });
  }
  // The mock game rules for whoever told the truth (nobody, when both lied), in the order they were opened; what each
  // ruling should move is the coordinator's rules, modelled here (a claim is refuted at its first loss; a later
  // ruling refunds its challenger).
  const want = { 7: 0n, 8: 0n } as Record<7 | 8, bigint>;
  const held = new Map<number, bigint>();
  const refuted = new Set<number>();
  const BOND = ECONOMICS.claimBond;
  const HALF = BOND / 2n;
  for (const d of disputes) {
    const winner = d.winner === 'node' ? a(wallets[d.node]) : d.winner === 'challenger' ? a(c.wallets[d.challenger]) : ZERO_ADDRESS;
    await send(c.wallets[0], { address: c.game, abi: MockResolverAbi, functionName: 'decide', args: [c.coordinator, d.id, winner] });
    if (refuted.has(d.node)) continue;
    if (d.winner === 'node') {
      want[d.challenger] -= BOND;
      held.set(d.node, (held.get(d.node) ?? 0n) + HALF);
    } else {
      refuted.add(d.node);
      want[d.challenger] += d.winner === 'challenger' ? HALF + (held.get(d.node) ?? 0n) : -BOND;
      held.delete(d.node);
    }
  }
  // Step rulings: the step is refuted at its first loss (the user's commit bond of the next round: half to the
  // challenger with what the step held, half burned); a later ruling refunds its challenger.
  const STEP_BOND = ECONOMICS.commitBond;
  let stepRefuted = false;
  let stepHeld = 0n;
  for (const d of stepDisputes) {
    const winner = d.winner === 'node' ? a(wallets[userIndex]) : d.winner === 'challenger' ? a(c.wallets[d.challenger]) : ZERO_ADDRESS;
    await send(c.wallets[0], { address: c.game, abi: MockResolverAbi, functionName: 'decide', args: [c.coordinator, d.id, winner] });
    if (stepRefuted) continue;
    if (d.winner === 'node') {
      want[d.challenger] -= STEP_BOND;
      stepHeld += STEP_BOND / 2n;
    } else {
      stepRefuted = true;
      want[d.challenger] += d.winner === 'challenger' ? STEP_BOND / 2n + stepHeld : -STEP_BOND;
      stepHeld = 0n;
    }
  }
  // Rollout rulings: a refuted group's uses leave the count and its author's commit bond goes (half to the
  // challenger with what the commit held, half burned); a won dispute holds the challenger's unburned half for the author.
  const groupRefuted = new Set<number>();
  const commitHeld = new Map<number, bigint>();
  for (const d of rolloutDisputes) {
    const winner = d.winner === 'node' ? a(wallets[d.node]) : a(c.wallets[d.challenger]);
    await send(c.wallets[0], { address: c.game, abi: MockResolverAbi, functionName: 'decide', args: [c.coordinator, d.id, winner] });
    if (d.winner === 'node') {
      want[d.challenger] -= STEP_BOND;
      commitHeld.set(d.node, (commitHeld.get(d.node) ?? 0n) + STEP_BOND / 2n);
    } else {
      groupRefuted.add(d.node);
      want[d.challenger] += STEP_BOND / 2n + (commitHeld.get(d.node) ?? 0n);
      commitHeld.delete(d.node);
    }
  }
  if (useRound) expect((await read<{ stepRefuted: boolean }>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getEntry', args: [round + 1n, a(wallets[userIndex])] })).stepRefuted).toBe(stepRefuted);
  // Unpublished policies: their claims are ended after the deadline, by anyone.
  const REQUEST_BOND = BOND / 10n;
  const wantAsker = -REQUEST_BOND * BigInt(published.size) + HALF * BigInt(withheld.length);
  for (const w of withheld) {
    await c.mineTo(w.deadline);
    await swarmForfeitUnavailable(c.wallets[9], { coordinator: c.coordinator, round, node: a(wallets[w.node]) });
    refuted.add(w.node);
  }
  // Everyone collects whatever they may.
  await c.mineTo(next.useEnd);
  const rewards = new Map<Address, bigint>();
  const useRewards = new Map<Address, bigint>();
  for (const [i, w] of wallets.entries()) {
    if (!committed[i]) continue;
    for (const fn of ['collect', 'collectUse'] as const) {
      const r: unknown = await (fn === 'collect' ? swarmCollect : swarmCollectUse)(w, { coordinator: c.coordinator, round }).catch((e: unknown) => e);
      if (r instanceof Error || !r) { expect((r as { errorName?: string }).errorName).toBe('SwarmNotEligible'); continue; }
      for (const e of parseEventLogs({ abi: SwarmCoordinatorAbi, logs: (r as { logs: Log[] }).logs, eventName: ['Collected', 'UseCollected'] })) {
        rewards.set(a(w), (rewards.get(a(w)) ?? 0n) + e.args.reward);
        if (e.eventName === 'UseCollected') useRewards.set(a(w), (useRewards.get(a(w)) ?? 0n) + e.args.reward);
      }
    }
  }
  // The user's commit bond of the next round (no claim there: only the bond and its step's prizes come back, or
  // nothing when its step was refuted).
  if (useRound) expect((await swarmCollect(wallets[userIndex], { coordinator: c.coordinator, round: round + 1n })).paid).toBe(stepRefuted ? 0n : ECONOMICS.commitBond + stepHeld);

  // Properties.
  const after = new Map(await Promise.all(everyone.map(async (x) => [x, await c.balance(x)] as const)));
  const delta = (x: Address) => after.get(x)! - before.get(x)!;
  for (const [i, n] of k.nodes.entries()) {
    const who = a(wallets[i]);
    const fakeUser = useRound && k.fakeUser && i === userIndex;
    // What the user's step moved: its commit bond of the next round lost, or the prizes its step held.
    const stepDelta = useRound && i === userIndex ? (stepRefuted ? -ECONOMICS.commitBond : stepHeld) : 0n;
    if (!fakeUser && (n.behaviour === 'honest' || n.behaviour === 'silent' || n.behaviour === 'late' || n.behaviour === 'double' || n.behaviour === 'claim-uncommitted')) {
      expect(delta(who), `${n.behaviour} node ${i} lost tokens`).toBeGreaterThanOrEqual(0n);
    }
    // A fake user loses its commit bond of the next round; its contributors (colluders) are paid no use share.
    if (fakeUser) expect(stepDelta, `fake user ${i}`).toBe(-ECONOMICS.commitBond);
    if (useRound && k.fakeUser) expect(useRewards.get(who) ?? 0n, `node ${i} was paid for a fake use`).toBe(0n);
    if (n.behaviour === 'copy') expect(useRewards.get(who) ?? 0n, `copying node ${i} was paid for use`).toBe(0n);
    // A fabricated group is refuted: its author is paid no use share and loses its commit bond (its other group was not used).
    if (n.behaviour === 'fabricate' && beacon) {
      expect(groupRefuted.has(i)).toBe(true);
      expect(useRewards.get(who) ?? 0n, `fabricating node ${i} was paid for use`).toBe(0n);
      expect((await read<{ commitBondLost: boolean }>(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getEntry', args: [round, who] })).commitBondLost).toBe(true);
    }
    if (n.behaviour === 'inflate' || n.behaviour === 'withhold') {
      expect(rewards.get(who) ?? 0n, `${n.behaviour} node ${i} was paid`).toBe(0n);
      // Its claim bond is lost (when the round let it claim); its commit bond comes back; a published policy earned
      // the request's bond.
      expect(delta(who)).toBe((claimed[i] === undefined ? 0n : -ECONOMICS.claimBond) + (published.has(i) ? REQUEST_BOND : 0n) + stepDelta);
    }
    if (n.behaviour === 'honest' && !fakeUser) expect(delta(who) >= (published.has(i) ? REQUEST_BOND : 0n), `honest node ${i} asked for its policy`).toBe(true);
  }
  // The challengers end where the rules say; the honest one never loses.
  expect(delta(a(c.wallets[7]))).toBe(want[7]);
  expect(want[7]).toBeGreaterThanOrEqual(0n);
  expect(delta(a(c.wallets[8]))).toBe(want[8]);
  expect(delta(a(c.wallets[ASKER]))).toBe(wantAsker);
  for (const [i, n] of k.nodes.entries()) expect(refuted.has(i), `node ${i} (${n.behaviour}) refuted`).toBe((n.behaviour === 'inflate' || n.behaviour === 'withhold') && claimed[i] !== undefined);
  const burned = supply0 - (await c.totalSupply());
  const gained = everyone.filter((x) => x !== c.coordinator).reduce((sum, x) => sum + delta(x), 0n);
  expect(gained + burned + delta(c.coordinator)).toBe(0n);
  const paid = [...rewards.values()].reduce((x, y) => x + y, 0n);
  // Nothing but the pool stays: every bond came back, was paid as a prize, or was burned.
  expect(-delta(c.coordinator)).toBe(paid);
  // The use share paid never exceeds the round's use part, nor the score share the rest; every honest contributor
  // whose use was proven and whose claim stood is paid some of it.
  const usePart = (ECONOMICS.rewardPerRound * BigInt(ECONOMICS.useShareBps)) / 10_000n;
  const usePaid = [...useRewards.values()].reduce((x, y) => x + y, 0n);
  expect(usePaid <= usePart).toBe(true);
  expect(paid - usePaid <= ECONOMICS.rewardPerRound - usePart).toBe(true);
  // A refuted prover's uses left the total: the eligible contributors share the whole use part (but for rounding).
  const eligible = useRound && !stepRefuted ? contributors.filter((i) => i !== userIndex && claimed[i] !== undefined && !refuted.has(i) && !groupRefuted.has(i)) : [];
  for (const i of eligible) expect(useRewards.get(a(wallets[i])) ?? 0n, `contributor ${i} (${k.nodes[i].behaviour})`).toBeGreaterThan(0n);
  if (eligible.length) expect(usePaid > usePart - BigInt(eligible.length), `use paid ${usePaid} of ${usePart}`).toBe(true);
}

test('an honest node never loses its bond, a cheat is never paid, refusals are named, tokens add up', async () => {
  // Always played: an inflater proves a use before its refutation (its uses must leave the round's total).
  const inflaterUses: Case = { nodes: [{ behaviour: 'inflate', score: 0, wronglyChallenged: false, requested: false, groupWronglyChallenged: false }, { behaviour: 'honest', score: 0, wronglyChallenged: false, requested: false, groupWronglyChallenged: false }, { behaviour: 'honest', score: 0, wronglyChallenged: false, requested: false, groupWronglyChallenged: false }], fixBeacon: true, usedBy: 1, fakeUser: false, stepWronglyChallenged: true };
  // And a fake user whose colluders proved their uses, contested by both challengers.
  const fakeUses: Case = { ...inflaterUses, nodes: inflaterUses.nodes.map((n) => ({ ...n, behaviour: 'honest' as const })), fakeUser: true };
  // And a fabricator whose group the user trained on (its use is proven, then taken back with the group), beside an
  // honest node whose group the wrong challenger contests.
  const fabricatedUse: Case = { ...inflaterUses, nodes: [{ ...inflaterUses.nodes[0], behaviour: 'fabricate' }, inflaterUses.nodes[1], { ...inflaterUses.nodes[2], groupWronglyChallenged: true }], stepWronglyChallenged: false };
  await fc.assert(fc.asyncProperty(caseArb, play), { numRuns: RUNS, examples: [[inflaterUses], [fakeUses], [fabricatedUse]], seed: process.env.MYCEL_SEED ? Number(process.env.MYCEL_SEED) : undefined });
}, 300_000);
