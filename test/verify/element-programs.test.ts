import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { Rng, Tensor, math } from '../../src/tensor/index.js';
import { CANONICAL_NAN_BITS, bitsOf, fromBits } from '../../src/tensor/f32.js';
import { BINARY_OPS, COMPARE_OPS, INDEX_OPS, MOVEMENT_OPS, OTHER_OPS, REDUCE_OPS, ROW_OPS, UNARY_OPS, type Op } from '../../src/tensor/op.js';
import { crossEntropy, gpt, valueAndGrad } from '../../src/nn/index.js';
import { ElementProgramError, elementProgram, programOf, programRoot, run } from '../../src/verify/machine/index.js';
import { toHex } from '../../src/platform/sha256.js';
import { checkElements, record, wordsOf, type Recorded } from './element-check.js';

const ALL_OPS: readonly Op[] = [...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, ...REDUCE_OPS, ...MOVEMENT_OPS, ...INDEX_OPS, ...ROW_OPS, ...OTHER_OPS];

/** ±0, subnormals, the edges of each math.ts branch and clamp, Inf, NaN with payloads. */
const SPECIAL_BITS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x3f800000, 0xbf800000,
  0x3f000000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0xff800001,
  0x42b17218, 0x42b17217, 0x42b20000, 0x42b20001, 0xc2cff1b5, 0xc2d00000, 0xc2d00001, 0xc2aeac50, 0x3e99999a, 0x3e999999,
  0x41a00000, 0x41a00001, 0x41103e4e, 0xc1103e4e, 0x3fb504f3, 0x3fb504f4, 0x3f3504f3, 0x33800000, 0xb3800000, 0x4b400000,
  0x4b800001, 0xcb800001, 0x40490fdb, 0xc0490fdb, 0x3dcccccd, 0xbdcccccd, 0x40400000, 0xc0400000, 0x41200000, 0xc1200000,
];

/** Special values, random normals at a few scales, and random bit patterns. */
function mixedValues(rng: Rng, count: number): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  const words = rng.words(count);
  const normal = rng.normal([count]).data;
  for (let i = 0; i < count; i++) {
    if (i < SPECIAL_BITS.length) bits[i] = SPECIAL_BITS[i];
    else if (i % 3 === 0) bits[i] = words[i];
    else out[i] = normal[i] * [0.01, 1, 10, 100][i % 4];
  }
  return out;
}

const tensorOf = (values: Float32Array, shape?: number[]) => new Tensor(values, shape ?? [values.length]);
const ints = (values: number[], shape?: number[]) => Tensor.from(values, shape, 'int32');

function expectAllElementsMatch(records: Recorded[]): number {
  let elements = 0;
  for (const r of records) {
    const { mismatches, steps } = checkElements(r);
    expect(mismatches).toEqual([]);
    // One program per op, whose loops run a fixed count: every element executes as many instructions.
    expect(Math.max(...steps) - Math.min(...steps), `${r.op}: steps vary by element`).toBe(0);
    elements += steps.length;
  }
  return elements;
}

const entryOf = (r: Recorded) => ({
  op: r.op,
  attrs: r.attrs,
  inputShapes: r.inputs.map((t) => t.shape),
  inputDtypes: r.inputs.map((t) => t.dtype),
  outputShape: r.output.shape,
});

/** Instructions executed for element 0 of a recorded op (every element costs the same, within a few). */
const stepsOf = (r: Recorded) => run(programOf(entryOf(r)), r.inputs.map(wordsOf), 0).steps;

