/**
 * A swarm node's score for a round as a program of steps that the dispute game can referee (docs/verification.md,
 * "Programs made of steps"): its committed policy greedy-decodes the round's held-out addition questions, drawn from
 * the round's beacon (data/tasks/beacon-draw.ts), and the last step counts the right answers.
 *
 * The eval data lives in the state, not in per-step batches: the state is the policy's (params.*, opt.*) followed by
 * four tensors, `opt.eval.tokens` int32 [B, W] (row i: prompt i's ids from position 0, then PAD; each generation step
 * writes one token), `opt.eval.at` int32 [B, K+1] (at[i][j] = len_i - 1 + j: generated token j+1 is read from the
 * logits at position at[i][j] and written at at[i][j+1]), `opt.eval.target` int32 [B, K] (the answer's ids, END,
 * then -1) and `opt.eval.score` float32 [] (0 until the last step). So the step program (ops, shapes, constants) is
 * the same in every round and for every policy of a model config: its facts root is fixed once per config
 * (evalFacts), and a contract computes h_0 itself from the beacon and the policy's state-tree leaves (evalLeaves,
 * contracts/SwarmEval.sol). Step t = 1..K generates token t of every row; step K+1 writes the score.
 *
 * Prompts start at position 0 (right padding) because the policies were trained that way (data/batch.ts taskBatch) and
 * generate that way (train/generate.ts): left padding would move every prompt to other learned positions. Each row
 * then reads its own position, a take_along by `opt.eval.at`; attention is causal, so the PAD after a row's last token
 * never reaches its logits. Decoding is greedy over the task's alphabet and the end token (argmax over those ids, in
 * id order, first maximum): the completion's text then has no PAD, byte token, space or newline that the verifier's
 * decoding would drop or trim, so "right" (the generated ids are the answer's ids then END) is exactly the task's own
 * verifier on the generated text (a test checks both on every row).
 */
import { CharTokenizer, END_ID, PAD_ID, TASKS, TASK_ALPHABET, beaconExamples, type TaskExample } from '../data/index.js';
import type { Gpt } from '../nn/index.js';
import { argmax, cast, compare, expand, noGrad, reshape, slice, sum, take, takeAlong, Tensor, where } from '../tensor/index.js';
import { MycelError } from '../platform/errors.js';
import { toHex } from '../platform/sha256.js';
import { jobFacts, type JobFacts } from '../chain/dispute-moves.js';
import { leafHash, merkleProof, merkleRoot, type Hash } from '../train/merkle.js';
import { fromHex } from '../train/hex.js';
import type { JobProgram } from '../train/program.js';
import { headerLeaf, stateHash, stateLeaves, tensorLeaf, type TrainState } from '../train/state.js';
import { rulesOf } from '../verify/index.js';
import { buildProgram, policySpec, type PolicyModel } from './sapo-policy.js';
import { parseSapoConfig } from './sapo-config.js';
import { NO_BATCH, swarmProgramId } from './swarm-program.js';

/** A policy or run the eval cannot take, and what to do instead. */
export class SwarmEvalError extends MycelError {
  override name = 'SwarmEvalError';
  constructor(problem: string, fix: string) {
    super(`The swarm eval cannot run: ${problem}.`, { metaMessages: [fix] });
  }
}

/** What a deployment fixes: the addition task's digits and the rows per eval (contracts/SwarmEval.sol's constants). */
export type SwarmEvalConfig = { digits: number; rows: number };

/** The swarm's eval: 16 two-digit additions (the size the SAPO policy pre-trains on, data/tasks/mix.ts). */
export const SWARM_EVAL: SwarmEvalConfig = { digits: 2, rows: 16 };

export const EVAL_TASK = 'addition' as const;
/** The eval's tensors in the state's `opt` group (state names `opt.eval.*`), after the policy's own. */
export const EVAL_TENSORS = { tokens: 'eval.tokens', at: 'eval.at', target: 'eval.target', score: 'eval.score' } as const;
export const SCORE_NAME = `opt.${EVAL_TENSORS.score}`;

/** The sizes that follow from the config: prompt room, tokens generated (K), buffer width, steps. */
export type EvalLayout = { rows: number; digits: number; prompt: number; generated: number; width: number; steps: number };

export function evalLayout({ digits, rows }: SwarmEvalConfig): EvalLayout {
  const prompt = 2 * digits + 2; // "a+b=" with a, b < 10^digits
  const generated = digits + 2; // the longest answer (digits + 1) and its END
  return { rows, digits, prompt, generated, width: prompt + generated, steps: generated + 1 };
}

