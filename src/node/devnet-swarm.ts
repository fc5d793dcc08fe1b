/**
 * The devnet's swarm round on chain (docs/swarm-chain.md): a SwarmCoordinator for the SAPO policy model, its pool
 * funded by the deployer; the devnet's three registered nodes commit a round (policies of the SAPO model, rollouts,
 * and in the next round a used root naming a peer's rollout), the beacon is fixed, each evaluates its policy on the
 * beacon's tasks and claims its score, the cheating solver inflating its own; the verifier re-executes its peers'
 * evaluations, challenges the inflated claim and plays the dispute while the cheater defends, both with the node's
 * code (src/node/swarm-chain.ts); a use is proven and everyone collects. On a dev chain only: the windows are mined
 * through at once (a real chain would wait them out, minutes to hours).
 */
import { formatUnits, keccak256, toHex, type Address, type PublicClient, type TestClient } from 'viem';
import { readContract } from 'viem/actions';
import { deploySwarmCoordinator } from '../chain/deploy.js';
import { approve, MycelTokenAbi, swarmGetEntry, swarmRolloutLeaf, swarmSchedule, type MycelWalletClient } from '../chain/index.js';
import { adversary, rulesOf } from '../verify/index.js';
import { EVAL_TENSORS } from '../swarm/eval-program.js';
import { SWARM_MODEL, buildProgram, policySpec } from '../swarm/sapo-policy.js';
import { parseSapoConfig } from '../swarm/sapo-config.js';
import {
  checkSwarmClaim,
  claimSwarmScore,
  collectSwarmRound,
  commitSwarmRound,
  defendSwarmClaim,
  evaluatePolicy,
  proveSwarmUse,
  roundBeacon,
  swarmProgramOf,
  type SwarmChainContext,
  type SwarmPolicy,
} from './swarm-chain.js';

const MYC = (n: number) => BigInt(n) * 10n ** 18n;

export type DevnetSwarmNode = { role: string; wallet: MycelWalletClient; tx(action: string, gas: bigint): void; /** The node's data dir (its eval runs go under swarm/). */ dataDir: string };

export type DevnetSwarmSummary = {
  coordinator: Address;
  round: string;
  /** Per node: its score, whether its claim stood, what it collected, and its balance's change over the round (bonds in and out, rewards). */
  nodes: { role: string; score: number; claim: 'stood' | 'refuted'; collected: string; use: string; delta: string }[];
  burned: string;
  dispute?: { node: string; loser: string; at: string; moves: number };
  /** What stays in the coordinator once everyone collected: the pool not paid (no standing score: the policies are untrained; the second round's reward). */
  poolLeft: string;
};

/**
 * One round with `nodes` = [honest, cheater, checker] (registered, funded). Throws if the round does not end as the
 * protocol says (the inflated claim stands, an honest one is refuted).
 */
