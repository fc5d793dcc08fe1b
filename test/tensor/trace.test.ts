import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng, Tensor, hashTensor, softmax, trace } from '../../src/tensor/index.js';

describe('canonical hashing', () => {
  it('covers dtype, shape and little-endian data', () => {
    const a = Tensor.from([1, 2, 3, 4], [2, 2]);
    // SHA-256 of u32 LE [1 (float32), 2 (rank), 2, 2] then the float32 LE bytes of 1, 2, 3, 4.
    const bytes = Buffer.concat([Buffer.from(new Uint32Array([1, 2, 2, 2]).buffer), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
    expect(hashTensor(a)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(hashTensor(a)).not.toBe(hashTensor(a.reshape([4])));
    expect(hashTensor(a)).not.toBe(hashTensor(Tensor.from([1, 2, 3, 4], [2, 2], 'int32')));
    expect(hashTensor(a)).toBe(hashTensor(Tensor.from([1, 2, 3, 4], [2, 2])));
  });
});

describe('op trace', () => {
  const program = () => {
    const rng = new Rng(9);
    const x = rng.normal([2, 3]).requireGrad();
    const loss = softmax(x.matmul(rng.normal([3, 4]))).sum(1).sum(0);
    loss.backward();
    return x.grad!;
  };

  it('lists every primitive, forward and backward, with ids and hashes', () => {
    const { result, entries } = trace(program);
    const kinds = entries.map((e) => e.op);
    expect(kinds.slice(0, 3)).toEqual(['matmul', 'softmax', 'sum']);
    expect(kinds).toContain('softmax_grad');
    expect(kinds.filter((k) => k === 'matmul').length).toBe(2); // forward, and the gradient of x
    const last = entries[entries.length - 1];
    expect(last.output.hash).toBe(hashTensor(result));
    for (const e of entries) for (const input of e.inputs) expect(input.id).toBeLessThanOrEqual(e.output.id);
  });

  it('is the same on every run, whatever ran before', () => {
    const first = trace(program).entries;
    Tensor.zeros([5]).add(1);
    const second = trace(program).entries;
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });
});
