/**
 * Training the two networks on episodes, as a deterministic program on the reproducible runtime: the same model,
 * episodes, seed and options give the same bits on every machine, every step's state is hashed as a training job's
 * is (train/state.ts), and the run's commitment is the Merkle root over those hashes, as a job's on the market.
 *
 * Examples: every state just before one of the person's actions, and the final state. The goal head learns the
 * episode's final grid at every cell (cross-entropy over values); the human model learns the cell the person acted
 * on next (cross-entropy over cells; the final state has none and is masked out). Both losses are summed. The final
 * state matters: without it the goal head only ever sees "walls done, no roof yet" in houses that get a roof (for
 * the others that state ends the episode), and learns that a roof always follows.
 */
import type { TokenBatch } from '../data/index.js';
import { adamw, valueAndGrad, type Params } from '../nn/index.js';
import { Rng, Tensor, crossEntropy } from '../tensor/index.js';
import { runCommitment } from '../train/commitment.js';
import type { JobProgram } from '../train/program.js';
import { stateHash, type TrainState } from '../train/state.js';
import { cellCount, type AppSpec } from './app.js';
import { gridFromBase64, type Episode } from './episode.js';
import { encodeState, featureCount } from './features.js';
import { applyHeads, DEFAULT_CONFIG, initModel, type AssistModel, type ModelConfig } from './model.js';

/** The RNG stream that draws each step's examples. */
export const DATA_STREAM = 2;

/** next = -1 for the final state (the person did nothing more); refused[c] = 1 where the person had removed a block of the assistant's. */
export type Example = { grid: Uint8Array; last: number; next: number; goal: Uint8Array; refused: Uint8Array };

/** The examples of episodes, in order (episode by episode, step by step). */
export function examplesOf(episodes: readonly Episode[]): Example[] {
  const out: Example[] = [];
  for (const ep of episodes) {
    const goal = gridFromBase64(ep.states[ep.states.length - 1]);
    let last = -1;
    // The assistant's blocks the person has not touched are not evidence (see Observation.assistantCells): the
    // examples see the grid without them, as the assistant does when it decides.
    const mine = new Set<number>();
    const evidence = (grid: Uint8Array) => {
      for (const c of mine) grid[c] = 0;
      return grid;
    };
    // The person's removals of the assistant's blocks, as the assistant sees them (Observation.refused).
    const refused = new Uint8Array(goal.length);
    ep.steps.forEach((s, i) => {
      if (s.kind === 'noop') return;
      if (s.who === 'assistant') {
        mine.add(s.cell);
        return;
      }
      out.push({ grid: evidence(gridFromBase64(ep.states[i])), last, next: s.cell, goal, refused: refused.slice() });
      if (s.kind === 'remove' && mine.has(s.cell)) refused[s.cell] = 1;
      mine.delete(s.cell);
      last = s.cell;
    });
    out.push({ grid: evidence(goal.slice()), last, next: -1, goal, refused });
  }
  return out;
}

export type TrainOptions = {
  seed: number;
  steps: number;
  /** States per step. */
  batch?: number;
  lr?: number;
  /** Adam's epsilon (default 1e-8). */
  eps?: number;
  /** Fine-tune this model (a fresh optimizer) instead of starting from a new one. */
  from?: AssistModel;
  config?: ModelConfig;
  onStep?: (step: number, loss: number) => void;
};

/** state: the final training state (parameters and optimizer), whose hash is the last step hash. */
export type TrainResult = { model: AssistModel; state: TrainState; stepHashes: string[]; commitment: string; losses: number[]; examples: number };

/** What a run of the assistant's training is, beside the examples: a market job's spec gives the same (assist/job.ts). */
export type TrainSettings = { seed: number; steps: number; batch: number; lr: number; base: AssistModel; eps?: number };

/** The steps of a training run: what a market job runs (assist/job.ts), the runner, the verifiers and the game. */
export type AssistSteps = Pick<JobProgram, 'tokensPerStep' | 'batch' | 'init' | 'step'> & { examples: number };

/**
 * The training run as a deterministic program over TrainStates. Step s trains on the examples drawn s-th from the
 * seed's data stream; its batch, as the dispute game commits it, holds those example numbers (`inputs`, [batch, 1]),
 * the cell each state's next action is at (`targets`) and whether there was one (`mask`): the human model's target
 * and mask are those tensors. The states' features and goal grids are computed from the examples and enter the step
 * as constants of its step program (committed in its op rules, so the game binds them too).
 */