/** The tokenizer of the swarm's policies (train/program.ts makeTokenizer for task data). */
export const evalTokenizer = () => CharTokenizer.fromText(TASK_ALPHABET);

/** The ids greedy decoding may pick, ascending: END, then the task's characters. */
export function allowedIds(): Int32Array {
  const tokenizer = evalTokenizer();
  return Int32Array.from([END_ID, ...tokenizer.encode(TASKS[EVAL_TASK].alphabet)]).sort();
}

export type EvalData = { examples: TaskExample[]; tokens: Tensor; at: Tensor; target: Tensor };

/** The round's eval tensors from its beacon (what SwarmEval.sol builds on chain). */
export function evalData(beacon: Uint8Array, config: SwarmEvalConfig = SWARM_EVAL): EvalData {
  const L = evalLayout(config);
  const tokenizer = evalTokenizer();
  const examples = beaconExamples(TASKS[EVAL_TASK], beacon, L.rows, { digits: L.digits });
  const tokens = new Int32Array(L.rows * L.width).fill(PAD_ID);
  const at = new Int32Array(L.rows * (L.generated + 1));
  const target = new Int32Array(L.rows * L.generated).fill(-1);
  examples.forEach(({ prompt, answer }, i) => {
    const ids = tokenizer.encode(prompt);
    const answerIds = tokenizer.encode(answer);
    // Cannot happen for the addition task (its prompts and answers are this short by construction): a broken invariant.
    if (ids.length > L.prompt || answerIds.length + 1 > L.generated) throw new RangeError(`eval row ${i} (${prompt}${answer}) does not fit the layout`);
    tokens.set(ids, i * L.width);
    for (let j = 0; j <= L.generated; j++) at[i * (L.generated + 1) + j] = ids.length - 1 + j;
    target.set([...answerIds, END_ID], i * L.generated);
  });
  return {
    examples,
    tokens: new Tensor(tokens, [L.rows, L.width]),
    at: new Tensor(at, [L.rows, L.generated + 1]),
    target: new Tensor(target, [L.rows, L.generated]),
  };
}

const zeroScore = () => new Tensor(new Float32Array(1), []);

/** Leaves of the eval data in h_0 (after the policy's): tokens, at, target, the score 0. */
export function evalDataLeaves(beacon: Uint8Array, config: SwarmEvalConfig = SWARM_EVAL): Hash[] {
  const d = evalData(beacon, config);
  const leaf = (name: string, t: Tensor) => tensorLeaf(`opt.${name}`, t.dtype, t.shape, t.data);
  return [leaf(EVAL_TENSORS.tokens, d.tokens), leaf(EVAL_TENSORS.at, d.at), leaf(EVAL_TENSORS.target, d.target), leaf(EVAL_TENSORS.score, zeroScore())];
}

/**
 * The leaves of h_0 from the policy's state-tree leaves (header, params.*, opt.*): its header replaced by step 0,
 * optimizer step 0, then the eval data's. SwarmEval.evalH0 is the Merkle root of these.
 */
export function evalLeaves(beacon: Uint8Array, policyLeaves: readonly Hash[], config: SwarmEvalConfig = SWARM_EVAL): Hash[] {
  return [headerLeaf(0, 0), ...policyLeaves.slice(1), ...evalDataLeaves(beacon, config)];
}

/** SwarmEval.evalH0: the policy hash (root of its leaves) and h_0 of its eval on `beacon`. */
export function evalH0(beacon: Uint8Array, policyLeaves: readonly Hash[], config: SwarmEvalConfig = SWARM_EVAL): { policyHash: string; h0: string } {
  return { policyHash: toHex(merkleRoot([...policyLeaves])), h0: toHex(merkleRoot(evalLeaves(beacon, policyLeaves, config))) };
}

/** SwarmEval.scoreLeaf: the leaf of h_K holding `score` (its float32 bits). */
export function scoreLeaf(scoreBits: number): Hash {
  return tensorLeaf(SCORE_NAME, 'float32', [], new Float32Array(new Uint32Array([scoreBits >>> 0]).buffer));
}

/** The eval state's tree for a policy of `policyLeafCount` leaves: its size, and the score leaf's index (the last). */
export function evalTreeOf(policyLeafCount: number): { size: number; scoreIndex: number } {
  const size = policyLeafCount + 4;
  return { size, scoreIndex: size - 1 };
}

