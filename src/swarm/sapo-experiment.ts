/**
 * The SAPO experiment at small scale (bench/swarm.ts runs it): 8 nodes in one process over the
 * in-memory transport, the same number of trained questions per round in every setting (I + J), one
 * pre-trained starting policy per seed shared by every node. Settings as in the SAPO paper (8/0, 6/2,
 * 4/4, 2/6), a non-IID variant (each node asks one of the tasks) and a poisoned one (one node forges
 * answers and inflates rewards; it is not counted).
 */
import { identityFromRaw } from '../p2p/identity.js';
import { createSapoNode } from './round.js';
import { parseSapoConfig, type SapoConfig, type SapoConfigInput } from './sapo-config.js';
import { buildProgram, heldoutAccuracy, policySpec, pretrainPolicy, type PolicyModel } from './sapo-policy.js';
import { simRound, type SimMember } from './sapo-sim.js';
import { evalProgram } from './eval-program.js';
import { roundPayouts, type PayoutEntry } from '../chain/swarm-payout.js';
import { sha256 } from '../platform/sha256.js';
import type { TrainState } from '../train/index.js';

export const SETTINGS = ['8/0', '6/2', '4/4', '2/6', '4/4-noniid', '8/0-noniid', '4/4-poisoned'] as const;
export type Setting = (typeof SETTINGS)[number];

/** deadline: a wall-clock time (ms, performance.now()) after which a swarm stops at the end of its round. */
export type ExperimentOptions = { nodes: number; rounds: number; deadline?: number; model: PolicyModel; pretrainSteps: number; heldout: number; base: SapoConfigInput; threshold: number };

/** The bench's tasks: small question spaces (100, 300 and 300 questions) with answers of at most 3 tokens. */
export const EXPERIMENT_TASKS: { name: string; config: Record<string, number> }[] = [
  { name: 'addition', config: { digits: 1 } },
  { name: 'arithmetic', config: { terms: 2, digits: 1 } },
  { name: 'modular', config: { modulus: 10 } },
];

/**
 * The bench's swarm, sized so that an hour on 2 shared cores holds ~100 rounds of 7 settings x 3
 * seeds: a context of 12 tokens (the longest prompt, "(9*9)%10=", plus 3 answer tokens) and the
 * preset's 2-layer GPT at width 48, pre-trained 2,000 steps on the mix's addition, arithmetic and
 * modular tasks (at the mix's sizes). On the bench's tasks it samples a right answer 16% (1-digit
 * addition), 10% (2-term arithmetic) and 42% (mod 10) of the time at temperature 1, and 46-84% of
 * 8-completion groups have mixed rewards. GRPO at lr 3e-4 with L = 8 (measured with one node alone:
 * reward 0.24 -> 0.28-0.37 over 150 rounds; lr 1e-3 and 3e-3 lowered it).
 */
export const EXPERIMENT_DEFAULTS: ExperimentOptions = {
  nodes: 8,
  rounds: 100,
  model: { contextLength: 12, dModel: 48, layers: 2, heads: 4, mlpHidden: 192 },
  pretrainSteps: 2000,
  heldout: 64,
  threshold: 0.5,
  base: { swarmId: 'bench', tasks: EXPERIMENT_TASKS, completions: 8, maxTokens: 3, temperature: 1, reexecFraction: 0.25, lr: 3e-4 },
};

export type SettingResult = {
  setting: Setting;
  seed: number;
  rounds: number;
  cumulative_reward: number;
  heldout_accuracy: number;
  heldout_per_task: Record<string, number>;
  rounds_to_threshold: number | null;
  /** Mean reward per round over the first and the last tenth of the rounds: did the swarm learn? */
  reward_first: number;
  reward_last: number;
  /** The mean reward of each round: the summary compares settings over the rounds every row has. */
  rewards: number[];
  bytes_per_round: number;
  round_seconds: number;
  rejected: number;
  /** Of the external questions the honest nodes trained on, the share that honest nodes wrote (poisoned setting: is the poisoner kept out?). */
  honest_share: number | null;
  /**
   * Poisoned setting: of the rewards the swarm coordinator's payout rule pays over the rounds (chain/swarm-payout.ts,
   * checked against the contract on anvil), the share paid to the honest nodes. Each round every node claims its
   * committed policy's score on the eval (16 two-digit additions drawn from the round's beacon) and proves each use
   * of its rollout by a peer's GRPO step; the poisoner claims its true score (an inflated claim is refuted on chain:
   * the devnet and test/chain show it) and is paid for the uses it gets. Null in the other settings.
   */
  honest_reward_share?: number | null;
};