export async function runDevnetSwarm(o: {
  publicClient: PublicClient;
  testClient: TestClient;
  deployer: MycelWalletClient;
  contracts: { token: Address; registry: Address; disputeGame: Address };
  nodes: [DevnetSwarmNode, DevnetSwarmNode, DevnetSwarmNode];
  log(text: string): void;
}): Promise<DevnetSwarmSummary> {
  const balance = (who: Address) => readContract(o.publicClient, { address: o.contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] });
  const supply = () => readContract(o.publicClient, { address: o.contracts.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
  const before = await Promise.all(o.nodes.map((n) => balance(n.wallet.account.address)));
  const supplyBefore = await supply();
  const rewardPerRound = MYC(100);
  const program = swarmProgramOf(SWARM_MODEL);
  const deployed = await deploySwarmCoordinator(o.deployer, {
    token: o.contracts.token,
    registry: o.contracts.registry,
    game: o.contracts.disputeGame,
    // Long windows, mined through at once: a loaded machine must not miss one while it evaluates.
    timing: { commitBlocks: 20, claimBlocks: 500, challengeBlocks: 500 },
    economics: { commitBond: MYC(1), claimBond: MYC(10), rewardPerRound, rounds: 2, useShareBps: 2_000 },
    programs: [program],
  });
  const coordinator = deployed.coordinator;
  o.log(`swarm: deployed the SwarmCoordinator ${coordinator} (pool ${formatUnits(deployed.pool, 18)} MYC) for the SAPO policy model`);
  const mineTo = async (n: bigint) => {
    for (let left = n - (await o.publicClient.getBlockNumber({ cacheTime: 0 })); left > 0n; left -= 100n) await o.testClient.mine({ blocks: Number(left < 100n ? left : 100n) });
  };
  const ctxs: SwarmChainContext[] = o.nodes.map((n) => ({
    publicClient: o.publicClient,
    wallet: n.wallet,
    address: n.wallet.account.address,
    confirmations: 0,
    contracts: { disputeGame: o.contracts.disputeGame, coordinator },
    dataDir: `${n.dataDir}/swarm`,
    log: (text) => o.log(`swarm ${n.role}: ${text}`),
    // Named apart from the market's (a swarm dispute's moves are not the market job's).
    tx: (action, gas) => n.tx(action.startsWith('swarm') ? action : `swarm ${action}`, gas),
  }));
  for (const [i, c] of ctxs.entries()) o.nodes[i].tx('swarm approve', (await approve(c.wallet, { token: o.contracts.token, spender: coordinator, amount: MYC(100) })).gasUsed);
  const policies: SwarmPolicy[] = [1, 2, 3].map((seed) => {
    const p = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: SWARM_MODEL, seed, steps: 1 }));
    return { model: p.model, state: p.init() };
  });
  const round = 1n;
  const s = await swarmSchedule(o.publicClient, { coordinator, round });
  await mineTo(s.opens);
  const rollouts = ctxs.map((_, i) => [0, 1, 2].map((j) => keccak256(toHex(`devnet rollout ${i}/${j}`))));
  for (const [i, c] of ctxs.entries()) await commitSwarmRound(c, { round, policy: policies[i], rolloutHashes: rollouts[i], usedLeaves: [], modelConfig: program.modelConfig });
  await mineTo(s.deadline + 1n);
  const beacon = await roundBeacon(ctxs[2], round);
  if (!beacon) throw new Error('the round went void');
  // The next round: the checker's training step used the honest node's rollout 1.
  const used = [swarmRolloutLeaf(ctxs[0].address, rollouts[0][1])];
  await commitSwarmRound(ctxs[2], { round: round + 1n, policy: policies[2], rolloutHashes: [keccak256(toHex('devnet rollout next'))], usedLeaves: used, modelConfig: program.modelConfig });

  const runs = [
    await evaluatePolicy(ctxs[0], { policy: policies[0], beacon }),
    // The cheater's scoring op writes 16 right answers.
    await evaluatePolicy(ctxs[1], {
      policy: policies[1],
      beacon,
      program: (honest) => {
        const K = honest.spec.steps;
        const op = (rulesOf(honest).structure(K).stateOutputs.find((x) => x.name === `opt.${EVAL_TENSORS.score}`)!.source as { index: number }).index;
        return adversary.tamperAt(honest, K, (j, _op, _attrs, _inputs, out) => {
          if (j === op) (out.data as Float32Array)[0] = 16;
        });
      },
    }),
    await evaluatePolicy(ctxs[2], { policy: policies[2], beacon }),
  ];
  const claimedAt: bigint[] = [];
  for (const [i, c] of ctxs.entries()) claimedAt.push(await claimSwarmScore(c, round, runs[i]));
  // The defenders poll until the challenge window closes; if the round fails before, they are stopped with it.
  const stopDefending = new AbortController();
  const defending = ctxs.map((c, i) => defendSwarmClaim(c, { round, run: runs[i], fromBlock: claimedAt[i], signal: stopDefending.signal }));
  for (const d of defending) d.catch(() => undefined);
  const checks: Awaited<ReturnType<typeof checkSwarmClaim>>[] = [];
  try {
    for (const i of [0, 1]) checks.push(await checkSwarmClaim(ctxs[2], { round, node: ctxs[i].address, policy: policies[i], beacon }));
    await proveSwarmUse(ctxs[0], { round, rolloutHash: rollouts[0][1], ownRollouts: rollouts[0], user: ctxs[2].address, userUsedLeaves: used });
    await mineTo(s.challengeEnd);
    await Promise.all(defending);
  } catch (error) {
    stopDefending.abort();
    throw error;
  }
  await mineTo(s.useEnd);
  const collected: { paid: bigint; usePaid: bigint }[] = [];
  for (const c of ctxs) collected.push(await collectSwarmRound(c, round));
  await collectSwarmRound(ctxs[2], round + 1n, { use: false });
  const entries = await Promise.all(ctxs.map((c) => swarmGetEntry(o.publicClient, { coordinator, round, node: c.address })));
  if (!entries[1].refuted) throw new Error('the inflated score was not refuted');
  if (entries[0].refuted || entries[2].refuted) throw new Error('an honest score was refuted');
  const poolLeft = await balance(coordinator);
  const after = await Promise.all(o.nodes.map((n) => balance(n.wallet.account.address)));
  const burned = supplyBefore - (await supply());
  const challenge = checks[1];
  return {
    coordinator,
    round: round.toString(),
    nodes: o.nodes.map((n, i) => ({
      role: n.role,
      score: runs[i].score,
      claim: entries[i].refuted ? 'refuted' : 'stood',
      collected: formatUnits(collected[i].paid, 18),
      use: formatUnits(collected[i].usePaid, 18),
      delta: formatUnits(after[i] - before[i], 18),
    })),
    burned: formatUnits(burned, 18),
    ...(challenge && !challenge.agreed ? { dispute: { node: o.nodes[1].role, ...challenge.outcome } } : {}),
    poolLeft: formatUnits(poolLeft, 18),
  };
}
