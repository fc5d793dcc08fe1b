/**
 * The coordinator's data-availability challenge on anvil with the real DisputeGame (docs/swarm-chain.md, "Data
 * availability"): requests (by registered nodes, in the challenge window, once per claim: named errors otherwise);
 * publication checked leaf by leaf against the committed policy (wrong bytes, a malformed part, a leaf twice, a late
 * publication refused), the requester's bond going to a node that publishes, the policy read back from the logs and a
 * late challenge window; an unanswered request forfeited (not early) and refuted as a lost dispute (only the bond back
 * when a dispute refuted the claim first); payouts waiting
 * for open requests and for the late window; and the tokens adding up. The requests live in the coordinator's
 * SwarmAvailability (created by its constructor), which alone may move their bonds and forfeit claims through it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import { readContract } from 'viem/actions';
import { send } from '../../src/chain/actions/send.js';
import {
  swarmChallengeEndOf,
  swarmChallengeScore,
  swarmClaimScore,
  swarmCollect,
  swarmForfeitUnavailable,
  swarmGetAvailability,
  swarmGetEntry,
  swarmPublishedParts,
  swarmPublishPolicy,
  swarmAvailabilityAddress,
  swarmRequestPolicy,
  type MycelWalletClient,
  type SwarmPolicyPart,
} from '../../src/chain/index.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { SwarmAvailabilityAbi } from '../../src/chain/generated/SwarmAvailability.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { policyBatches, policyParts, stateOfParts } from '../../src/node/swarm-availability.js';
import { stateHash } from '../../src/train/index.js';
import { expectRevert } from './mycel-fixture.js';
import { ECONOMICS, beaconOf, commitIn, policyOf, setupSwarmChain, syntheticClaim, type Policy, type SwarmChain } from './coordinator-fixture.js';

let c: SwarmChain;
let nodes: MycelWalletClient[];
let policies: Policy[];
const a = (w: MycelWalletClient) => w.account.address;
const BOND = ECONOMICS.claimBond;
const HALF = BOND / 2n;
const REQUEST_BOND = BOND / 10n;

beforeAll(async () => {
  c = await setupSwarmChain({ nodes: 5 });
  nodes = c.wallets.slice(1, 6);
  policies = [1, 2, 3].map(policyOf);
}, 120_000);
afterAll(() => c?.stop());

const nextRound = async () => (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 1n;
const coordinatorBalance = () => c.balance(c.coordinator);

/** A round where nodes 0..2 committed policies 0..2 and claimed scores 1..3 (synthetic runs: nobody re-executes here). */
async function claimedRound(): Promise<bigint> {
  const round = await nextRound();
  for (const i of [0, 1, 2]) await commitIn(c, nodes[i]!, round, { policyHash: policies[i]!.hash });
  const beacon = await beaconOf(c, round);
  for (const i of [0, 1, 2]) {
    const k = syntheticClaim(policies[i]!, beacon, i + 1);
    await swarmClaimScore(nodes[i]!, { coordinator: c.coordinator, round, runRoot: k.runRoot, scoreBits: k.scoreBits, policyLeaves: k.policyLeaves, proof: k.proof });
  }
  return round;
}

const publish = (w: MycelWalletClient, round: bigint, parts: readonly SwarmPolicyPart[]) => swarmPublishPolicy(w, { coordinator: c.coordinator, round, parts });
const request = (w: MycelWalletClient, round: bigint, node: MycelWalletClient) => swarmRequestPolicy(w, { coordinator: c.coordinator, round, node: a(node) });