/** One case per primitive (a test fails for a primitive without one): runs it with broadcasting, each axis, special values. */
const CASES: Partial<Record<Op, (rng: Rng) => unknown>> = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, (rng: Rng) => T.unary(op, tensorOf(mixedValues(rng, 600)))])),
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, (rng: Rng) => binaryCase(op, rng)])),
  ...Object.fromEntries(COMPARE_OPS.map((op) => [op, (rng: Rng) => compareCase(op, rng)])),
  sum: (rng) => reduceCase((x, axis, keep) => T.sum(x, axis, keep), rng),
  max: (rng) => reduceCase((x, axis, keep) => T.max(x, axis, keep), rng),
  argmax: (rng) => {
    reduceCase((x, axis, keep) => T.argmax(x, axis, keep), rng);
    T.argmax(Tensor.from([1, 3, 3, NaN, 5, NaN, -0, 0, 0, -0, 2, 2], [4, 3]), 1);
  },
  reshape: (rng) => T.reshape(rng.normal([2, 3, 4]), [4, -1]),
  permute: (rng) => {
    T.permute(rng.normal([2, 3, 4]), [2, 0, 1]);
    T.permute(rng.integers([3, 5], 0, 9), [1, 0]);
  },
  expand: (rng) => {
    T.expand(rng.normal([3, 1]), [2, 3, 4]);
    T.expand(rng.integers([4], 0, 9), [3, 4]);
  },
  slice: (rng) => {
    T.slice(rng.normal([3, 5, 2]), 1, 1, 4);
    T.slice(rng.normal([4, 3]), 0, 2, 4);
  },
  concat: (rng) => {
    T.concat([rng.normal([2, 1, 3]), rng.normal([2, 3, 3]), rng.normal([2, 2, 3])], 1);
    T.concat([rng.integers([2, 2], 0, 9), rng.integers([1, 2], 0, 9)], 0);
  },
  take: (rng) => {
    T.take(rng.normal([5, 3]), 0, ints([4, 0, 4, 2, 1, 4], [2, 3]));
    T.take(rng.normal([2, 5, 3]), 1, ints([3, 3, 0]));
  },
  scatter_add: (rng) => {
    T.scatterAdd(rng.normal([2, 4, 3]), 1, ints([2, 0, 2, 2]), 5);
    T.scatterAdd(tensorOf(mixedValues(rng, 60), [2, 3, 10]), 0, ints([1, 1, 1, 0, 1, 1], [2, 3]), 3);
  },
  take_along: (rng) => {
    T.takeAlong(rng.normal([3, 5]), 1, ints([4, 0, 4, 1, 1, 2], [3, 2]));
    T.takeAlong(rng.normal([4, 2, 3]), 0, ints([3, 0, 1, 1, 2, 3, 0, 0, 0, 2, 2, 1], [2, 2, 3]));
  },
  scatter_add_along: (rng) => {
    T.scatterAddAlong(rng.normal([3, 4]), 1, ints([1, 1, 0, 1, 2, 2, 2, 2, 0, 1, 0, 1], [3, 4]), 3);
    T.scatterAddAlong(tensorOf(mixedValues(rng, 24), [4, 2, 3]), 0, ints(Array.from({ length: 24 }, (_, i) => (i * 7) % 2), [4, 2, 3]), 2);
  },
  where: (rng) => {
    T.where(ints([1, 0, 3], [3, 1]), rng.normal([1, 4]), tensorOf(mixedValues(rng, 12), [3, 4]));
    T.where(ints([0, 1]), rng.integers([3, 2], -5, 5), rng.integers([2], -5, 5));
  },
  cast: (rng) => {
    const inRange = Float32Array.from([0, -0, 0.5, -0.5, 1.99, -1.99, 2147483520, -2147483648, 16777217, 1e9, -1e-40]);
    T.cast(tensorOf(inRange), 'int32');
    T.cast(ints([0, 1, -1, 16777217, 16777219, -16777221, 2147483647, -2147483648, 123456789]), 'float32');
    T.cast(rng.normal([5]), 'float32');
    T.cast(rng.integers([5], -9, 9), 'int32');
  },
  matmul: (rng) => {
    T.matmul(tensorOf(mixedValues(rng, 20), [4, 5]), rng.normal([5, 3]));
    T.matmul(rng.normal([5, 4]), rng.normal([5, 3]), { transposeA: true });
    T.matmul(rng.normal([4, 5]), rng.normal([3, 5]), { transposeB: true });
    T.matmul(rng.normal([2, 5, 4]), rng.normal([2, 3, 5]), { transposeA: true, transposeB: true });
    T.matmul(rng.normal([2, 3, 4, 5]), rng.normal([5, 2]));
    T.matmul(rng.normal([3, 4]), rng.normal([2, 4, 5]));
    T.matmul(rng.normal([3, 0]), rng.normal([0, 2]));
  },
  layer_norm: (rng) => rowCases(rng, (x) => T.layerNormLast(x, 1e-5), (x) => T.layerNormLast(x, 0.1)),
  layer_norm_grad: (rng) => rowCases(rng, (x) => T.layerNormGrad(x, rng.normal(x.shape), 1e-5), (x) => T.layerNormGrad(x, tensorOf(mixedValues(rng, x.size), [...x.shape]), 0.1)),
  softmax: (rng) => {
    rowCases(rng, (x) => T.softmaxLast(x));
    // Masked rows as attention makes them (-Inf), and a fully masked row (NaN).
    T.softmaxLast(Tensor.from([0.5, -Infinity, -Infinity, 2, 1, -Infinity, -Infinity, -Infinity, -Infinity, 90, 88, -90], [4, 3]));
  },
  softmax_grad: (rng) => rowCases(rng, (y) => T.softmaxGrad(y, rng.normal(y.shape)), (y) => T.softmaxGrad(T.softmaxLast(y), tensorOf(mixedValues(rng, y.size), [...y.shape]))),
  const: () => {
    for (const value of [1.5, -0, NaN, -Infinity, 0.1]) T.constant(value);
    T.constant(-7, 'int32');
  },
};

