import { afterAll, describe, expect, it } from 'vitest';
import { END_ID } from '../../src/data/index.js';
import { gpt, keepCacheRows, valueAndGrad } from '../../src/nn/index.js';
import { Rng, Tensor, configureKernels, kernelConfig, noGrad, sum } from '../../src/tensor/index.js';
import { EVAL_SEED_OFFSET, GenerationInputError, buildProgram, completionLogProbs, evaluateTask, generate, generateBatch, generateIds, parseJobSpec } from '../../src/train/index.js';
import { TASKS } from '../../src/data/index.js';
import { bits } from '../nn/helpers.js';
import { bundle, node22, runInNode } from '../engines/engines.js';
import { rolloutDigest } from './fixtures/rollouts.js';

// A small GPT whose context (12) is short enough that generations run past it (the sliding window).
const model = gpt({ vocabSize: 20, contextLength: 12, dModel: 16, layers: 2, heads: 2, mlpHidden: 32 });
// Larger init than the anchor's so that sampled tokens vary and the end token sometimes comes.
const params = Object.fromEntries(Object.entries(model.init(new Rng(7))).map(([name, t]) => [name, name.endsWith('.weight') && t.rank === 2 ? t.mul(25) : t]));
const tokenizer = { endId: END_ID } as Parameters<typeof generateIds>[2];
const ids = (...xs: number[]) => Int32Array.from(xs);

/** The old generateIds: one full forward over the last contextLength tokens per new token. */
function recomputed(prompt: Int32Array, maxTokens: number): Int32Array {
  const seq = Array.from(prompt);
  const out: number[] = [];
  noGrad(() => {
    for (let i = 0; i < maxTokens; i++) {
      const w = seq.slice(-12);
      const logits = model.apply(params, new Tensor(Int32Array.from(w), [1, w.length]));
      const next = logits.slice(1, w.length - 1, w.length).reshape([20]).argmax(0).item();
      if (next === END_ID) break;
      seq.push(next);
      out.push(next);
    }
  });
  return Int32Array.from(out);
}