export function assistSteps(app: AppSpec, examples: readonly Example[], { seed, steps, batch, lr, base, eps }: TrainSettings): AssistSteps {
  if (examples.length === 0) throw new RangeError('trainAssistant: the episodes hold no action of the person to learn from; record an episode first.');
  const model = { app, config: base.config };
  const cells = cellCount(app);
  const F = featureCount(app);
  const optimizer = adamw({ lr, weightDecay: 0, ...(eps === undefined ? {} : { eps }) });
  // The draws are sequential in one stream (as trainAssistant always drew them), so step s's are found by drawing up to s.
  const rng = new Rng(seed, DATA_STREAM);
  const draws: Int32Array[] = [];
  const picksOf = (step: number): Int32Array => {
    if (!(Number.isInteger(step) && step >= 0 && step < steps)) throw new RangeError(`step ${step} is not one of this run's 0..${steps - 1}`);
    while (draws.length <= step) draws.push((rng.integers([batch], 0, examples.length).data as Int32Array).slice());
    return draws[step];
  };
  const batchOf = (step: number): TokenBatch => {
    const picks = picksOf(step);
    const next = new Int32Array(batch);
    const acted = new Float32Array(batch);
    picks.forEach((k, b) => {
      next[b] = Math.max(examples[k].next, 0);
      acted[b] = examples[k].next < 0 ? 0 : 1;
    });
    return { inputs: picks.slice(), targets: next, mask: acted, shape: [batch, 1] };
  };
  // humanMask undefined: no state of the batch has a next action, so the human model has nothing to learn from it.
  const loss = (params: Params, x: Tensor, goal: Tensor, next: Tensor, humanMask: Tensor | undefined) => {
    const { goalLogits, humanLogits } = applyHeads(model, params, x);
    const goalLoss = crossEntropy(goalLogits, goal);
    return humanMask ? goalLoss.add(crossEntropy(humanLogits.reshape([batch, cells]), next, humanMask)) : goalLoss;
  };
  const lossAndGrads = valueAndGrad(loss);
  const rate = Math.fround(lr);
  return {
    examples: examples.length,
    tokensPerStep: batch * cells,
    batch: batchOf,
    init: () => ({ step: 0, params: base.params, opt: optimizer.init(base.params) }),
    step(state, b = batchOf(state.step)) {
      const features = new Float32Array(batch * cells * F);
      const goal = new Int32Array(batch * cells);
      b.inputs.forEach((k, i) => {
        const e = examples[k];
        encodeState(app, e.grid, e.last, e.refused, features.subarray(i * cells * F, (i + 1) * cells * F));
        goal.set(e.goal, i * cells);
      });
      const humanMask = b.mask.some((a) => a === 1) ? new Tensor(b.mask, [batch]) : undefined;
      const { value, grads } = lossAndGrads(state.params, new Tensor(features, [batch * cells, F]), new Tensor(goal, [batch * cells]), new Tensor(b.targets, [batch]), humanMask);
      const updated = optimizer.update(state.params, grads, state.opt);
      return { state: { step: state.step + 1, params: updated.params, opt: updated.state }, loss: value.item(), gradNorm: undefined, lr: rate };
    },
  };
}

export function trainAssistant(app: AppSpec, episodes: readonly Episode[], { seed, steps, batch = 16, lr = 3e-3, eps, from, config = from?.config ?? DEFAULT_CONFIG, onStep }: TrainOptions): TrainResult {
  const program = assistSteps(app, examplesOf(episodes), { seed, steps, batch, lr, base: from ?? initModel(app, seed, config), ...(eps === undefined ? {} : { eps }) });
  return runAssistSteps(app, config, program, steps, onStep);
}

/** Runs a training program here, hashing every step's state: the model, the final state and the run commitment. */
export function runAssistSteps(app: AppSpec, config: ModelConfig, program: AssistSteps, steps: number, onStep?: (step: number, loss: number) => void): TrainResult {
  let state = program.init();
  const stepHashes = [stateHash(state)];
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    const r = program.step(state);
    state = r.state;
    stepHashes.push(stateHash(state));
    losses.push(r.loss);
    onStep?.(t + 1, r.loss);
  }
  return { model: { app, config, params: state.params }, state, stepHashes, commitment: runCommitment(stepHashes), losses, examples: program.examples };
}
