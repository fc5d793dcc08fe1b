/**
 * The rollout dispute end to end with node processes (docs/swarm-chain.md, "The rollout program"): three `mycel swarm
 * start --rpc` nodes (the built CLI) on anvil with half-second blocks, every node checking every peer (--check 1).
 * One publishes and commits groups its policy did not generate (--hostile not-reproduced: other tokens, with the
 * rewards they earn, so only re-execution tells). The honest nodes re-execute its groups from the policy it
 * committed with them (fetched by CID), challenge one on chain and win the dispute at one instruction; the
 * fabricator's node defends the group as it published it and loses its commit bond. Its later rollouts, refused off
 * chain, are checked on chain all the same. The honest nodes' groups are re-executed and agreed with. Tokens add up.
 */
import { afterAll, expect, test } from 'vitest';
import { parseEventLogs } from 'viem';
import { getContractEvents } from 'viem/actions';
import { swarmGetEntry } from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { SWARM_NODES_ECONOMICS } from '../../src/cli/commands/devnet-swarm.js';
import { swarmNodesFixture } from './swarm-node-process.js';

const ROUNDS = 2;
const REQUEST_BOND = SWARM_NODES_ECONOMICS.claimBond / 10n;

const swarm = swarmNodesFixture('swarm-rollout');
afterAll(() => swarm.stop());

test('a node that commits groups its policy did not generate is challenged by its peers on chain and loses its commit bond; honest groups are agreed with; tokens add up', async () => {
  const chain = await swarm.start();
  const { publicClient, addresses } = chain;
  const { procs: [, , fabricator], codes, events, report, tokens } = await swarm.run({
    timeoutMs: 240_000,
    args: (i) => ['--check', '1', '--model', 'micro', '--seed', String(i + 1), '--pretrain-steps', '0', '--tasks', 'addition', '--split', '2/2', '--completions', '2', '--reexec', '1', '--rounds', String(ROUNDS), ...(i === 2 ? ['--hostile', 'not-reproduced'] : [])],
  });
  expect(codes, report).toEqual([0, 0, 0]);
  const honest = events.slice(0, 2).flat();

  // The fabricator's groups were challenged by an honest node and refuted at one instruction: round 0's, and later
  // rounds' too (its peers drop it off chain in round 0 and refuse its later rollouts, but check them on chain; on a
  // busy machine a later round's check can miss its window, which is why only round 0 is required).
  const challenges = honest.filter((e) => e.action === 'challenge-rollout');
  expect(challenges.length, report).toBeGreaterThanOrEqual(1);
  for (const c of challenges) expect({ node: c.node, loser: c.loser, at: c.at }, report).toEqual({ node: addresses[2], loser: 'solver', at: 'instruction' });
  const refuted = [...new Set(challenges.map((c) => BigInt(c.round as number)))];
  expect(refuted, report).toContain(0n);
  for (const round of refuted) expect((await swarmGetEntry(publicClient, { coordinator: chain.coordinator, round, node: addresses[2]! })).commitBondLost, `${report}\nround ${round}`).toBe(true);
  // Its node played every dispute against its groups (as published) and lost each.
  const defended = fabricator.events.filter((e) => e.action === 'defend-rollout');
  expect(defended.length, report).toBe(challenges.length);
  for (const d of defended) expect(d.loser, report).toBe('solver');

  // The honest nodes' groups: re-executed by each other and agreed with, never challenged, their commit bonds kept.
  for (const [i, j] of [[0, 1], [1, 0]] as const) {
    expect(events[i]!.some((e) => e.action === 'check-rollouts' && e.agreed === true && e.node === addresses[j]), report).toBe(true);
  }
  expect(events.flat().some((e) => e.action === 'challenge-rollout' && e.node !== addresses[2]), report).toBe(false);
  expect(events.flat().some((e) => e.action === 'check-rollouts-skipped' && e.node !== addresses[2]), report).toBe(false);
  for (const round of [0n, 1n]) {
    for (const i of [0, 1]) expect((await swarmGetEntry(publicClient, { coordinator: chain.coordinator, round, node: addresses[i]! })).commitBondLost, report).toBe(false);
  }

  // Tokens: the fabricator lost a commit bond per refuted round; it kept the bonds of requests for its policy it
  // answered, and the score share of its claims, which stand (its evaluation is honest: a micro policy now and then
  // answers one question right, and then takes the round's whole score share). An honest node loses at most the
  // bonds of requests of its own that were answered (it asks when a peer's blob did not reach it). What the nodes
  // gained plus what was burned left the coordinator.
  const { net, burned, paidOut } = await tokens();
  console.log(`swarm rollouts, ${ROUNDS} rounds: net per node ${net.map((n) => `${Number(n) / 1e18} MYC`).join(', ')}; burned ${Number(burned) / 1e18}; left the coordinator ${Number(paidOut) / 1e18}`);
  const requestsAgainst = (node: string) => BigInt(events.flat().filter((e) => e.action === 'request-policy' && e.node === node).length);
  const collected = await getContractEvents(publicClient, { address: chain.coordinator, abi: SwarmCoordinatorAbi, eventName: 'Collected', args: { node: addresses[2] }, fromBlock: 0n });
  const scoreShare = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: collected, eventName: 'Collected' }).reduce((sum, l) => sum + l.args.reward, 0n);
  expect(net[2], report).toBe(-SWARM_NODES_ECONOMICS.commitBond * BigInt(refuted.length) + REQUEST_BOND * requestsAgainst(addresses[2]!) + scoreShare);
  for (const i of [0, 1]) expect(net[i]! >= -REQUEST_BOND * BigInt(events[i]!.filter((e) => e.action === 'request-policy').length), report).toBe(true);
  expect(net[0]! + net[1]! + net[2]! + burned, report).toBe(paidOut);
}, 300_000);
