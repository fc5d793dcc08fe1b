/**
 * The data-availability challenge end to end with node processes (docs/swarm-chain.md, "Data availability"): three
 * `mycel swarm start --rpc` nodes (the built CLI) on anvil with half-second blocks, every node checking every peer's
 * claim (--check 1). One inflates its score and withholds its policy (--hostile withhold-policy: no blob served,
 * nothing published when asked): its checkers cannot fetch the policy, ask for it on chain, and end its claims when it
 * does not publish, which refutes them. One asks for every peer's policy on chain instead of fetching it (--hostile
 * request-policies): the honest node publishes its policy when asked, keeps its bonds and takes the requests' bonds,
 * and the asker checks the claim from the policy read back from the chain. Tokens add up.
 */
import { afterAll, expect, test } from 'vitest';
import { swarmGetAvailability, swarmGetEntry } from '../../src/chain/index.js';
import { SWARM_NODES_ECONOMICS } from '../../src/cli/commands/devnet-swarm.js';
import { swarmNodesFixture } from './swarm-node-process.js';

const ROUNDS = 2;
const REQUEST_BOND = SWARM_NODES_ECONOMICS.claimBond / 10n;

const swarm = swarmNodesFixture('swarm-availability');
afterAll(() => swarm.stop());

test('a withholding inflater loses its claims to unanswered requests; an honest node asked for its policy publishes it and never loses; tokens add up', async () => {
  const chain = await swarm.start();
  const { publicClient, addresses } = chain;
  const hostile = ['', 'request-policies', 'withhold-policy'];
  const { procs: [honest, asker, withholder], codes, events, report, tokens } = await swarm.run({
    timeoutMs: 240_000,
    args: (i) => ['--check', '1', '--model', 'micro', '--seed', String(i + 1), '--pretrain-steps', '0', '--split', '2/2', '--completions', '2', '--reexec', '1', '--rounds', String(ROUNDS), ...(hostile[i] ? ['--hostile', hostile[i]!] : [])],
  });
  expect(codes, report).toEqual([0, 0, 0]);
  const claimed = (i: number) => events[i]!.filter((e) => e.action === 'claim').map((e) => BigInt(e.round as number));
  for (const i of [0, 1, 2]) expect(claimed(i).length, report).toBeGreaterThanOrEqual(1);
  const read = (round: bigint, i: number) => Promise.all([
    swarmGetEntry(publicClient, { coordinator: chain.coordinator, round, node: addresses[i]! }),
    swarmGetAvailability(publicClient, { coordinator: chain.coordinator, round, node: addresses[i]! }),
  ]);

  // The withholder: every claim (inflated) was asked for, never published, and refuted by the forfeit.
  expect(withholder.events.some((e) => e.type === 'chain' && e.action === 'claim' && e.score === 16), report).toBe(true);
  for (const round of claimed(2)) {
    const [entry, availability] = await read(round, 2);
    expect({ refuted: entry.refuted, forfeited: availability.forfeited, published: availability.published }, `${report}\nround ${round}`).toEqual({ refuted: true, forfeited: true, published: 0 });
  }
  expect(events.slice(0, 2).flat().some((e) => e.action === 'forfeit'), report).toBe(true);

  // The honest node: asked for its policy by the asker each round it claimed, published it, its claims stood.
  for (const round of claimed(0)) {
    const [entry, availability] = await read(round, 0);
    expect({ refuted: entry.refuted, requester: availability.requester, open: availability.open, forfeited: availability.forfeited }, `${report}\nround ${round}`).toEqual({ refuted: false, requester: addresses[1], open: false, forfeited: false });
    expect(availability.challengeEnd, report).toBeGreaterThan(0n);
  }
  // The asker checked the honest claims from the policy it read back from the chain, and agreed.
  expect(asker.events.filter((e) => e.action === 'policy-published' && e.node === addresses[0]).length, report).toBe(claimed(0).length);
  expect(asker.events.filter((e) => e.action === 'check' && e.agreed === true && e.node === addresses[0]).length, report).toBe(claimed(0).length);
  expect(honest.events.some((e) => e.action === 'check-skipped') || asker.events.some((e) => e.action === 'check-skipped'), report).toBe(false);

  // Bonds: the honest node collected its commit and claim bonds every round it claimed.
  for (const e of honest.events.filter((e) => e.action === 'collect')) expect(BigInt(e.paid as string) >= SWARM_NODES_ECONOMICS.commitBond + SWARM_NODES_ECONOMICS.claimBond, report).toBe(true);
  // Tokens: the withholder lost a claim bond per claim. The honest node gained the asker's request bonds; what it can
  // lose is only the bond of a request of its own that was answered (it asks when a peer's rollout or blob did not
  // reach it, which a loaded machine sometimes causes). What the nodes gained plus what was burned left the coordinator.
  const { net, burned, paidOut } = await tokens();
  console.log(`swarm availability, ${ROUNDS} rounds: net per node ${net.map((n) => `${Number(n) / 1e18} MYC`).join(', ')}; burned ${Number(burned) / 1e18}; left the coordinator ${Number(paidOut) / 1e18}`);
  expect(net[2], report).toBe(-SWARM_NODES_ECONOMICS.claimBond * BigInt(claimed(2).length));
  const ownRequests = BigInt(honest.events.filter((e) => e.action === 'request-policy').length);
  expect(net[0]! >= REQUEST_BOND * (BigInt(claimed(0).length) - ownRequests), report).toBe(true);
  expect(net[0]! + net[1]! + net[2]! + burned, report).toBe(paidOut);
}, 300_000);
