/**
 * A node defends its rollout groups on anvil (src/node/swarm-rollout.ts, docs/swarm-chain.md "The rollout program"):
 * a checker that wrongly contests an honest group (its root is a liar's run of the group's program) plays its side as
 * a separate party; the node, watching RolloutChallenged, runs the group's rollout program from the policy it
 * committed with the group (not its policy of the round before) and the round's beacon and wins the dispute on chain; the checker's bond goes.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readContract } from 'viem/actions';
import { swarmChallengeRollout, swarmGetEntry } from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { jobFacts } from '../../src/chain/dispute-moves.js';
import { playDispute } from '../../src/node/dispute.js';
import { defendSwarmRollouts } from '../../src/node/swarm-rollout.js';
import { replayParty, rulesOf } from '../../src/verify/index.js';
import { ECONOMICS, commitIn, rolloutsOf, type SwarmChain } from '../chain/coordinator-fixture.js';
import { swarmNodes, type SwarmNodes } from './swarm-node-context.js';
import { ROLLOUT_CONFIG, fabricatedRollout, honestRollout, rolloutPolicy } from '../chain/coordinator-rollout-fixture.js';

let nodes: SwarmNodes;
let c: SwarmChain;

beforeAll(async () => {
  nodes = await swarmNodes('swarm-rollout', 4);
  c = nodes.c;
}, 180_000);
afterAll(() => nodes?.stop());

test('a wrongly challenged group is defended by its node on chain: the node runs the rollout program and wins; the checker loses its bond', async () => {
  const [alice, dave] = [nodes.contextOf('alice', c.wallets[1]), nodes.contextOf('dave', c.wallets[4])];
  const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 2n;
  const policy = rolloutPolicy(9);
  const { honest, run } = await honestRollout(policy, alice.address, round, 3);
  const rollouts = rolloutsOf(alice.address, [run.group]);
  // Her policy of the round before is another (a step came between): the group is the program of the one committed with it.
  await commitIn(c, alice.wallet, round - 1n, { policyHash: rolloutPolicy(8).hash });
  await commitIn(c, alice.wallet, round, { policyHash: policy.hash, rolloutsRoot: rollouts.root });
  const daveBefore = await c.balance(dave.address);
  const from = await c.block();
  const defending = defendSwarmRollouts(alice, { round, groups: [run.group], policy, config: ROLLOUT_CONFIG, fromBlock: from });

  // Dave's run of the group's program is a liar's: he challenges with it and plays his side.
  const liar = await fabricatedRollout(honest, run.group);
  const challenged = await swarmChallengeRollout(dave.wallet, { coordinator: c.coordinator, round, group: { author: alice.address, ...run.group }, proof: rollouts.path(0), policyLeaves: policy.leaves, root: liar.runRoot });
  const rules = rulesOf(honest);
  const outcome = await playDispute(dave, {
    disputeId: challenged.disputeId, jobId: round, rules, facts: jobFacts(rules),
    party: replayParty({ role: 'challenger', program: liar.program, reference: honest, store: liar.store, record: liar.record }),
    roots: { solver: run.runRoot, challenger: liar.runRoot }, parties: { solver: alice.address, challenger: dave.address }, fromBlock: from,
  });
  expect(outcome.loser).toBe('challenger');
  await c.mineTo((await c.schedule(round)).challengeEnd);
  const defended = await defending;
  expect(defended.map((d) => [d.disputeId, d.outcome.loser])).toEqual([[challenged.disputeId, 'challenger']]);
  expect(await c.balance(dave.address)).toBe(daveBefore - ECONOMICS.commitBond);
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: alice.address })).stepHeld).toBe(ECONOMICS.commitBond / 2n);
  console.log(nodes.logs.join('\n'));
}, 600_000);
