/**
 * The experiment of the bench (and of `mycel assist --simulate`): a base assistant trained on a crowd of scripted
 * builders over the training houses; then, for each scripted person with a taste, held-out houses of that taste
 * built alone, with the base assistant, and with an assistant fine-tuned on that person's sessions (k sessions of a
 * few other held-out houses, built with the assistant, each followed by fine-tuning on all of the person's episodes).
 * Everything is a pure function of the options: the same figures on every run and machine.
 */
import { Rng } from '../../tensor/index.js';
import type { Rewards } from '../act.js';
import type { Episode } from '../episode.js';
import type { AssistModel } from '../model.js';
import { fineTune, type FineTuneSettings } from '../fine-tune.js';
import { trainAssistant } from '../train.js';
import { housesOf, type House } from './houses.js';
import { playSession, type SessionMetrics } from './session.js';
import { CROWD, PEOPLE, pickHouses, type Person } from './users.js';
import { BLOCKS_APP } from './world.js';

export type ExperimentOptions = {
  seed: number;
  /** Episodes of the crowd (on training houses) the base model learns from. */
  crowdEpisodes: number;
  baseSteps: number;
  /** Sessions of learning from each person (k). */
  sessions: number;
  goalsPerSession: number;
  fineTuneSteps: number;
  /** A lower rate than the base model's: a few episodes of one person should shift the model, not replace it. */
  fineTuneLr: number;
  /**
   * Adam's epsilon when fine-tuning (1e-8 for the base model). A fresh Adam moves every weight by about the rate at
   * its first steps, however small its gradient: the weights of features a person's few episodes hardly show (their
   * refusals of a roof, say) drifted, and the learned model lost what the base knew (cy's refused roofs came back).
   * With 1e-3 a weight whose gradient is far below it moves in proportion to it instead.
   */
  fineTuneEps: number;
  /**
   * Crowd episodes replayed beside the person's when fine-tuning (the app keeps some of the base model's data), so
   * that a dozen houses of one person shift the model towards them without it forgetting the rest; the person's
   * episodes are repeated to make about half of the examples. 0: the person's episodes alone.
   */
  replay: number;
  /** Held-out houses each person builds in each condition. */
  evalGoals: number;
  /** Ticks after which completion is measured. */
  horizon: number;
  rewards: Rewards;
};

export const EXPERIMENT_DEFAULTS: ExperimentOptions = {
  seed: 1, crowdEpisodes: 240, baseSteps: 800, sessions: 3, goalsPerSession: 8, fineTuneSteps: 100, fineTuneLr: 3e-4, fineTuneEps: 1e-3, replay: 96, evalGoals: 24, horizon: 40, rewards: { help: 1, wrong: 1 },
};

export type Progress = (line: string) => void;

/** The crowd's episodes on training houses, alone. */
export function crowdEpisodes(o: Pick<ExperimentOptions, 'seed' | 'crowdEpisodes' | 'horizon'>): Episode[] {
  const train = housesOf('train');
  const rng = new Rng(o.seed, 10);
  return Array.from({ length: o.crowdEpisodes }, (_, i) => {
    const person = CROWD[i % CROWD.length];
    const [house] = pickHouses(person, train, 1, rng);
    return playSession({ house, person, seed: o.seed * 1_000_003 + i, horizon: o.horizon }).episode;
  });
}

/**
 * The crowd on other training houses, each built with the assistant `model`: episodes where the assistant places
 * blocks and the person removes its wrong ones, which episodes built alone never show. `round` picks the houses and
 * draws (each round its own).
 */
export function assistedCrowdEpisodes(o: Pick<ExperimentOptions, 'seed' | 'crowdEpisodes' | 'horizon'>, model: AssistModel, round = 1): Episode[] {
  const train = housesOf('train');
  const rng = new Rng(o.seed, 10 + round);
  return Array.from({ length: Math.ceil(o.crowdEpisodes / 2) }, (_, i) => {
    const person = CROWD[i % CROWD.length];
    const [house] = pickHouses(person, train, 1, rng);
    return playSession({ house, person, model, seed: o.seed * 1_000_033 + round * 100_003 + i, horizon: o.horizon }).episode;
  });
}

/** Rounds of the base model's training in which the crowd builds with the model so far (trainBase). */
export const ASSISTED_ROUNDS = 2;