describe('a node asked for its policy publishes it in time', () => {
  let round: bigint;
  let parts: SwarmPolicyPart[];

  test('requests: only against a claim, not one\'s own, by a registered node, once per claim, with a small bond', async () => {
    round = await claimedRound();
    const [honest, , , requester, other] = nodes;
    await expectRevert(request(requester!, round, other!), 'SwarmNoClaim', [round, a(other!)]);
    await expectRevert(request(honest!, round, honest!), 'SwarmSelfChallenge', [a(honest!)]);
    await expectRevert(request(c.wallets[8]!, round, honest!), 'SwarmNotRegistered', [a(c.wallets[8]!)]);
    expect(await readContract(c.publicClient, { address: swarmAvailabilityAddress(c.coordinator), abi: SwarmAvailabilityAbi, functionName: 'REQUEST_BOND' })).toBe(REQUEST_BOND);
    // Asked late in the challenge window: the publication comes after the window, and opens a late one.
    const s = await c.schedule(round);
    await c.mineTo(s.challengeEnd - 3n);
    const before = await c.balance(a(requester!));
    const asked = await request(requester!, round, honest!);
    console.log(`swarm_request_policy: ${asked.gasUsed} gas`);
    expect(await c.balance(a(requester!))).toBe(before - REQUEST_BOND);
    expect(asked.deadline).toBe((await c.block()) + (s.challengeEnd - s.claimEnd));
    await expectRevert(request(other!, round, honest!), 'SwarmAlreadyRequested', [round, a(honest!)]);
    expect(await swarmGetAvailability(c.publicClient, { coordinator: c.coordinator, round, node: a(honest!) })).toMatchObject({ requester: a(requester!), open: true, published: 0 });
  }, 60_000);

  test('publication: each leaf recomputed from its bytes and checked against the committed policy; wrong bytes, a malformed part, a leaf twice, the wrong node are refused', async () => {
    const [honest, bystander, , requester] = nodes;
    parts = policyParts(policies[0]!.state);
    expect(parts.length).toBe(policies[0]!.leaves.length);
    await expectRevert(publish(bystander!, round, parts.slice(0, 2)), 'SwarmNoRequest', [round, a(bystander!)]);
    // One byte of a tensor changed: its leaf is not the committed one.
    const flipped = parts[3]!.data.slice(0, 10) + (parts[3]!.data[10] === '0' ? '1' : '0') + parts[3]!.data.slice(11);
    await expectRevert(publish(honest!, round, [{ ...parts[3]!, data: flipped as Hex }]), 'SwarmPublishMismatch', [round, a(honest!), 3n]);
    // Another policy's tensor, under the right index: a well-formed leaf, not in this policy's tree.
    await expectRevert(publish(honest!, round, [{ ...policyParts(policies[1]!.state)[1]!, path: parts[1]!.path }]), 'SwarmPublishMismatch', [round, a(honest!), 1n]);
    await expectRevert(publish(honest!, round, [{ ...parts[0]!, data: `0x${'01'.repeat(16)}` }]), 'SwarmPublishMismatch', [round, a(honest!), 0n]);
    await expectRevert(publish(honest!, round, [{ ...parts[2]!, data: parts[2]!.data.slice(0, -8) as Hex }]), 'SwarmPartMalformed', [2n]);
    await expectRevert(publish(honest!, round, [{ ...parts[0]!, data: `0x${'00'.repeat(17)}` }]), 'SwarmPartMalformed', [0n]);
    await expectRevert(publish(honest!, round, [parts[4]!, parts[4]!]), 'SwarmLeafAlreadyPublished', [round, a(honest!), 4n]);
    const batches = policyBatches(parts, 32 * 1024);
    expect(batches.length).toBeGreaterThan(2);
    const first = await publish(honest!, round, batches[0]!);
    expect(first.complete).toBe(false);
    await expectRevert(publish(honest!, round, [batches[0]![0]!]), 'SwarmLeafAlreadyPublished', [round, a(honest!), 0n]);
    const before = await c.balance(a(honest!));
    const requesterBefore = await c.balance(a(requester!));
    let gas = first.gasUsed;
    let last = first;
    for (const b of batches.slice(1)) {
      last = await publish(honest!, round, b);
      gas += last.gasUsed;
    }
    expect(last.complete).toBe(true);
    const bytes = parts.reduce((s, p) => s + (p.data.length - 2) / 2, 0);
    console.log(`swarm_publish_policy: ${gas} gas in ${batches.length} transactions for ${parts.length} leaves, ${bytes} bytes`);
    // The request's bond is the node's: asking an honest node for its policy cost the requester.
    expect(await c.balance(a(honest!))).toBe(before + REQUEST_BOND);
    expect(await c.balance(a(requester!))).toBe(requesterBefore);
    await expectRevert(publish(honest!, round, [parts[1]!]), 'SwarmNoRequest', [round, a(honest!)]);
    await expectRevert(swarmForfeitUnavailable(requester!, { coordinator: c.coordinator, round, node: a(honest!) }), 'SwarmNoRequest', [round, a(honest!)]);
  }, 60_000);

  test('a checker reads the policy back from the coordinator\'s logs: the committed state, bit for bit', async () => {
    const read = await swarmPublishedParts(c.publicClient, { coordinator: c.coordinator, round, node: a(nodes[0]!), fromBlock: 0n });
    expect(read.length).toBe(parts.length);
    const state = stateOfParts(read, policies[0]!.leaves.length);
    if (typeof state === 'string') throw new Error(state);
    expect(`0x${stateHash(state)}`).toBe(policies[0]!.hash);
    expect(stateOfParts(read.slice(1), policies[0]!.leaves.length)).toBe('the header leaf was not published');
  });

  test('the late window: the published claim can be challenged after the round\'s window, and the round pays only after it', async () => {
    const [honest, , third] = nodes;
    const s = await c.schedule(round);
    const lateEnd = await swarmChallengeEndOf(c.publicClient, { coordinator: c.coordinator, round, node: a(honest!) });
    expect(lateEnd).toBeGreaterThan(s.challengeEnd);
    expect(await swarmChallengeEndOf(c.publicClient, { coordinator: c.coordinator, round, node: a(third!) })).toBe(s.challengeEnd);
    await c.mineTo(s.challengeEnd);
    await expectRevert(swarmChallengeScore(nodes[4]!, { coordinator: c.coordinator, round, node: a(third!), root: `0x${'5a'.repeat(32)}` }), 'SwarmChallengeClosed');
    // A challenge of the published claim is still open: a dispute in the game, which the silent node loses by timeout.
    const challenged = await swarmChallengeScore(nodes[4]!, { coordinator: c.coordinator, round, node: a(honest!), root: `0x${'5a'.repeat(32)}` });
    await expectRevert(swarmCollect(third!, { coordinator: c.coordinator, round }), 'SwarmTooEarly');
    await c.mineTo(lateEnd);
    await expectRevert(swarmChallengeScore(nodes[3]!, { coordinator: c.coordinator, round, node: a(honest!), root: `0x${'5b'.repeat(32)}` }), 'SwarmChallengeClosed');
    await expectRevert(swarmCollect(third!, { coordinator: c.coordinator, round }), 'SwarmDisputesOpen', [round, 1n]);
    const deadline = (await readContract(c.publicClient, { address: c.game, abi: DisputeGameAbi, functionName: 'getDispute', args: [challenged.disputeId] })).deadline;
    await c.mineTo(BigInt(deadline) + 1n);
    await send(c.wallets[9]!, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [challenged.disputeId] });
    expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(honest!) })).refuted).toBe(true);
    expect((await swarmCollect(third!, { coordinator: c.coordinator, round })).paid).toBeGreaterThan(ECONOMICS.commitBond + BOND);
  }, 60_000);
});