/** The coordinator's economics the bench's payouts follow (mycel devnet's): 100 MYC a round, 20% of it by use. */
export const PAYOUT_RULES = { rewardPerRound: 100n * 10n ** 18n, useShareBps: 2_000 };

/** A round's eval beacon for a bench swarm (a chain would take a block hash). */
const evalBeacon = (swarmId: string, round: number) => sha256(new TextEncoder().encode(`${swarmId} eval beacon ${round}`));

/** The score of `policy` on the eval of `beacon`: the eval program's steps run, its last writes the score. */
function evalScore(program: StartingPolicy['program'], policy: TrainState, beacon: Uint8Array): number {
  const ev = evalProgram(program.model, policy, beacon);
  let state = ev.init();
  for (let t = 0; t < ev.spec.steps; t++) state = ev.step(state).state;
  return ev.score(state);
}

/** A round's RL health, means over the honest nodes (the bench prints it as progress). */
export type RoundHealth = { reward: number; ownEqual: number; meanAbsAdvantage: number; gradNorm: number; seconds: number };

export type StartingPolicy = { program: ReturnType<typeof buildProgram>; state: TrainState };

/**
 * The swarm's starting policy: the `policy` preset's job (its seed), `pretrainSteps` steps. Every seed
 * of the experiment starts from it (a seed varies the swarm: its questions, sampling and keys), so it is
 * made once; `cached` may return it from an earlier run (it is a pure function of the spec).
 */
export function startingPolicy(config: SapoConfig, steps: number, model: PolicyModel, cached?: (program: StartingPolicy['program'], make: () => TrainState) => TrainState): StartingPolicy {
  const program = buildProgram(policySpec(config, { steps, model }));
  const make = () => pretrainPolicy(program);
  return { program, state: cached ? cached(program, make) : make() };
}

function keyOf(seed: number, i: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, b) => (b === 30 ? seed % 251 : b === 31 ? i + 1 : 0x5a));
}