/** What a node posts to claim its eval's score, with the openings SwarmEval.scoreOpens checks. */
export type ScoreClaim = { runRoot: string; score: number; scoreBits: number; hFinal: string; scoreProof: string[]; runProof: string[] };

/**
 * The claim of an eval run: its run commitment, the score its final state holds, that state's hash, the score leaf's
 * path in it and its leaf's path in the run tree (`stepHashes`: h_0 .. h_STEPS, as runJob records them).
 */
export function scoreClaim(stepHashes: readonly string[], final: TrainState): ScoreClaim {
  const leaves = stateLeaves(final);
  const hFinal = toHex(merkleRoot(leaves));
  if (hFinal !== stepHashes[stepHashes.length - 1]) {
    throw new SwarmEvalError(`the final state hashes to ${hFinal}, and the run's last step hash is ${stepHashes[stepHashes.length - 1]}`, 'Claim with the final state of the same eval run (runJob\'s state and record.stepHashes).');
  }
  const { scoreIndex } = evalTreeOf(leaves.length - 4);
  const data = final.opt.tensors[EVAL_TENSORS.score].data as Float32Array;
  const bits = new Uint32Array(data.buffer, data.byteOffset, 1)[0];
  const runLeaves = stepHashes.map((h) => leafHash(fromHex(h)));
  return {
    runRoot: toHex(merkleRoot(runLeaves)),
    score: new Float32Array(new Uint32Array([bits]).buffer)[0],
    scoreBits: bits,
    hFinal,
    scoreProof: merkleProof(leaves, scoreIndex).map(toHex),
    runProof: merkleProof(runLeaves, runLeaves.length - 1).map(toHex),
  };
}

/** The eval state: the policy's tensors (step and optimizer step reset to 0) and the round's eval data. */
export function evalState(policy: TrainState, data: EvalData): TrainState {
  const clash = Object.keys(policy.opt.tensors).find((name) => name.startsWith('eval.'));
  if (clash) throw new SwarmEvalError(`the policy has an optimizer tensor named ${clash}, which the eval's data would shadow`, 'Evaluate a swarm policy (its optimizer tensors are Adam\'s m.* and v.*).');
  return {
    step: 0,
    params: policy.params,
    opt: { step: 0, tensors: { ...policy.opt.tensors, [EVAL_TENSORS.tokens]: data.tokens, [EVAL_TENSORS.at]: data.at, [EVAL_TENSORS.target]: data.target, [EVAL_TENSORS.score]: zeroScore() } },
  };
}

export type EvalSpec = {
  kind: 'swarm-eval';
  version: 1;
  task: typeof EVAL_TASK;
  digits: number;
  rows: number;
  /** The round's beacon and the policy's state hash, hex. */
  beacon: string;
  policy: string;
  steps: number;
  checkpointEvery: number;
};

export type EvalProgram = JobProgram<EvalSpec> & {
  layout: EvalLayout;
  examples: TaskExample[];
  /** Row i's generated ids up to its first END (what generateBatch would return for it), from a state after step K. */
  completions(state: TrainState): Int32Array[];
  /** The score a state after the last step holds. */
  score(state: TrainState): number;
};

/**
 * The eval of `policy` (a state of a policy whose model is `model`, tokenizer evalTokenizer's) on round beacon
 * `beacon`. The policy's context must hold the eval's buffer (layout.width positions).
 */
