import { describe, expect, it } from 'vitest';
import { Rng, philoxBlock, randomWords } from '../../src/tensor/index.js';

const block = (key: number[], ctr: number[]) => {
  const out = new Uint32Array(4);
  philoxBlock(key[0], key[1], ctr[0], ctr[1], ctr[2], ctr[3], out);
  return Array.from(out, (w) => w.toString(16).padStart(8, '0'));
};

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(block([0, 0], [0, 0, 0, 0])).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(block([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff])).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(block([0xa4093822, 0x299f31d0], [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344])).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('a value depends only on (seed, stream, offset), not on how the stream was read', () => {
    const whole = randomWords({ seed: 7, stream: 3, offset: 0 }, 37);
    const rng = new Rng(7, 3);
    const pieces = [...rng.words(5), ...rng.words(1), ...rng.words(31)];
    expect(pieces).toEqual(Array.from(whole));
    expect(Array.from(randomWords({ seed: 7, stream: 3, offset: 13 }, 3))).toEqual(Array.from(whole.subarray(13, 16)));
    expect(Array.from(randomWords({ seed: 7, stream: 4, offset: 0 }, 4))).not.toEqual(Array.from(whole.subarray(0, 4)));
    expect(Array.from(randomWords({ seed: 2 ** 40 + 7, stream: 3, offset: 0 }, 4))).not.toEqual(Array.from(whole.subarray(0, 4)));
  });
});

describe('distributions', () => {
  it('uniform lies in [low, high) with the right mean', () => {
    const u = Array.from(new Rng(1).uniform([20000], -1, 3).data);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(u.reduce((a, b) => a + b, 0) / u.length).toBeCloseTo(1, 1);
  });

  it('normal has mean 0 and std 1, odd sizes included', () => {
    const z = Array.from(new Rng(2).normal([20001]).data);
    const m = z.reduce((a, b) => a + b, 0) / z.length;
    const v = z.reduce((a, b) => a + (b - m) ** 2, 0) / z.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(0.03);
    expect(z.every((x) => Number.isFinite(x) && Math.fround(x) === x)).toBe(true);
  });

  it('integers cover [low, high) and permutations are permutations', () => {
    const k = new Rng(3).integers([10000], -2, 3).data;
    expect(new Set(k)).toEqual(new Set([-2, -1, 0, 1, 2]));
    const p = new Rng(4).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(new Rng(4).permutation(1000))).toEqual(Array.from(p));
  });

  it('offsets advance by exactly the words read', () => {
    const rng = new Rng(5);
    rng.uniform([3]);
    rng.normal([3]);
    rng.permutation(4);
    expect(rng.offset).toBe(3 + 4 + 3);
  });
});