export function runSetting(setting: Setting, seed: number, start: { program: ReturnType<typeof buildProgram>; state: TrainState }, o: ExperimentOptions, onRound?: (round: number, health: RoundHealth) => void): SettingResult {
  const [split, variant] = setting.split('-');
  const [own, external] = split.split('/').map(Number);
  const config = parseSapoConfig({ ...o.base, swarmId: `${o.base.swarmId ?? 'bench'}-${seed}`, own, external });
  const tasks = config.tasks.map((t) => t.name);
  let members: SimMember[] = Array.from({ length: o.nodes }, (_, i) => {
    const identity = identityFromRaw(keyOf(seed, i));
    const asks = variant === 'noniid' ? [tasks[i % tasks.length]] : undefined;
    return {
      node: createSapoNode({ id: identity.peerId.toString(), key: keyOf(seed, i), config, asks, program: start.program, policy: start.state }),
      hostile: variant === 'poisoned' && i === o.nodes - 1 ? 'poisoned' : undefined,
    };
  });
  let cumulative = 0;
  let bytes = 0;
  let seconds = 0;
  let rejected = 0;
  let toThreshold: number | null = null;
  let externalTotal = 0;
  let externalHonest = 0;
  const rewards: number[] = [];
  const paid = { honest: 0n, all: 0n };
  for (let round = 0; round < o.rounds && !(o.deadline !== undefined && performance.now() >= o.deadline); round++) {
    // What each node commits this round: the policy its rollout comes from.
    const committed = members.map((m) => m.node.policy);
    const { members: next, result } = simRound(members, round);
    members = next;
    if (variant === 'poisoned') {
      const beacon = evalBeacon(config.swarmId, round);
      const entries: PayoutEntry[] = members.map((m, i) => ({
        score: evalScore(start.program, committed[i], beacon),
        claimed: true,
        refuted: false,
        // A use: a peer's GRPO step of this round trained on one of its questions (each user counts once).
        uses: result.metrics.filter((u) => u.node !== m.node.id && u.externalFrom.includes(m.node.id)).length,
      }));
      for (const [i, p] of roundPayouts(round, entries, { ...PAYOUT_RULES, rounds: o.rounds }).entries()) {
        paid.all += p.score + p.use;
        if (!members[i].hostile) paid.honest += p.score + p.use;
      }
    }
    const honest = result.metrics.filter((_, i) => !members[i].hostile);
    const hostileIds = new Set(members.filter((m) => m.hostile).map((m) => m.node.id));
    for (const m of honest) {
      externalTotal += m.externalFrom.length;
      externalHonest += m.externalFrom.filter((a) => !hostileIds.has(a)).length;
    }
    const reward = honest.reduce((s, m) => s + m.reward, 0) / honest.length;
    cumulative += reward;
    rewards.push(reward);
    // The threshold is on the share of sampled answers that are right (a question's pass@L starts high).
    if (toThreshold === null && reward >= o.threshold) toThreshold = round + 1;
    bytes += result.bytes;
    seconds += result.seconds;
    rejected += result.verdicts.length;
    const mean = (f: (m: (typeof honest)[number]) => number | undefined) => honest.reduce((a, m) => a + (f(m) ?? 0), 0) / honest.length;
    onRound?.(round, { reward, ownEqual: mean((m) => m.ownEqual), meanAbsAdvantage: mean((m) => m.meanAbsAdvantage), gradNorm: mean((m) => m.gradNorm), seconds: result.seconds });
  }
  const perTask: Record<string, number> = {};
  const honestNodes = members.filter((m) => !m.hostile).map((m) => m.node);
  for (const node of honestNodes) {
    const acc = heldoutAccuracy(node.program, node.policy, config, o.heldout);
    for (const [task, a] of Object.entries(acc)) perTask[task] = (perTask[task] ?? 0) + a / honestNodes.length;
  }
  const values = Object.values(perTask);
  return {
    setting,
    seed,
    rounds: rewards.length,
    cumulative_reward: cumulative,
    heldout_accuracy: values.reduce((a, b) => a + b, 0) / values.length,
    heldout_per_task: perTask,
    rounds_to_threshold: toThreshold,
    reward_first: meanOf(rewards.slice(0, Math.ceil(rewards.length / 10))),
    reward_last: meanOf(rewards.slice(-Math.ceil(rewards.length / 10))),
    rewards,
    bytes_per_round: bytes / rewards.length,
    round_seconds: seconds / rewards.length,
    rejected,
    honest_share: externalTotal > 0 ? externalHonest / externalTotal : null,
    ...(variant === 'poisoned' ? { honest_reward_share: paid.all > 0n ? Number((paid.honest * 1_000_000n) / paid.all) / 1_000_000 : null } : {}),
  };
}

const meanOf = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Means over seeds of each setting's cumulative reward over the first K rounds, K the fewest rounds
 * any row ran (rows cut by a deadline differ), and the ratios the issue asks for.
 */
export function summarize(results: readonly SettingResult[]) {
  const rounds = Math.min(...results.map((r) => r.rewards?.length ?? r.rounds));
  const cumulative = (r: SettingResult) => (r.rewards ? r.rewards.slice(0, rounds).reduce((a, b) => a + b, 0) : r.cumulative_reward);
  const mean = (s: Setting) => {
    const rows = results.filter((r) => r.setting === s);
    return rows.length ? rows.reduce((a, r) => a + cumulative(r), 0) / rows.length : NaN;
  };
  return {
    summary: true,
    rounds,
    gain_4_4_over_8_0: mean('4/4') / mean('8/0') - 1,
    gain_noniid: mean('4/4-noniid') / mean('8/0-noniid') - 1,
    poisoned_over_clean: mean('4/4-poisoned') / mean('4/4'),
    honest_reward_share: (() => {
      const shares = results.filter((r) => r.setting === '4/4-poisoned' && typeof r.honest_reward_share === 'number').map((r) => r.honest_reward_share!);
      return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
    })(),
    poisoned_honest_share: (() => {
      const shares = results.filter((r) => r.setting === '4/4-poisoned' && r.honest_share !== null).map((r) => r.honest_share!);
      return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
    })(),
    mean_cumulative_reward: Object.fromEntries(SETTINGS.map((s) => [s, mean(s)])),
  };
}