describe('a node asked for its policy withholds it', () => {
  test('no publication in time: anyone ends the claim after the deadline (not before), it is refuted as a lost dispute; payouts wait for the request; tokens add up', async () => {
    const round = await claimedRound();
    const [, withholder, honest, requester] = nodes;
    const s = await c.schedule(round);
    const supply0 = await c.totalSupply();
    const held0 = await coordinatorBalance();
    // Asked at the end of the challenge window: its deadline is past the round's window.
    await c.mineTo(s.challengeEnd - 2n);
    const asked = await request(requester!, round, withholder!);
    expect(asked.deadline).toBeGreaterThan(s.challengeEnd);
    await expectRevert(request(requester!, round, honest!), 'SwarmRequestClosed', [round, s.challengeEnd, s.challengeEnd]);
    await expectRevert(swarmForfeitUnavailable(c.wallets[9]!, { coordinator: c.coordinator, round, node: a(withholder!) }), 'SwarmPublishOpen');
    await c.mineTo(s.challengeEnd);
    await expectRevert(swarmCollect(honest!, { coordinator: c.coordinator, round }), 'SwarmRequestsOpen', [round, 1n]);
    await c.mineTo(asked.deadline);
    await expectRevert(publish(withholder!, round, policyParts(policies[1]!.state).slice(0, 3)), 'SwarmPublishClosed', [round, a(withholder!), asked.deadline, asked.deadline]);
    const requesterBefore = await c.balance(a(requester!));
    // Anyone ends it (here an account that is no node at all); the requester is paid.
    const forfeited = await swarmForfeitUnavailable(c.wallets[9]!, { coordinator: c.coordinator, round, node: a(withholder!) });
    console.log(`swarm_forfeit_unavailable: ${forfeited.gasUsed} gas`);
    expect(forfeited).toMatchObject({ prize: BOND - HALF, burned: HALF });
    expect(await c.balance(a(requester!))).toBe(requesterBefore + REQUEST_BOND + BOND - HALF);
    expect(await c.totalSupply()).toBe(supply0 - HALF);
    expect(await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(withholder!) })).toMatchObject({ refuted: true });
    expect(await swarmGetAvailability(c.publicClient, { coordinator: c.coordinator, round, node: a(withholder!) })).toMatchObject({ open: false, forfeited: true });
    await expectRevert(swarmForfeitUnavailable(c.wallets[9]!, { coordinator: c.coordinator, round, node: a(withholder!) }), 'SwarmNoRequest', [round, a(withholder!)]);
    await expectRevert(request(honest!, round, withholder!), 'SwarmClaimRefuted', [round, a(withholder!)]);
    // The refuted claim earns nothing; the others share the round's score part (scores 1 and 3).
    const share = ECONOMICS.rewardPerRound - (ECONOMICS.rewardPerRound * BigInt(ECONOMICS.useShareBps)) / 10_000n;
    expect((await swarmCollect(withholder!, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond);
    expect((await swarmCollect(nodes[0]!, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond + BOND + (share * 1n) / 4n);
    expect((await swarmCollect(honest!, { coordinator: c.coordinator, round })).paid).toBe(ECONOMICS.commitBond + BOND + (share * 3n) / 4n);
    // What the coordinator holds changed only by what the pool paid out: the bonds in all came out or were burned.
    expect(held0 - (await coordinatorBalance())).toBe((share * 1n) / 4n + (share * 3n) / 4n + 3n * ECONOMICS.commitBond + 3n * BOND);
  }, 60_000);
});

test('a claim refuted by a dispute while its policy is awaited: the forfeit only returns the request\'s bond', async () => {
  const round = await claimedRound();
  const [node, , , requester, challenger] = nodes;
  const challenged = await swarmChallengeScore(challenger!, { coordinator: c.coordinator, round, node: a(node!), root: `0x${'5c'.repeat(32)}` });
  const deadline = (await readContract(c.publicClient, { address: c.game, abi: DisputeGameAbi, functionName: 'getDispute', args: [challenged.disputeId] })).deadline;
  // Asked for just before the node loses its dispute by its silence.
  await c.mineTo(BigInt(deadline) - 2n);
  const asked = await request(requester!, round, node!);
  await c.mineTo(BigInt(deadline) + 1n);
  await send(c.wallets[9]!, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [challenged.disputeId] });
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: a(node!) })).refuted).toBe(true);
  await c.mineTo(asked.deadline);
  const requesterBefore = await c.balance(a(requester!));
  const supply0 = await c.totalSupply();
  expect(await swarmForfeitUnavailable(c.wallets[9]!, { coordinator: c.coordinator, round, node: a(node!) })).toMatchObject({ prize: 0n, burned: 0n });
  expect(await c.balance(a(requester!))).toBe(requesterBefore + REQUEST_BOND);
  expect(await c.totalSupply()).toBe(supply0);
}, 60_000);

test('the SwarmAvailability is the coordinator\'s first CREATE, and the only caller its bond moves and forfeits accept', async () => {
  const availability = swarmAvailabilityAddress(c.coordinator);
  expect(await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'AVAILABILITY' })).toBe(availability);
  expect(await readContract(c.publicClient, { address: availability, abi: SwarmAvailabilityAbi, functionName: 'COORDINATOR' })).toBe(c.coordinator);
  const [node, other] = nodes;
  const call = (functionName: 'holdRequestBond' | 'payRequestBond', args: readonly [Hex, bigint]) => send(other!, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName, args });
  await expectRevert(call('holdRequestBond', [a(node!), REQUEST_BOND]), 'SwarmUnauthorizedAvailability', [a(other!)]);
  await expectRevert(call('payRequestBond', [a(other!), REQUEST_BOND]), 'SwarmUnauthorizedAvailability', [a(other!)]);
  await expectRevert(send(other!, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'forfeitClaim', args: [0n, a(node!), a(other!), 0n] }), 'SwarmUnauthorizedAvailability', [a(other!)]);
}, 60_000);
