/**
 * The assistant's two networks, small MLPs (nn's linear layers with ReLU) applied to every cell's features:
 * - the goal head: for each cell, a distribution over the value the finished grid has there. Over the whole grid
 *   this is the belief over goals, factorised by cell; it reads the state the person's actions made.
 * - the human model: for each cell, a logit that the person's next action is there (a softmax over the cells).
 * Both run on the reproducible runtime, so the same model and state give the same bits in Node and in a page.
 */
import { linear, loadSafetensors, saveSafetensors, type Params } from '../nn/index.js';
import { Rng, Tensor, softmax } from '../tensor/index.js';
import { sha256, toHex } from '../platform/sha256.js';
import { defineApp, type AppSpec } from './app.js';
import { encodeState, featureCount } from './features.js';
import { ModelFormatError } from './errors.js';

export type ModelConfig = {
  /** Hidden width of the goal head. */
  goalHidden: number;
  /** Hidden width of the human model. */
  humanHidden: number;
};

export const DEFAULT_CONFIG: ModelConfig = { goalHidden: 64, humanHidden: 32 };

export type AssistModel = {
  app: AppSpec;
  config: ModelConfig;
  /** `goal.0.weight`, `goal.0.bias`, `goal.1.*`, `human.0.*`, `human.1.*`. */
  params: Params;
};

/** The RNG stream of parameter initialisation (data order uses its own). */
export const MODEL_INIT_STREAM = 1;

function layers(app: AppSpec, config: ModelConfig) {
  const F = featureCount(app);
  return {
    goal: [linear('goal.0', { inFeatures: F, outFeatures: config.goalHidden, init: 'fan-in' }), linear('goal.1', { inFeatures: config.goalHidden, outFeatures: app.values, init: 'fan-in' })],
    human: [linear('human.0', { inFeatures: F, outFeatures: config.humanHidden, init: 'fan-in' }), linear('human.1', { inFeatures: config.humanHidden, outFeatures: 1, init: 'fan-in' })],
  };
}

export function initModel(app: AppSpec, seed: number, config: ModelConfig = DEFAULT_CONFIG): AssistModel {
  defineApp(app);
  const rng = new Rng(seed, MODEL_INIT_STREAM);
  const l = layers(app, config);
  let params: Params = {};
  for (const layer of [...l.goal, ...l.human]) params = { ...params, ...layer.init(rng) };
  return { app, config, params };
}

export type Heads = {
  /** [rows, values]: the goal head's logits. */
  goalLogits: Tensor;
  /** [rows]: the human model's logits. */
  humanLogits: Tensor;
};

/** Both heads on feature rows [rows, F] (rows = states x cells). */
export function applyHeads(model: Pick<AssistModel, 'app' | 'config'>, params: Params, features: Tensor): Heads {
  const l = layers(model.app, model.config);
  const goalLogits = l.goal[1].apply(params, l.goal[0].apply(params, features).relu());
  const humanLogits = l.human[1].apply(params, l.human[0].apply(params, features).relu()).reshape([-1]);
  return { goalLogits, humanLogits };
}

export type Belief = {
  /** [cells x values] row-major: P(the finished grid has value v at cell c | the state now). */
  goal: Float32Array;
  /** [cells]: P(the person's next action is at cell c). */
  human: Float32Array;
};

/**
 * The model's belief about the state `grid` (bytes, one per cell) after the person's latest action at lastCell (-1:
 * none), where refused[c] = 1 marks a cell the person removed a block of the assistant's from (undefined: none).
 */
export function believe(model: AssistModel, grid: Uint8Array, lastCell: number, refused?: Uint8Array): Belief {
  const cells = grid.length;
  const features = new Tensor(encodeState(model.app, grid, lastCell, refused), [cells, featureCount(model.app)]);
  const { goalLogits, humanLogits } = applyHeads(model, model.params, features);
  return { goal: softmax(goalLogits, -1).data as Float32Array, human: softmax(humanLogits, -1).data as Float32Array };
}

// v2: the features read the person's refusals (features.ts); a v1 model has fewer inputs and cannot be used.
export const MODEL_FORMAT = 'mycel.assist.model.v2';

/** The model as one blob (safetensors with the app and config in its metadata): what is stored and shared by CID. */
export function encodeModel(model: AssistModel): Uint8Array {
  const { grid, values, names } = model.app; // only what defines the app, so the same model is the same blob
  const { goalHidden, humanHidden } = model.config;
  return saveSafetensors(model.params, { format: MODEL_FORMAT, app: JSON.stringify({ grid, values, ...(names ? { names } : {}) }), config: JSON.stringify({ goalHidden, humanHidden }) });
}

export function decodeModel(bytes: Uint8Array): AssistModel {
  const { params, metadata } = loadSafetensors(bytes);
  if (metadata.format === 'mycel.assist.model.v1') {
    throw new ModelFormatError('This assistant model is of an earlier version (mycel.assist.model.v1: its features did not read the refusals), so it cannot be used: train a new one (with mycel assist, delete current.json to train a new base model; the saved episodes are kept and can be learned from again).');
  }
  if (metadata.format !== MODEL_FORMAT) throw new ModelFormatError(`This blob is not an assistant model (format ${JSON.stringify(metadata.format)}, expected ${MODEL_FORMAT}).`);
  const app = defineApp(JSON.parse(metadata.app) as AppSpec);
  const config = JSON.parse(metadata.config) as ModelConfig;
  const expected = initModel(app, 0, config).params;
  for (const [name, t] of Object.entries(expected)) {
    const got = params[name];
    if (!got || got.shape.join() !== t.shape.join()) throw new ModelFormatError(`Model tensor ${name} must have shape [${t.shape.join(', ')}], got ${got ? `[${got.shape.join(', ')}]` : 'none'}.`);
  }
  return { app: { grid: app.grid, values: app.values, ...(app.names ? { names: app.names } : {}) }, config, params };
}

/** SHA-256 of the model's blob, hex: the model's name in logs and on pages. */
export const modelHash = (model: AssistModel): string => toHex(sha256(encodeModel(model)));
