/**
 * Ready job specs. Each is a complete spec: `mycel train <preset>` runs it, and `--print-spec` shows
 * it as a starting point for your own.
 */
import type { JobSpecInput } from './spec.js';

const adamw = (lr: number, steps: number, warmup: number) =>
  ({ kind: 'adamw', lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1, schedule: { kind: 'warmup-cosine', warmup, floor: 0.1 } }) as const;

export const PRESETS = {
  /** Seconds on a laptop: a small GPT starts learning 2-digit addition. The README's main job. */
  quick: {
    version: 1,
    model: { kind: 'gpt', contextLength: 12, dModel: 48, layers: 2, heads: 4, mlpHidden: 192 },
    optimizer: adamw(3e-3, 300, 20),
    data: { kind: 'task', task: 'addition', config: { digits: 2 } },
    steps: 300,
    batchSize: 32,
    seed: 1,
    checkpointEvery: 100,
  },
  /** Minutes: a GPT that learns 3-digit addition to >= 95% exact match. */
  addition: {
    version: 1,
    model: { kind: 'gpt', contextLength: 16, dModel: 96, layers: 3, heads: 4, mlpHidden: 384 },
    optimizer: adamw(2e-3, 3000, 100),
    data: { kind: 'task', task: 'addition', config: { digits: 3 } },
    steps: 3000,
    batchSize: 64,
    seed: 1,
    checkpointEvery: 500,
  },
  /** The anchor's gpt-tiny on your text: `mycel train text --text FILE`. */
  text: {
    version: 1,
    model: { kind: 'gpt', contextLength: 64, dModel: 128, layers: 4, heads: 4, mlpHidden: 512 },
    optimizer: adamw(3e-4, 2000, 100),
    data: { kind: 'text', path: '', sha256: '0'.repeat(64), tokenizer: { kind: 'char' } },
    steps: 2000,
    batchSize: 16,
    seed: 1,
    checkpointEvery: 250,
  },
} satisfies Record<string, JobSpecInput>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
