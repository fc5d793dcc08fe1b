/**
 * The devnet's swarm on chain (docs/swarm-chain.md): a SwarmCoordinator for the swarm's policy model, its pool funded
 * by the deployer, and the devnet's three registered accounts as SAPO nodes in this process, playing a few rounds.
 *
 * Each SAPO round is the node code of `mycel swarm start` (swarm/round.ts) over the in-memory transport
 * (swarm/sapo-sim.ts): every node answers its questions with its policy, publishes its signed rollout, checks and
 * re-executes its peers' and takes a GRPO step on its own and its peers' questions. All start from one policy
 * pre-trained on the eval's task (devnet-policy.ts), so their scores are above 0 and the coordinator pays a score
 * share. On chain, round r: each node commits the policy that generated its rollout of round r, the root of that
 * rollout's leaf and the root of the leaves of round r-1 its last GRPO step trained on; the beacon is fixed; each
 * evaluates its committed policy on the beacon's tasks and claims the score, the cheating solver inflating its own
 * (16 right answers, 15 where its policy really answers all 16) every round; the honest nodes re-execute their peers' claims from the committed policy blobs
 * (opened against the committed hash) and the first to find the inflated one challenges it and plays the dispute to
 * the one-step proof, while the cheater defends with the same node code (node/swarm-chain.ts); the contributors prove
 * each use of their rollouts; everyone collects its bonds, score share and use share. Round R (one past the paid
 * ones) is committed only: its used roots prove the last paid round's uses.
 *
 * On a dev chain only: the windows are mined through at once (a real chain waits them out, minutes to hours).
 * Everything in the summary is read from the chain: scores and claims (getEntry), payouts (Collected and
 * UseCollected events), balances, the supply and the pool.
 */
import { formatUnits, type Address, type Hex, type PublicClient, type TestClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getContractEvents, readContract } from 'viem/actions';
import { deploySwarmCoordinator } from '../chain/deploy.js';
import { approve, MycelTokenAbi, swarmGetEntry, swarmRolloutLeaf, swarmSchedule, type MycelWalletClient, type SwarmGroup, type SwarmUsedGroup } from '../chain/index.js';
import { checkSwarmStep, usedLeavesOf } from './swarm-step.js';
import { SwarmCoordinatorAbi } from '../chain/generated/SwarmCoordinator.js';
import { identityFromRaw } from '../p2p/identity.js';
import { openPolicyBlob } from '../swarm/rollout-policy.js';
import { createSapoNode, publishedGroupsOf, swarmTokenizer } from '../swarm/round.js';
import { rebuildStep, type UsedGroup } from '../swarm/grpo-step.js';
import type { Rollout } from '../swarm/rollout-message.js';
import { simRound, type SimMember } from '../swarm/sapo-sim.js';
import { stateHash, type TrainState } from '../train/index.js';
import type { PolicyBlob } from '../swarm/rollout-policy.js';
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
  type SwarmEvalRun,
} from './swarm-chain.js';
import { addressOfPeer, chainGroupOf, chainUsedGroupOf, inflateScore, rolloutHashOf } from './swarm-node-chain.js';
import { DEVNET_SWARM_MODEL, devnetSwarmConfig, DEVNET_PRETRAIN, type StartingPolicy } from './devnet-policy.js';

const MYC = (n: number) => BigInt(n) * 10n ** 18n;
const fmt = (x: bigint) => formatUnits(x, 18);

/** Paid rounds (0 .. ROUNDS-1); round ROUNDS is committed only, for the last round's use proofs. */
export const DEVNET_SWARM_ROUNDS = 3;

export type DevnetSwarmNode = {
  role: string;
  /** Its key: its chain account and, as a SAPO node, its PeerId (one key is both). */
  privateKey: Hex;
  wallet: MycelWalletClient;
  tx(action: string, gas: bigint): void;
  /** The node's data dir (its eval runs go under swarm/). */
  dataDir: string;
};