describe('KV-cache generation', () => {
  afterAll(() => void configureKernels({ threads: 2 }));

  it('decode gives the logits of a full forward, bit for bit, at every position up to the window', () => {
    noGrad(() => {
      const seq = ids(3, 9, 4, 17, 5, 2, 11, 8, 6, 19, 7, 12);
      const cache = model.newCache(1);
      let logits = model.prefill(params, new Tensor(seq.slice(0, 3), [1, 3]), cache, [[0]]);
      for (let t = 3; t <= seq.length; t++) {
        const full = model.apply(params, new Tensor(seq.slice(0, t), [1, t])).slice(1, t - 1, t).reshape([1, 20]);
        expect(bits(logits.data as Float32Array)).toEqual(bits(full.data as Float32Array));
        if (t === seq.length) break;
        logits = model.decode(params, new Tensor(seq.slice(t, t + 1), [1]), cache);
      }
      expect(Array.from(cache.lengths)).toEqual([12]);
      expect(() => model.decode(params, new Tensor(ids(1), [1]), cache)).toThrow(/contextLength = 12/);
    });
  });

  it('decodes rows of different lengths in one batch with each row its own bits', () => {
    noGrad(() => {
      const alone = (prompt: Int32Array, token: number) => {
        const cache = model.newCache(1);
        model.prefill(params, new Tensor(prompt, [1, prompt.length]), cache, [[0]]);
        return bits(model.decode(params, new Tensor(ids(token), [1]), cache).data as Float32Array);
      };
      const cache = model.newCache(3);
      model.prefill(params, new Tensor(ids(1, 2, 3, 4, 5), [1, 5]), cache, [[2]]);
      model.prefill(params, new Tensor(ids(6, 7), [1, 2]), cache, [[0, 1]]);
      const both = bits(model.decode(params, new Tensor(ids(9, 10, 11), [3]), cache).data as Float32Array);
      expect(both).toEqual([...alone(ids(6, 7), 9), ...alone(ids(6, 7), 10), ...alone(ids(1, 2, 3, 4, 5), 11)]);
      expect(Array.from(cache.lengths)).toEqual([3, 3, 6]);
      // Dropping a row keeps the others' caches.
      const kept = keepCacheRows(cache, [2]);
      const full = model.apply(params, new Tensor(ids(1, 2, 3, 4, 5, 11, 13), [1, 7])).slice(1, 6, 7);
      expect(bits(model.decode(params, new Tensor(ids(13), [1]), kept).data as Float32Array)).toEqual(bits(full.data as Float32Array));
    });
  });

  it('greedy generateIds equals the full recompute, past the context window too', () => {
    for (const prompt of [ids(4), ids(3, 9, 4, 17, 5), ids(...Array.from({ length: 15 }, (_, i) => 2 + (i % 17)))]) {
      expect(Array.from(generateIds(model, params, tokenizer, prompt, { maxTokens: 20 }))).toEqual(Array.from(recomputed(prompt, 20)));
    }
  });

  const prompts = [ids(3, 9, 4), ids(3, 9, 4), ids(5), ids(2, 8, 13, 17, 4, 6, 10, 11, 3, 5, 7, 9, 15), ids(3, 9, 4), ids(18, 19)];
  const seeds = [1, 2, 1, 3, 1, 4];
  const oneByOne = () => prompts.map((p, b) => Array.from(generateIds(model, params, tokenizer, p, { maxTokens: 16, temperature: 0.8, seed: seeds[b] })));

  it('a batch gives each row the tokens of generating it alone, whatever the batch holds', () => {
    const alone = oneByOne();
    const batch = generateBatch(model, params, prompts, { maxTokens: 16, temperature: 0.8, seeds }).map((r) => Array.from(r));
    expect(batch).toEqual(alone);
    // Same (prompt, seed) twice in one batch: the same rollout; another seed: another one.
    expect(batch[0]).toEqual(batch[4]);
    expect(new Set(batch.map((r) => r.join(','))).size).toBeGreaterThan(3);
    // Other company, other order: row 3 unchanged.
    const [solo] = generateBatch(model, params, [prompts[3]], { maxTokens: 16, temperature: 0.8, seeds: [3] });
    const mixed = generateBatch(model, params, [prompts[5], prompts[3], prompts[2]], { maxTokens: 16, temperature: 0.8, seeds: [9, 3, 8] });
    expect(Array.from(mixed[1])).toEqual(Array.from(solo));
    expect(Array.from(solo)).toEqual(alone[3]);
    // In chunks of 4 rows (the memory bound), the same.
    expect(generateBatch(model, params, prompts, { maxTokens: 16, temperature: 0.8, seeds, maxRows: 4 }).map((r) => Array.from(r))).toEqual(alone);
    // Some rows stop at the end token while others go on.
    expect(batch.some((r) => r.length < 16) && batch.some((r) => r.length === 16)).toBe(true);
  });

  it('generates the same tokens on 1 and 2 threads', () => {
    const run = (threads: number) => {
      configureKernels({ threads });
      return generateBatch(model, params, prompts, { maxTokens: 16, temperature: 0.8, seeds }).map((r) => Array.from(r));
    };
    const previous = kernelConfig().threads;
    expect(run(1)).toEqual(run(2));
    configureKernels({ threads: previous });
  });

  it('rejects bad input with what to fix', () => {
    expect(() => generateBatch(model, params, [ids()], { maxTokens: 3, seeds: [1] })).toThrow(GenerationInputError);
    expect(() => generateBatch(model, params, [ids(1)], { maxTokens: 3, seeds: [] })).toThrow(/1 prompts need 1 seeds/);
    expect(() => generateBatch(model, params, [ids(25)], { maxTokens: 3, seeds: [1] })).toThrow(/outside the model's vocabulary/);
    expect(() => generateBatch(model, params, [ids(1)], { maxTokens: -1, seeds: [1] })).toThrow(/maxTokens/);
    expect(() => generateBatch(model, params, [ids(1)], { maxTokens: 1, seeds: [1], maxRows: 0 })).toThrow(/maxRows/);
  });
});

describe('evaluateTask', () => {
  it('batched, scores exactly what generating each prompt alone gives', () => {
    const spec = parseJobSpec({
      version: 1,
      model: { kind: 'gpt', contextLength: 24, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 },
      optimizer: { kind: 'adamw', lr: 0.01 },
      data: { kind: 'task', task: 'mix' },
      steps: 1,
      batchSize: 1,
      seed: 3,
      checkpointEvery: 1,
    });
    const program = buildProgram(spec);
    const trained = Object.fromEntries(Object.entries(program.init().params).map(([name, t]) => [name, name.endsWith('.weight') && t.rank === 2 ? t.mul(30) : t]));
    const n = 70; // more than one batch of 64
    const result = evaluateTask(program, trained, n);
    let correct = 0;
    const samples = [];
    for (let i = 0; i < n; i++) {
      const { prompt, answer } = TASKS.mix.generate(spec.seed + EVAL_SEED_OFFSET, i);
      const completion = generate(program.model, trained, program.tokenizer, prompt, { maxTokens: answer.length + 2 });
      correct += TASKS.mix.verify(prompt, completion);
      samples.push({ prompt, completion });
    }
    expect(result.correct).toBe(correct);
    expect(result.samples.map(({ prompt, completion }) => ({ prompt, completion }))).toEqual(samples.slice(0, 5));
    expect(new Set(samples.map((s) => s.completion)).size).toBeGreaterThan(5);
  });
});

describe('completionLogProbs', () => {
  const rows = [
    { prompt: ids(3, 9, 4), completion: ids(5, 6, 7, 8) },
    { prompt: ids(2, 11, 12, 13, 14, 15), completion: ids(16) },
    { prompt: ids(18), completion: ids(7, 7, 2, 3, 4, 5, 6, 9, 10, 11, 12) },
  ];

  it('scores each completion token by its log-probability, row by row the bits of scoring it alone', () => {
    const { logProbs, mask } = noGrad(() => completionLogProbs(model, params, rows, { temperature: 0.7 }));
    expect(logProbs.shape).toEqual([3, 11]);
    expect(Array.from(mask.data)).toEqual(rows.flatMap(({ completion }) => Array.from({ length: 11 }, (_, j) => (j < completion.length ? 1 : 0))));
    rows.forEach((row, b) => {
      const alone = noGrad(() => completionLogProbs(model, params, [row], { temperature: 0.7 })).logProbs;
      expect(bits(logProbs.slice(0, b, b + 1).slice(1, 0, row.completion.length).data as Float32Array)).toEqual(bits(alone.data as Float32Array));
      // Against a float64 log-softmax of the model's logits.
      noGrad(() => {
        const seq = ids(...row.prompt, ...row.completion);
        const logits = model.apply(params, new Tensor(seq.slice(0, seq.length - 1), [1, seq.length - 1])).data as Float32Array;
        row.completion.forEach((token, j) => {
          const at = (row.prompt.length - 1 + j) * 20;
          const z = Array.from(logits.subarray(at, at + 20), (x) => x / 0.7);
          const m = Math.max(...z);
          const expected = z[token] - m - Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
          expect(alone.data[j]).toBeCloseTo(expected, 4);
        });
      });
    });
  });

  it('is differentiable in the parameters', () => {
    const loss = (p: typeof params) => {
      const { logProbs, mask } = completionLogProbs(model, p, rows.slice(0, 2));
      return sum(logProbs.mul(mask).reshape([-1]), 0);
    };
    const { grads } = valueAndGrad(loss)(params);
    for (const name of ['head.weight', 'blocks.0.qkv.weight', 'tok.weight']) expect(Array.from(grads[name].data).some((x) => x !== 0)).toBe(true);
  });

  it('rejects a completion that does not fit the window', () => {
    expect(() => completionLogProbs(model, params, [{ prompt: ids(1, 2, 3, 4, 5, 6, 7, 8), completion: ids(1, 2, 3, 4, 5, 6) }])).toThrow(/context window of 12/);
    expect(() => completionLogProbs(model, params, [{ prompt: ids(1), completion: ids() }])).toThrow(/empty completion/);
  });
});

describe('rollouts are recomputable', () => {
  afterAll(() => void configureKernels({ threads: 2 }));

  it('the same tokens and log-probabilities in another process, on 1 and 2 threads, and on Node 22', async () => {
    const [file, binary] = await Promise.all([bundle('test/train/fixtures/rollouts-entry.ts', 'node'), node22()]);
    const [n20, n22] = await Promise.all([runInNode(process.execPath, file), runInNode(binary, file)]);
    const here = rolloutDigest();
    const [one, two] = here.split('\n');
    expect(two).toBe(one);
    expect(one.split(' ')[0].split('|').filter((c) => c.length > 0).length).toBeGreaterThan(8);
    expect(n20).toBe(here);
    expect(n22).toBe(here);
  }, 120_000);
});