function binaryCase(op: Parameters<typeof T.binary>[0], rng: Rng): void {
  const special = Float32Array.from(SPECIAL_BITS, fromBits);
  const n = special.length;
  T.binary(op, tensorOf(special, [n, 1]), tensorOf(special, [1, n])); // every pair of special values
  T.binary(op, tensorOf(mixedValues(rng, 300)), tensorOf(mixedValues(rng, 300).reverse()));
  T.binary(op, rng.normal([2, 3, 4]), rng.normal([4]));
  T.binary(op, rng.normal([3, 1]), rng.normal([2, 1, 5]));
}

function compareCase(op: Parameters<typeof T.compare>[0], rng: Rng): void {
  const special = Float32Array.from(SPECIAL_BITS, fromBits);
  const n = special.length;
  T.compare(op, tensorOf(special, [n, 1]), tensorOf(special, [1, n]));
  T.compare(op, rng.integers([4, 1], -3, 3), rng.integers([5], -3, 3));
  T.compare(op, ints([-2147483648, 2147483647, 0]), ints([2147483647, -2147483648, 0]));
}

/**
 * Row ops on several row lengths (1, 2, 5, 33, and a rank-3 input): random rows at mixed scales, rows
 * that hold special values (±0, subnormals, ±Inf, NaN, huge), and a constant row (variance 0).
 */
function rowCases(rng: Rng, ...fs: ((x: Tensor) => unknown)[]): void {
  for (const f of fs) {
    for (const shape of [[3, 1], [4, 2], [3, 5], [2, 33], [2, 3, 4]]) f(rng.normal(shape, 0, [0.01, 1, 100][shape[0] % 3]));
    f(tensorOf(mixedValues(rng, 60), [12, 5]));
    f(tensorOf(Float32Array.from(SPECIAL_BITS.slice(0, 48), fromBits), [6, 8]));
    f(tensorOf(new Float32Array(8).fill(3.5), [2, 4]));
  }
}