export type DevnetSwarmNodeSummary = {
  role: string;
  address: Address;
  /** Per paid round, the score it claimed and whether the claim stood (from getEntry). */
  scores: number[];
  claims: ('stood' | 'refuted' | 'none')[];
  /** Per round, the mean reward of its own completions in the SAPO round (the task's verifier, recomputed by peers). */
  sapoReward: number[];
  /** Proven uses of its rollouts by the other nodes, over the paid rounds. */
  uses: number;
  /** Paid by the coordinator (Collected and UseCollected events): bonds back, score share, use share. */
  bonds: string;
  scoreShare: string;
  useShare: string;
  /** Its balance's change over the swarm (bonds in and out, rewards, dispute prizes). */
  net: string;
};

export type DevnetSwarmSummary = {
  coordinator: Address;
  rounds: number;
  nodes: DevnetSwarmNodeSummary[];
  disputes: { round: number; node: string; challenger: string; loser: string; at: string; moves: number }[];
  /** The verifier's re-executions of its peers' committed GRPO steps (the batch behind each used root): how many, how many agreed. */
  steps: { checked: number; agreed: number };
  burned: string;
  /** What left the pool (score and use shares), and what stays in the coordinator once everyone collected. */
  poolPaid: string;
  poolLeft: string;
  policy: { model: string; steps: number; cached: boolean; seconds: number; waited: number };
  /** Where the swarm's time went, in seconds. */
  time: { phase: string; seconds: number }[];
};

/**
 * The swarm with `nodes` = [honest, cheater, checker] (registered, funded). Throws if it does not end as the
 * protocol says (an inflated claim stands, an honest one is refuted, a score share is not paid).
 */