/**
 * The base model, in rounds. First on the crowd's episodes built alone (baseSteps); then, in each of ASSISTED_ROUNDS
 * rounds, the crowd builds half as many houses with the model so far as its assistant, and training goes on (a fresh
 * optimizer, baseSteps / 2) on every episode so far. These rounds are where the goal head learns what the person's
 * undo of its block says: built alone, no episode has one, and the first model, after an undo, believes what it
 * believed before and offers the same wrong guess at the next cell (a roof, a third layer, a closed door), undo after
 * undo; each round then shows the model the mistakes it makes itself. AssistanceZero trains its assistant on its own
 * interaction with the human model for the same reason. The commitment is the last round's.
 */
export function trainBase(o: ExperimentOptions, progress?: Progress): { model: AssistModel; commitment: string } {
  const episodes = crowdEpisodes(o);
  const log = (round: string, steps: number) => (s: number, loss: number) => { if (s % 100 === 0) progress?.(`base model, ${round}: step ${s}/${steps}, loss ${loss.toFixed(3)}`); };
  let r = trainAssistant(BLOCKS_APP, episodes, { seed: o.seed, steps: o.baseSteps, onStep: log('built alone', o.baseSteps) });
  const steps = Math.max(1, Math.round(o.baseSteps / 2));
  for (let round = 1; round <= ASSISTED_ROUNDS; round++) {
    progress?.(`base model: the crowd builds ${Math.ceil(o.crowdEpisodes / 2)} houses with it (round ${round} of ${ASSISTED_ROUNDS})...`);
    episodes.push(...assistedCrowdEpisodes(o, r.model, round));
    r = trainAssistant(BLOCKS_APP, episodes, { seed: o.seed + round, steps, from: r.model, onStep: log(`with its undos, round ${round}`, steps) });
  }
  return { model: r.model, commitment: r.commitment };
}

export type ConditionRow = {
  condition: 'alone' | 'assisted_base' | 'assisted_learned' | 'assisted_oracle';
  person: string;
  goals: number;
  human_actions: number;
  completion: number;
  done_rate: number;
  assistant_share: number;
  precision: number | null;
  noop_rate: number | null;
  undo_rate: number | null;
  assistant_placed: number;
  assistant_correct: number;
  /** The goals' blocks (non-air cells), summed over the goals. */
  goal_blocks: number;
  sessions?: number;
};

export function summarizeRuns(condition: ConditionRow['condition'], person: string, runs: { metrics: SessionMetrics; house: House }[]): ConditionRow {
  const sum = (f: (m: SessionMetrics) => number) => runs.reduce((a, r) => a + f(r.metrics), 0);
  const goalBlocks = runs.reduce((a, r) => a + r.house.grid.filter((v) => v !== 0).length, 0);
  const placed = sum((m) => m.assistantPlaced);
  const decisions = placed + sum((m) => m.assistantNoops);
  return {
    condition,
    person,
    goals: runs.length,
    human_actions: sum((m) => m.humanActions) / runs.length,
    completion: sum((m) => m.completionAtHorizon) / runs.length,
    done_rate: sum((m) => (m.done ? 1 : 0)) / runs.length,
    // The person removes only wrong blocks, so every right block of the assistant's stays in the house.
    assistant_share: sum((m) => m.assistantCorrect) / goalBlocks,
    precision: placed ? sum((m) => m.assistantCorrect) / placed : null,
    noop_rate: decisions ? sum((m) => m.assistantNoops) / decisions : null,
    undo_rate: placed ? sum((m) => m.undone) / placed : null,
    assistant_placed: placed,
    assistant_correct: sum((m) => m.assistantCorrect),
    goal_blocks: goalBlocks,
  };
}

/** A person's held-out houses for evaluation, and other held-out houses for its learning sessions. */
export function personHouses(person: Person, index: number, o: ExperimentOptions): { evalHouses: House[]; sessionHouses: House[][] } {
  const test = housesOf('test');
  const evalHouses = pickHouses(person, test, o.evalGoals, new Rng(o.seed, 100 + index));
  const rest = test.filter((h) => !evalHouses.includes(h));
  const rng = new Rng(o.seed, 200 + index);
  return { evalHouses, sessionHouses: Array.from({ length: o.sessions }, () => pickHouses(person, rest, o.goalsPerSession, rng)) };
}

export type PersonResult = { rows: ConditionRow[]; learned: AssistModel; commitments: string[] };