function reduceCase(reduce: (x: Tensor, axis: number, keepDims: boolean) => Tensor, rng: Rng): void {
  const x = tensorOf(mixedValues(rng, 60).map((v, i) => (i % 7 === 0 ? v : Math.fround(v * 0.01))), [3, 4, 5]);
  for (const axis of [0, 1, 2]) for (const keep of [false, true]) reduce(x, axis, keep);
  reduce(Tensor.from([-0, -0, 0, -0, NaN, 1, -Infinity, -Infinity], [4, 2]), 0, false);
}

describe('element programs reproduce every primitive bit for bit', () => {
  it.each(ALL_OPS)('%s', (op) => {
    const cases = CASES[op];
    expect(cases, `no test case for the primitive ${op}`).toBeDefined();
    const records = record(() => cases!(new Rng(7, ALL_OPS.indexOf(op))));
    expect(records.some((r) => r.op === op)).toBe(true);
    expectAllElementsMatch(records.filter((r) => r.op === op));
  });

  it('agree with the runtime on every element of a small GPT training step (forward and backward)', () => {
    const model = gpt({ vocabSize: 13, contextLength: 8, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 });
    const rng = new Rng(3);
    const params = model.init(rng);
    const ids = rng.integers([2, 8], 0, 13);
    const targets = rng.integers([2, 8], 0, 13);
    const records = record(() => valueAndGrad((p: typeof params) => crossEntropy(model.apply(p, ids), targets))(params));
    const ops = new Set(records.map((r) => r.op));
    for (const op of ['matmul', 'gelu', 'exp', 'log', 'take', 'scatter_add', 'take_along', 'scatter_add_along', 'sum', 'max']) {
      expect(ops.has(op as Op), op).toBe(true);
    }
    expect(expectAllElementsMatch(records)).toBeGreaterThan(1000);
  });
});

/**
 * Random shapes and attributes: the op's one program, run from initialState(i), gives element i of
 * the runtime's output for every i, whatever the extents the program divides the index by.
 */
function randomShapes(rng: Rng): void {
  const words = rng.words(64);
  let at = 0;
  const int = (lo: number, hi: number) => lo + (words[at++ % words.length] % (hi - lo + 1));
  const shape = (rank: number) => Array.from({ length: rank }, () => int(1, 4));
  const x = shape(int(1, 4));
  const axis = int(0, x.length - 1);
  const ys = [x, x.map((n) => (int(0, 1) ? 1 : n)), x.slice(int(0, x.length - 1))];
  T.binary('add', rng.normal(x), rng.normal(ys[int(1, 2)]));
  T.compare('lt', rng.normal(ys[int(1, 2)]), rng.normal(x));
  T.where(rng.integers(ys[int(1, 2)], 0, 2), rng.normal(x), rng.normal(ys[int(1, 2)]));
  T.sum(rng.normal(x), axis, int(0, 1) === 1);
  T.max(rng.normal(x), axis, false);
  T.argmax(rng.integers(x, 0, 3).cast('float32'), axis, false);
  T.permute(rng.normal(x), Array.from(rng.permutation(x.length)));
  T.expand(rng.normal(ys[1]), [int(1, 3), ...x]);
  const start = int(0, x[axis] - 1);
  T.slice(rng.normal(x), axis, start, int(start + 1, x[axis]));
  T.concat([1, 2, 3].slice(0, int(1, 3)).map(() => rng.normal(x.map((n, i) => (i === axis ? int(1, 3) : n)))), axis);
  const m = int(1, 5);
  T.take(rng.normal(x), axis, rng.integers(shape(int(1, 2)), 0, x[axis]));
  T.scatterAdd(rng.normal([...x.slice(0, axis), m, ...x.slice(axis + 1)]), axis, rng.integers([m], 0, x[axis]), x[axis]);
  const along = x.map((n, i) => (i === axis ? m : n));
  T.takeAlong(rng.normal(x), axis, rng.integers(along, 0, x[axis]));
  T.scatterAddAlong(rng.normal(along), axis, rng.integers(along, 0, x[axis]), x[axis]);
  const [b, i, k, j] = [int(1, 3), int(1, 4), int(0, 5), int(1, 4)];
  const [tA, tB] = [int(0, 1) === 1, int(0, 1) === 1];
  const batched = int(0, 2);
  const a = [...(batched & 1 ? [b] : []), ...(tA ? [k, i] : [i, k])];
  const c = [...(batched & 2 ? [b] : []), ...(tB ? [j, k] : [k, j])];
  T.matmul(rng.normal(a), rng.normal(c), { transposeA: tA, transposeB: tB });
  T.softmaxLast(rng.normal(x));
  T.layerNormGrad(rng.normal(x), rng.normal(x), 1e-5);
}