export async function runDevnetSwarm(o: {
  publicClient: PublicClient;
  testClient: TestClient;
  deployer: MycelWalletClient;
  contracts: { token: Address; registry: Address; disputeGame: Address };
  nodes: [DevnetSwarmNode, DevnetSwarmNode, DevnetSwarmNode];
  /** The starting policy (pre-trained meanwhile, or cached). */
  policy: Promise<StartingPolicy>;
  rounds?: number;
  log(text: string): void;
}): Promise<DevnetSwarmSummary> {
  const R = o.rounds ?? DEVNET_SWARM_ROUNDS;
  const time = new Map<string, number>();
  const timed = async <T>(phase: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      time.set(phase, (time.get(phase) ?? 0) + (performance.now() - t0) / 1000);
    }
  };
  const balance = (who: Address) => readContract(o.publicClient, { address: o.contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] });
  const supply = () => readContract(o.publicClient, { address: o.contracts.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
  const before = await Promise.all(o.nodes.map((n) => balance(n.wallet.account.address)));
  const supplyBefore = await supply();

  const waitStarted = performance.now();
  const start = await o.policy;
  const waited = (performance.now() - waitStarted) / 1000;
  o.log(`swarm: starting policy ${stateHash(start.state).slice(0, 10)}… ${start.cached ? `read from ${start.file}` : `pre-trained in ${start.seconds} s`}${waited >= 0.1 ? ` (waited ${waited.toFixed(1)} s for it)` : ''}`);
  const program = await timed('deploy', () => swarmProgramOf(DEVNET_SWARM_MODEL, devnetSwarmConfig()));
  const deployed = await timed('deploy', () => deploySwarmCoordinator(o.deployer, {
    token: o.contracts.token,
    registry: o.contracts.registry,
    game: o.contracts.disputeGame,
    // Windows in blocks, mined through at once: a round's commits, beacon, claims, a dispute (~25 moves) and use
    // proofs fit in its 100 commit blocks, so round r's work is done before round r+1's beacon.
    timing: { commitBlocks: 100, claimBlocks: 50, challengeBlocks: 50 },
    economics: { commitBond: MYC(1), claimBond: MYC(10), rewardPerRound: MYC(100), rounds: R, useShareBps: 2_000 },
    programs: [program],
    swarmId: devnetSwarmConfig().swarmId,
  }));
  const coordinator = deployed.coordinator;
  o.log(`swarm: deployed the SwarmCoordinator ${coordinator} (pool ${fmt(deployed.pool)} MYC for ${R} rounds) for the swarm's policy model`);
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
  for (const [i, c] of ctxs.entries()) o.nodes[i].tx('swarm approve', (await approve(c.wallet, { token: o.contracts.token, spender: coordinator, amount: MYC(1_000) })).gasUsed);

  // The SAPO nodes: one key is the PeerId that signs rollouts and the account that commits them.
  const config = devnetSwarmConfig();
  let members: SimMember[] = o.nodes.map((n) => {
    const key = Uint8Array.from(Buffer.from(n.privateKey.slice(2), 'hex'));
    const identity = identityFromRaw(key);
    if (identity.address !== privateKeyToAccount(n.privateKey).address) throw new Error('a node\'s PeerId and account differ');
    return { node: createSapoNode({ id: identity.peerId.toString(), key, config, program: start.program, policy: start.state }) };
  });
  const cheater = 1;
  const checkers = [2, 0];
  const tokenizerJson = JSON.stringify(swarmTokenizer().toJSON());
  /**
   * Per round: each node's committed policy and its blob (what peers fetch), its rollout message, the hashes of its
   * published groups (its rollouts root's leaves), the groups its step trained on (by PeerId as SAPO names them, and
   * by address as the chain does) and their leaves (its used root).
   */
  const rounds: { policy: TrainState; blob: PolicyBlob; rollout: Rollout; groups: SwarmGroup[]; usedPeers: UsedGroup[]; usedGroups: SwarmUsedGroup[]; used: Hex[] }[][] = [];
  const steps = { checked: 0, agreed: 0 };
  const sapoReward: number[][] = o.nodes.map(() => []);
  const runs: SwarmEvalRun[][] = [];
  const disputes: DevnetSwarmSummary['disputes'] = [];
  const stopDefending = new AbortController();
  const defending: Promise<unknown>[] = [];
  let usedPeers: UsedGroup[][] = o.nodes.map(() => []);

  /** Round r's claims: evaluate, claim (the cheater inflated), defend; the checkers re-execute and challenge. */
  const settle = async (r: number) => {
    const round = BigInt(r);
    const beacon = await roundBeacon(ctxs[2], round);
    if (!beacon) throw new Error(`round ${r} went void`);
    const evals = await timed('evaluate and claim', async () => {
      const out: SwarmEvalRun[] = [];
      for (const [i, c] of ctxs.entries()) {
        const run = await evaluatePolicy(c, { policy: { model: start.program.model, state: rounds[r][i].policy }, beacon, ...(i === cheater ? { program: inflateScore } : {}) });
        const at = await claimSwarmScore(c, round, run);
        const d = defendSwarmClaim(c, { round, run, fromBlock: at, signal: stopDefending.signal });
        d.catch(() => undefined);
        defending.push(d);
        out.push(run);
      }
      return out;
    });
    runs.push(evals);
    await timed('check and dispute', async () => {
      for (const k of checkers) {
        for (const [i, c] of ctxs.entries()) {
          if (i === k) continue;
          const entry = await swarmGetEntry(o.publicClient, { coordinator, round, node: c.address });
          if (entry.refuted) continue;
          // The peer's policy blob as the swarm served it, opened against the hash it committed.
          const blob = rounds[r][i].blob;
          const opened = openPolicyBlob(blob.bytes, { hash: entry.policyHash.slice(2), cid: blob.cid }, tokenizerJson);
          if (!opened.ok) throw new Error(`${o.nodes[i].role}'s committed policy blob does not open: ${opened.reason}`);
          const checked = await checkSwarmClaim(ctxs[k], { round, node: c.address, policy: { model: opened.policy.program.model, state: opened.policy.state }, beacon });
          if (!checked.agreed) disputes.push({ round: r, node: o.nodes[i].role, challenger: o.nodes[k].role, ...checked.outcome });
        }
      }
    });
  };

  /**
   * The verifier re-executes each peer's GRPO step behind its commit of round r (from its committed policy of round
   * r-1 and the groups it lists, rebuilt from round r-1's rollout messages) and challenges a step whose run root is
   * not the committed one; every node here is honest about its steps, so a challenge is a failure of the scenario.
   */
  const checkSteps = (r: number) =>
    timed('check GRPO steps', async () => {
      const k = checkers[0];
      for (const [i, c] of ctxs.entries()) {
        if (i === k || rounds[r][i].usedGroups.length === 0) continue;
        const prev = rounds[r - 1][i].policy;
        const rebuilt = rebuildStep(start.program, prev, rounds[r][i].usedPeers, rounds[r - 1].map((x) => x.rollout), config);
        if ('missing' in rebuilt) throw new Error(`${o.nodes[i].role}'s step lists ${rebuilt.missing.length} group(s) no rollout of round ${r - 1} holds`);
        const checked = await checkSwarmStep(ctxs[k], { round: BigInt(r), node: c.address, prev, next: rounds[r][i].policy, used: rounds[r][i].usedGroups, step: rebuilt.program });
        steps.checked++;
        if (!checked.agreed) throw new Error(`${o.nodes[i].role}'s honest GRPO step of round ${r} was challenged (${checked.outcome.loser} lost)`);
        steps.agreed++;
      }
    });

  /** The uses of round r's rollouts in the users' round r+1 used roots, proven by their contributors whose claim stood. */
  const proveUses = (r: number) =>
    timed('prove use', async () => {
      for (const [c, ctx] of ctxs.entries()) {
        const entry = await swarmGetEntry(o.publicClient, { coordinator, round: BigInt(r), node: ctx.address });
        // Only a standing claim earns a use share, and only its node may prove (proveUse refuses others: SwarmNotEligible);
        // only a useful group's use is paid. Round 0's uses are not proven: they could not be while the coordinator asked
        // for the round before's commit; it no longer does, but proving them would move the payouts docs quote.
        if (entry.refuted || !entry.claimed || r === 0) continue;
        for (const group of rounds[r][c].groups.filter((g) => g.useful)) {
          const leaf = swarmRolloutLeaf(ctx.address, group);
          for (const [u, user] of ctxs.entries()) {
            if (u === c || !rounds[r + 1][u].used.some((l) => l.toLowerCase() === leaf.toLowerCase())) continue;
            await proveSwarmUse(ctx, { round: BigInt(r), group, ownGroups: rounds[r][c].groups, user: user.address, userUsedLeaves: rounds[r + 1][u].used });
          }
        }
      }
    });

  try {
    for (let r = 0; r <= R; r++) {
      // SAPO round r: rollouts from the policies as they are, then each node's GRPO step.
      const committed = members.map((m) => ({ policy: m.node.policy, blob: m.node.blob }));
      const sapo = await timed('SAPO rounds (rollouts, checks, GRPO steps)', () => simRound(members, r));
      members = sapo.members;
      // The leaves of each node's rollouts root: one per published group (the message's own hash if none fits).
      const groups = members.map((m): SwarmGroup[] => {
        const published = publishedGroupsOf(m.node, m.previous!).map((g) => chainGroupOf({ index: g.index, groupHash: g.hash, useful: g.useful }));
        return published.length ? published : [{ index: 0, groupHash: rolloutHashOf(m.previous!), useful: false }];
      });
      const usedGroups = usedPeers.map((list) => list.map(chainUsedGroupOf));
      rounds.push(members.map((m, i) => ({ ...committed[i], rollout: m.previous!, groups: groups[i], usedPeers: usedPeers[i], usedGroups: usedGroups[i], used: usedLeavesOf(usedGroups[i]) })));
      for (const [i, m] of sapo.result.metrics.entries()) sapoReward[i].push(m.reward);
      o.log(`swarm: SAPO round ${r}: rewards ${sapo.result.metrics.map((m) => m.reward.toFixed(2)).join(', ')}; trained on ${sapo.result.metrics.map((m) => `${m.trainedOwn}+${m.trainedExternal}`).join(', ')} questions; ${sapo.result.verdicts.length} rollouts refused by their checks (${sapo.result.seconds.toFixed(1)} s)`);
      // What each node's GRPO step trained on, in batch order: the groups of this round behind next round's used root.
      usedPeers = sapo.result.used;

      const s = await swarmSchedule(o.publicClient, { coordinator, round: BigInt(r) });
      await mineTo(s.opens);
      await timed('commit and beacon', async () => {
        for (const [i, c] of ctxs.entries()) await commitSwarmRound(c, { round: BigInt(r), policy: { model: start.program.model, state: rounds[r][i].policy }, groups: rounds[r][i].groups, usedLeaves: rounds[r][i].used, modelConfig: program.modelConfig });
      });
      if (r > 0) {
        await checkSteps(r);
        await settle(r - 1);
        await proveUses(r - 1);
      }
      if (r < R) {
        await mineTo(s.deadline + 1n);
        await timed('commit and beacon', () => roundBeacon(ctxs[2], BigInt(r)));
      }
    }
    // Every window closed: round R's challenge window (its commit bond) and round R-1's use window.
    const last = await swarmSchedule(o.publicClient, { coordinator, round: BigInt(R) });
    const lastUse = (await swarmSchedule(o.publicClient, { coordinator, round: BigInt(R - 1) })).useEnd;
    await mineTo(last.challengeEnd > lastUse ? last.challengeEnd : lastUse);
    await Promise.all(defending);
  } catch (error) {
    stopDefending.abort();
    throw error;
  }
  await timed('collect', async () => {
    for (let r = 0; r <= R; r++) for (const c of ctxs) await collectSwarmRound(c, BigInt(r), { use: r < R });
  });

  // The summary, from the chain.
  const entries = await Promise.all(ctxs.map((c) => Promise.all(Array.from({ length: R }, (_, r) => swarmGetEntry(o.publicClient, { coordinator, round: BigInt(r), node: c.address })))));
  const events = async (eventName: 'Collected' | 'UseCollected') =>
    (await getContractEvents(o.publicClient, { address: coordinator, abi: SwarmCoordinatorAbi, eventName, fromBlock: 0n })) as unknown as { args: { node: Address; bonds?: bigint; reward: bigint } }[];
  const collected = await events('Collected');
  const useCollected = await events('UseCollected');
  const sumOf = (logs: typeof collected, node: Address, f: (a: (typeof collected)[number]['args']) => bigint) => logs.filter((l) => l.args.node.toLowerCase() === node.toLowerCase()).reduce((s, l) => s + f(l.args), 0n);
  const after = await Promise.all(o.nodes.map((n) => balance(n.wallet.account.address)));
  const poolLeft = await balance(coordinator);
  const nodes = o.nodes.map((n, i): DevnetSwarmNodeSummary => {
    const address = ctxs[i].address;
    return {
      role: n.role,
      address,
      scores: entries[i].map((e) => e.score),
      claims: entries[i].map((e) => (!e.claimed ? 'none' : e.refuted ? 'refuted' : 'stood')),
      sapoReward: sapoReward[i].slice(0, R),
      uses: entries[i].reduce((s, e) => s + e.uses, 0),
      bonds: fmt(sumOf(collected, address, (a) => a.bonds!)),
      scoreShare: fmt(sumOf(collected, address, (a) => a.reward)),
      useShare: fmt(sumOf(useCollected, address, (a) => a.reward)),
      net: fmt(after[i] - before[i]),
    };
  });
  if (!entries[cheater].every((e) => e.refuted)) throw new Error('an inflated score was not refuted');
  if (entries.some((es, i) => i !== cheater && es.some((e) => e.refuted))) throw new Error('an honest score was refuted');
  const scorePaid = nodes.reduce((s, n) => s + Number(n.scoreShare), 0);
  if (scorePaid === 0) throw new Error(`no score share was paid: the honest policies scored ${nodes.filter((_, i) => i !== cheater).map((n) => n.scores.join('/')).join(' and ')} on the eval`);
  const order = ['deploy', 'SAPO rounds (rollouts, checks, GRPO steps)', 'commit and beacon', 'check GRPO steps', 'evaluate and claim', 'check and dispute', 'prove use', 'collect'];
  return {
    coordinator,
    rounds: R,
    nodes,
    disputes,
    steps,
    burned: fmt(supplyBefore - (await supply())),
    poolPaid: fmt(collected.reduce((s, l) => s + l.args.reward, 0n) + useCollected.reduce((s, l) => s + l.args.reward, 0n)),
    poolLeft: fmt(poolLeft),
    policy: { model: 'GPT d=32, 2 layers', steps: DEVNET_PRETRAIN.steps, cached: start.cached, seconds: start.seconds, waited: Math.round(waited * 10) / 10 },
    time: order.filter((p) => time.has(p)).map((phase) => ({ phase, seconds: Math.round(time.get(phase)! * 10) / 10 })),
  };
}