export function evalProgram(model: Gpt, policy: TrainState, beacon: Uint8Array, config: SwarmEvalConfig = SWARM_EVAL): EvalProgram {
  const L = evalLayout(config);
  if (model.config.contextLength < L.width) {
    throw new SwarmEvalError(`the policy's context holds ${model.config.contextLength} positions, and the eval's ${L.digits}-digit additions need ${L.width}`, `Use a policy with contextLength >= ${L.width}.`);
  }
  if (model.config.vocabSize !== evalTokenizer().vocabSize) {
    throw new SwarmEvalError(`the policy's vocabulary has ${model.config.vocabSize} tokens, and the swarm's task tokenizer ${evalTokenizer().vocabSize}`, 'Evaluate a policy trained on the task data (CharTokenizer over TASK_ALPHABET, as the swarm\'s policies are).');
  }
  const data = evalData(beacon, config);
  const start = evalState(policy, data);
  const spec: EvalSpec = { kind: 'swarm-eval', version: 1, task: EVAL_TASK, digits: L.digits, rows: L.rows, beacon: toHex(beacon), policy: stateHash(policy), steps: L.steps, checkpointEvery: L.steps };
  const allowed = new Tensor(allowedIds(), [allowedIds().length]);
  const columns = new Tensor(Int32Array.from({ length: L.width }, (_, j) => j), [L.width]);
  const zero = new Tensor(new Int32Array(1), []);
  const V = model.config.vocabSize;
  const B = L.rows;
  const K = L.generated;
  const tensor = (state: TrainState, name: string) => state.opt.tensors[name];

  /** Step t <= K: token t of every row, greedy over `allowed`, written at its row's position. */
  const generate = (state: TrainState, t: number): Tensor => {
    const tokens = tensor(state, EVAL_TENSORS.tokens);
    const at = tensor(state, EVAL_TENSORS.at);
    const logits = model.apply(state.params, tokens); // [B, W, V]
    const read = expand(reshape(slice(at, 1, t - 1, t), [B, 1, 1]), [B, 1, V]);
    const row = reshape(takeAlong(logits, 1, read), [B, V]);
    const token = reshape(take(allowed, 0, argmax(take(row, 1, allowed), 1)), [B, 1]);
    return where(compare('eq', slice(at, 1, t, t + 1), columns), token, tokens);
  };

  /** Step K+1: rows whose generated ids are the answer's then END, counted. */
  const count = (state: TrainState): Tensor => {
    const generated = takeAlong(tensor(state, EVAL_TENSORS.tokens), 1, slice(tensor(state, EVAL_TENSORS.at), 1, 1, K + 1)); // [B, K]
    const target = tensor(state, EVAL_TENSORS.target);
    const hits = sum(cast(compare('eq', generated, target), 'float32'), 1);
    const needed = sum(cast(compare('le', zero, target), 'float32'), 1);
    return sum(cast(compare('eq', hits, needed), 'float32'), 0);
  };

  const completions = (state: TrainState): Int32Array[] => {
    const tokens = tensor(state, EVAL_TENSORS.tokens).data as Int32Array;
    const at = tensor(state, EVAL_TENSORS.at).data as Int32Array;
    return Array.from({ length: B }, (_, i) => {
      const ids = Array.from({ length: K }, (_, j) => tokens[i * L.width + at[i * (K + 1) + j + 1]]);
      const end = ids.indexOf(END_ID);
      return Int32Array.from(end < 0 ? ids : ids.slice(0, end));
    });
  };

  return {
    spec,
    id: swarmProgramId(spec),
    tokensPerStep: B,
    tokenizer: evalTokenizer(),
    layout: L,
    examples: data.examples,
    batch: () => NO_BATCH,
    init: () => start,
    step(state) {
      const t = state.step + 1;
      if (t > L.steps) throw new SwarmEvalError(`the eval has ${L.steps} steps and this state is after step ${state.step}`, 'Run the eval from its init() state; its last step writes the score.');
      const name = t <= K ? EVAL_TENSORS.tokens : EVAL_TENSORS.score;
      const out = noGrad(() => (t <= K ? generate(state, t) : count(state)));
      const next: TrainState = { step: t, params: state.params, opt: { step: state.opt.step + 1, tensors: { ...state.opt.tensors, [name]: out } } };
      return { state: next, loss: NaN, gradNorm: undefined, lr: 0 };
    },
    completions,
    score: (state) => (tensor(state, EVAL_TENSORS.score).data as Float32Array)[0],
  };
}

/** A policy of `model` with the swarm's tokenizer and optimizer, freshly initialized (its values do not matter to the step program). */
function policyOf(model: PolicyModel) {
  const program = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: EVAL_TASK }] }), { model, steps: 1 }));
  return { model: program.model, state: program.init() };
}

/**
 * The facts tree (step program: per step its leaf counts, per op its rule, per state leaf its source) of the eval of
 * any policy of `model` on any beacon: what a coordinator is deployed with for that model config, once.
 */
export function evalFacts(model: PolicyModel, config: SwarmEvalConfig = SWARM_EVAL): Omit<JobFacts, 'h0'> & { steps: number } {
  const { model: gpt, state } = policyOf(model);
  const program = evalProgram(gpt, state, new Uint8Array(32), config);
  // h_0 is the round's and the policy's (evalH0), not the config's.
  const { h0: _h0, ...facts } = jobFacts(rulesOf(program));
  return { ...facts, steps: program.spec.steps };
}
