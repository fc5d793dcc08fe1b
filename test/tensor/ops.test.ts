import { describe, expect, it } from 'vitest';
import { DTypeError, IndexRangeError, NonFiniteError, ShapeError, Tensor, crossEntropy, mean } from '../../src/tensor/index.js';
import * as ops from '../../src/tensor/ops.js';

const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));
const f = (values: number[], shape?: number[]) => Tensor.from(values, shape);

describe('elementwise ops', () => {
  it('broadcast like NumPy', () => {
    const out = f([1, 2, 3, 4, 5, 6], [2, 3]).add(f([10, 20, 30]));
    expect(out.shape).toEqual([2, 3]);
    expect(out.toArray()).toEqual([11, 22, 33, 14, 25, 36]);
    expect(f([1, 2], [2, 1]).mul(f([1, 10, 100])).toArray()).toEqual([1, 10, 100, 2, 20, 200]);
  });

  it('round every result to float32', () => {
    expect(f([0.1]).add(f([0.2])).item()).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(f([1]).div(f([3])).item()).toBe(Math.fround(1 / 3));
  });

  it('write the canonical NaN for every NaN', () => {
    const out = f([0, Infinity, -1]).div(f([0, Infinity, 0])).add(f([0]));
    expect(bits(f([0, Infinity]).div(f([0, Infinity])))).toEqual([0x7fc00000, 0x7fc00000]);
    expect(bits(out)[2]).toBe(0xff800000);
    expect(bits(f([-1]).sqrt())).toEqual([0x7fc00000]);
  });

  it('maximum and minimum treat -0 < +0 and propagate NaN', () => {
    expect(bits(f([-0, 0, NaN]).maximum(f([0, -0, 1])))).toEqual([0, 0, 0x7fc00000]);
    expect(bits(f([-0, 0]).minimum(f([0, -0])))).toEqual([0x80000000, 0x80000000]);
  });

  it('compare and select', () => {
    const a = f([1, 2, NaN]);
    expect(a.lt(2).toArray()).toEqual([1, 0, 0]);
    expect(a.le(2).toArray()).toEqual([1, 1, 0]);
    expect(a.eq(a).toArray()).toEqual([1, 1, 0]);
    expect(ops.where(a.lt(2), a, f([9])).toArray()).toEqual([1, 9, 9]);
  });

  it('cast truncates toward zero and refuses non-finite values', () => {
    expect(f([1.7, -1.7, 3]).cast('int32').toArray()).toEqual([1, -1, 3]);
    expect(Tensor.from([16777217], [1], 'int32').cast('float32').item()).toBe(16777216);
    expect(() => f([1, Infinity]).cast('int32')).toThrow(NonFiniteError);
  });
});

describe('reductions', () => {
  it('sum in index order from +0', () => {
    expect(bits(f([-0, -0]).sum(0))).toEqual([0]);
    // (1e8 + 1) + -1e8 in float32 order differs from 1e8 + (1 - 1e8): the order is part of the spec.
    expect(f([1e8, 1, -1e8]).sum(0).item()).toBe(Math.fround(Math.fround(Math.fround(1e8) + 1) - Math.fround(1e8)));
    expect(f([1, 2, 3, 4, 5, 6], [2, 3]).sum(0).toArray()).toEqual([5, 7, 9]);
    expect(f([1, 2, 3, 4, 5, 6], [2, 3]).sum(-1, true).shape).toEqual([2, 1]);
  });

  it('max, mean and argmax', () => {
    const x = f([3, 1, 3, -5, NaN, 2], [2, 3]);
    expect(bits(x.max(1))).toEqual([bits(f([3]))[0], 0x7fc00000]);
    expect(x.argmax(1).toArray()).toEqual([0, 1]);
    expect(mean(f([1, 2, 4]), 0).item()).toBe(Math.fround(7 / 3));
  });
});

describe('movement and indexing move bits exactly', () => {
  const x = f([0, 1, 2, 3, 4, 5], [2, 3]);
  it('reshape, transpose, slice, concat, expand', () => {
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(x.transpose().toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(x.slice(1, 1, 3).toArray()).toEqual([1, 2, 4, 5]);
    expect(ops.concat([x, x.slice(1, 0, 1)], 1).toArray()).toEqual([0, 1, 2, 0, 3, 4, 5, 3]);
    expect(f([7, 8]).expand([2, 2]).toArray()).toEqual([7, 8, 7, 8]);
    const nan = new Tensor(new Float32Array(new Uint32Array([0x7fc00000, 0x80000000]).buffer), [2]);
    expect(bits(nan.reshape([2, 1]).transpose().expand([3, 2]))).toEqual([0x7fc00000, 0x80000000, 0x7fc00000, 0x80000000, 0x7fc00000, 0x80000000]);
  });

  it('take, scatter-add in index order, take-along', () => {
    const ids = Tensor.from([1, 1, 0], [3], 'int32');
    expect(x.take(0, ids).toArray()).toEqual([3, 4, 5, 3, 4, 5, 0, 1, 2]);
    expect(ops.scatterAdd(f([1, 2, 3]), 0, ids, 2).toArray()).toEqual([3, 3]);
    const along = Tensor.from([2, 0], [2, 1], 'int32');
    expect(x.takeAlong(1, along).toArray()).toEqual([2, 3]);
    expect(ops.scatterAddAlong(f([1, 1], [2, 1]), 1, along, 3).toArray()).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('cross-entropy is the mean negative log-probability of the targets', () => {
    const logits = f([0, 0, Math.log(2)], [1, 3]);
    expect(crossEntropy(logits, Tensor.from([2], [1], 'int32')).item()).toBeCloseTo(Math.log(2), 5);
  });
});

describe('bad input names the op, the shapes and what was expected', () => {
  it('shape mismatches', () => {
    expect(() => f([1, 2, 3]).add(f([1, 2]))).toThrow(/add: shapes \[3\] and \[2\] do not fit/);
    expect(() => f([1, 2, 3, 4], [2, 2]).matmul(f([1, 2, 3], [3, 1]))).toThrow(/matmul: shapes \[2, 2\] and \[3, 1\].*\[\.\.\., m, k\] x \[\.\.\., k, n\]/);
    expect(() => x2().reshape([5])).toThrow(ShapeError);
    expect(() => x2().sum(2)).toThrow(/sum: .*axis in -2\.\.1, got 2/);
  });
  it('wrong dtypes and indices out of range', () => {
    expect(() => Tensor.from([1], [1], 'int32').exp()).toThrow(DTypeError);
    expect(() => x2().take(0, f([0]))).toThrow(/take: got a float32 tensor, expected int32 indices/);
    expect(() => x2().take(0, Tensor.from([2], [1], 'int32'))).toThrow(IndexRangeError);
    expect(() => x2().take(0, Tensor.from([2], [1], 'int32'))).toThrow(/index 2 .* size 2/);
  });
  const x2 = () => f([1, 2, 3, 4], [2, 2]);
});