describe('one program per op, over the output index', () => {
  it('gives every element of random shapes and attributes, from initialState(element)', () => {
    const ops = new Set<Op>();
    for (let seed = 0; seed < 40; seed++) {
      const records = record(() => randomShapes(new Rng(100 + seed)));
      for (const r of records) expect(checkElements(r).mismatches, `seed ${seed}`).toEqual([]);
      for (const r of records) ops.add(r.op);
    }
    expect([...ops].sort()).toEqual(expect.arrayContaining(['add', 'argmax', 'concat', 'expand', 'layer_norm_grad', 'lt', 'matmul', 'max', 'permute', 'scatter_add', 'scatter_add_along', 'slice', 'softmax', 'sum', 'take', 'take_along', 'where']));
  });

  it('is the same program, with one Merkle root, for every element', () => {
    const records = record(() => T.matmul(new Rng(1).normal([3, 4]), new Rng(2).normal([4, 5])));
    const entry = entryOf(records[0]);
    const roots = new Set(Array.from({ length: 15 }, (_, i) => toHex(programRoot(elementProgram(entry, i).program))));
    expect(roots.size).toBe(1);
    expect(() => elementProgram(entry, 15)).toThrow(ElementProgramError);
  });
});

describe('referee work', () => {
  // The figures (instructions per element of each op, the mean over a gpt-tiny step) are in `npm run bench -- dispute`.
  it('a matmul element program costs the same instructions per k: one loop body per term, plus a fixed prologue', () => {
    const rng = new Rng(1);
    const stepsAt = (k: number) => stepsOf(record(() => T.matmul(rng.normal([1, k]), rng.normal([k, 1])))[0]);
    const body = stepsAt(3) - stepsAt(2);
    expect(stepsAt(128) - stepsAt(64)).toBe(64 * body);
    expect(stepsAt(128)).toBe(stepsAt(2) + 126 * body);
    // at most 7 instructions per term of the dot product: 2 loads, ffma, the loop's index updates, count and jnz
    // (k = 128: 906 in all)
    expect(body).toBeLessThanOrEqual(7);
  });
});

describe('the math.ts translations', () => {
  const FUNCTIONS = { exp: math.exp, log: math.log, tanh: math.tanh, sigmoid: math.sigmoid, gelu: math.gelu, gelu_grad: math.geluGrad };

  /** Special values, random bit patterns, and dense uniform samples where the polynomials decide the last bit. */
  function inputs(): Float32Array {
    const rng = new Rng(11, 1);
    const dense = rng.uniform([20000], -12, 12).data as Float32Array;
    return Float32Array.from([...mixedValues(rng, 2000), ...dense, ...dense.map((v) => Math.fround(v / 64))]);
  }

  it.each(Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[])('%s matches math.ts bit for bit', (name) => {
    const entry = { op: name, attrs: {}, inputShapes: [[1]], inputDtypes: ['float32' as const], outputShape: [1] };
    const program = programOf(entry); // one program, run on one-element memories
    const wrong: string[] = [];
    for (const x of inputs()) {
      const y = FUNCTIONS[name](x);
      const expected = y !== y ? CANONICAL_NAN_BITS : bitsOf(y);
      const got = run(program, [new Int32Array(new Float32Array([x]).buffer)], 0).result >>> 0;
      if (got !== expected && wrong.length < 5) wrong.push(`${name}(${x}): ${got.toString(16)} != ${expected.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });
});
