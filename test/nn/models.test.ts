import { describe, expect, it } from 'vitest';
import { Rng, Tensor, hashTensor } from '../../src/tensor/index.js';
import { GPT_PRESETS, MissingParameterError, ModelConfigError, gpt, mlpClassifier, parameterCount } from '../../src/nn/index.js';
import { bits, paramsHash } from './helpers.js';

const tiny = gpt({ ...GPT_PRESETS['gpt-tiny'], vocabSize: 65 });
const micro = gpt({ vocabSize: 11, contextLength: 8, dModel: 16, layers: 2, heads: 2, mlpHidden: 32 });

describe('parameter counts match torch_anchor.py', () => {
  it('gpt-tiny with vocab 65 has 818,176 parameters', () => {
    expect(parameterCount(tiny.init(new Rng(0)))).toBe(818_176);
  });

  it('gpt-small with vocab 65 has 4,805,120 parameters', () => {
    expect(parameterCount(gpt({ ...GPT_PRESETS['gpt-small'], vocabSize: 65 }).init(new Rng(0)))).toBe(4_805_120);
  });

  it('the 784-256-256-10 classifier has 269,322 parameters', () => {
    expect(parameterCount(mlpClassifier({ sizes: [784, 256, 256, 10] }).init(new Rng(0)))).toBe(269_322);
  });
});

describe('parameter names and order', () => {
  it('are the anchor state_dict names, in its order', () => {
    const names = Object.keys(micro.init(new Rng(0)));
    const block = (i: number) =>
      ['ln1', 'qkv', 'proj', 'ln2', 'fc1', 'fc2'].flatMap((m) => [`blocks.${i}.${m}.weight`, `blocks.${i}.${m}.bias`]);
    expect(names).toEqual(['tok.weight', 'pos.weight', ...block(0), ...block(1), 'ln_f.weight', 'ln_f.bias', 'head.weight']);
    expect(Object.keys(mlpClassifier({ sizes: [4, 3, 2] }).init(new Rng(0)))).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('have the anchor initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm scale', () => {
    const params = tiny.init(new Rng(0));
    const w = params['blocks.0.fc1.weight'].data;
    const meanOf = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0) / xs.length;
    const std = Math.sqrt(meanOf(Array.from(w, (x) => x * x)));
    expect(Math.abs(meanOf(w))).toBeLessThan(1e-3);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(params['blocks.0.fc1.bias'].data.every((x) => x === 0)).toBe(true);
    expect(params['ln_f.weight'].data.every((x) => x === 1)).toBe(true);
  });
});

describe('initialisation is a function of config and seed', () => {
  it('gives the same hashes for the same seed and different ones for another seed', () => {
    const a = micro.init(new Rng(7));
    const b = micro.init(new Rng(7));
    const c = micro.init(new Rng(8));
    expect(paramsHash(a)).toBe(paramsHash(b));
    expect(hashTensor(a['tok.weight'])).not.toBe(hashTensor(c['tok.weight']));
    expect(hashTensor(a['blocks.1.fc2.weight'])).not.toBe(hashTensor(c['blocks.1.fc2.weight']));
  });

  it('draws sequentially in canonical order (the first draw is tok.weight at offset 0)', () => {
    const params = micro.init(new Rng(3));
    expect(hashTensor(params['tok.weight'])).toBe(hashTensor(new Rng(3).normal([11, 16], 0, 0.02)));
  });
});

describe('GPT forward', () => {
  const params = micro.init(new Rng(1));
  const ids = (values: number[]) => Tensor.from(values, [2, values.length / 2], 'int32');

  it('maps ids [B, T] to logits [B, T, V]', () => {
    expect(micro.apply(params, ids([1, 2, 3, 4, 5, 6, 7, 8])).shape).toEqual([2, 4, 11]);
    expect(micro.apply(params, ids(Array.from({ length: 16 }, (_, i) => i % 11))).shape).toEqual([2, 8, 11]);
  });

  it('is causal: changing a future token leaves every earlier logit bit-identical', () => {
    const before = ids([1, 2, 3, 4, 5, 6, 9, 8, 7, 6, 5, 4]);
    const after = ids([1, 2, 3, 4, 5, 10, 9, 8, 7, 6, 5, 0]);
    const [x, y] = [micro.apply(params, before), micro.apply(params, after)];
    const V = 11;
    expect(bits(x.data.subarray(0, 5 * V))).toEqual(bits(y.data.subarray(0, 5 * V)));
    expect(bits(x.data.subarray(6 * V, 11 * V))).toEqual(bits(y.data.subarray(6 * V, 11 * V)));
    expect(bits(x.data.subarray(5 * V, 6 * V))).not.toEqual(bits(y.data.subarray(5 * V, 6 * V)));
  });

  it('rejects sequences longer than the context, float ids, and params from another model', () => {
    expect(() => micro.apply(params, Tensor.zeros([1, 9], 'int32'))).toThrow(/1 <= T <= 8/);
    expect(() => micro.apply(params, Tensor.zeros([1, 4]))).toThrow(/int32 token ids/);
    expect(() => micro.apply({}, Tensor.zeros([1, 4], 'int32'))).toThrow(MissingParameterError);
    expect(() => gpt({ vocabSize: 5, contextLength: 4, dModel: 10, layers: 1, heads: 3, mlpHidden: 8 })).toThrow(ModelConfigError);
  });
});

describe('MLP classifier', () => {
  it('maps [N, in] to logits [N, classes] with ReLU between layers', () => {
    const model = mlpClassifier({ sizes: [6, 5, 3] });
    const params = model.init(new Rng(0));
    const x = new Rng(1).normal([4, 6]);
    const out = model.apply(params, x);
    expect(out.shape).toEqual([4, 3]);
    // by hand: relu(x W0^T + b0) W2^T + b2 in float64 agrees to float32 precision
    const w0 = params['0.weight'].data, b0 = params['0.bias'].data, w2 = params['2.weight'].data, b2 = params['2.bias'].data;
    for (let n = 0; n < 4; n++) {
      const h = Array.from({ length: 5 }, (_, j) => Math.max(0, b0[j] + Array.from({ length: 6 }, (_, i) => x.data[n * 6 + i] * w0[j * 6 + i]).reduce((s, v) => s + v, 0)));
      for (let c = 0; c < 3; c++) {
        const expected = b2[c] + h.reduce((s, v, j) => s + v * w2[c * 5 + j], 0);
        expect(out.data[n * 3 + c]).toBeCloseTo(expected, 5);
      }
    }
  });
});