/** The settings of fine-tuning on a person in session `k` (0-based): the app's "Learn" takes those of session 0. */
export const fineTuneSettings = (o: ExperimentOptions, k = 0): FineTuneSettings => ({ seed: o.seed + 1 + k, steps: o.fineTuneSteps, batch: FINE_TUNE_BATCH, lr: o.fineTuneLr, eps: o.fineTuneEps });

/** States per fine-tuning step (the base model's batch too). */
export const FINE_TUNE_BATCH = 16;

export function runPerson(person: Person, index: number, base: AssistModel, o: ExperimentOptions, progress?: Progress, replay: readonly Episode[] = []): PersonResult {
  const { evalHouses, sessionHouses } = personHouses(person, index, o);
  const evaluate = (model: AssistModel | undefined, oracle = false) =>
    evalHouses.map((house, i) => ({ house, metrics: playSession({ house, person, model, oracle, seed: o.seed * 7919 + index * 1000 + i, horizon: o.horizon, rewards: o.rewards }).metrics }));
  const rows: ConditionRow[] = [summarizeRuns('alone', person.name, evaluate(undefined)), summarizeRuns('assisted_base', person.name, evaluate(base)), summarizeRuns('assisted_oracle', person.name, evaluate(undefined, true))];
  let model = base;
  const episodes: Episode[] = [];
  const commitments: string[] = [];
  sessionHouses.forEach((houses, k) => {
    houses.forEach((house, i) => episodes.push(playSession({ house, person, model, seed: o.seed * 104729 + index * 1000 + k * 100 + i, horizon: o.horizon, rewards: o.rewards }).episode));
    const r = fineTune(BLOCKS_APP, model, episodes, replay, fineTuneSettings(o, k));
    model = r.model;
    commitments.push(r.commitment);
    progress?.(`${person.name}: session ${k + 1}/${o.sessions} (${houses.length} houses), fine-tuned ${o.fineTuneSteps} steps on ${episodes.length} episodes`);
  });
  rows.push({ ...summarizeRuns('assisted_learned', person.name, evaluate(model)), sessions: o.sessions });
  return { rows, learned: model, commitments };
}

export type Summary = {
  summary: true;
  human_actions_saved: number;
  completion_alone: number;
  completion_assisted: number;
  precision: number;
  learned_over_base: number;
  /** The actions an assistant that knows the goal saves (playSession's oracle) over those the base saves: learned_over_base's ceiling. */
  oracle_over_base: number;
  human_actions_saved_learned: number;
  precision_learned: number;
  assistant_share: number;
  sessions: number;
};

/** The summary over every person's rows (means over goals, each person weighted by its goals). */
export function summarize(rows: readonly ConditionRow[], sessions: number): Summary {
  const of = (c: ConditionRow['condition']) => rows.filter((r) => r.condition === c);
  const total = (rs: ConditionRow[], f: (r: ConditionRow) => number) => rs.reduce((a, r) => a + f(r) * r.goals, 0);
  const goals = (rs: ConditionRow[]) => rs.reduce((a, r) => a + r.goals, 0);
  const [alone, base, learned, oracle] = [of('alone'), of('assisted_base'), of('assisted_learned'), of('assisted_oracle')];
  const actions = (rs: ConditionRow[]) => total(rs, (r) => r.human_actions);
  const precision = (rs: ConditionRow[]) => {
    const placed = rs.reduce((a, r) => a + r.assistant_placed, 0);
    return placed ? rs.reduce((a, r) => a + r.assistant_correct, 0) / placed : 0;
  };
  const saved = 1 - actions(base) / actions(alone);
  const savedLearned = 1 - actions(learned) / actions(alone);
  return {
    summary: true,
    human_actions_saved: saved,
    completion_alone: total(alone, (r) => r.completion) / goals(alone),
    completion_assisted: total(base, (r) => r.completion) / goals(base),
    precision: precision(base),
    learned_over_base: savedLearned / saved,
    oracle_over_base: (1 - actions(oracle) / actions(alone)) / saved,
    human_actions_saved_learned: savedLearned,
    precision_learned: precision(learned),
    assistant_share: base.reduce((a, r) => a + r.assistant_correct, 0) / base.reduce((a, r) => a + r.goal_blocks, 0),
    sessions,
  };
}

export const BENCH_PEOPLE = PEOPLE;
