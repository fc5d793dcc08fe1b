import { describe, expect, it } from 'vitest';
import { anyOfCatch, catchProbability, deterringProbability, sampleSteps, stepsForCatch } from '../../src/verify/index.js';

describe('the catch probability of sampling K of T steps', () => {
  it('is K/T for one cheated step, 1 for a full re-execution, and grows with K and with the cheat', () => {
    expect(catchProbability(1000, 10)).toBeCloseTo(0.01, 12);
    expect(catchProbability(1000, 1000)).toBe(1);
    expect(catchProbability(1000, 0)).toBe(0);
    expect(catchProbability(1000, 10, 0)).toBe(0);
    expect(catchProbability(10, 6, 5)).toBe(1); // 6 draws cannot all avoid 5 of 10
    expect(catchProbability(1000, 10, 10)).toBeCloseTo(1 - (990 * 989 * 988 * 987 * 986 * 985 * 984 * 983 * 982 * 981) / (1000 * 999 * 998 * 997 * 996 * 995 * 994 * 993 * 992 * 991), 12);
    for (let k = 1; k < 50; k++) expect(catchProbability(200, k, 3)).toBeGreaterThan(catchProbability(200, k - 1, 3));
  });

  it('matches what sampleSteps really draws, over many public seeds', () => {
    const [T, K, cheated] = [40, 5, [7, 23]];
    const seeds = 4000;
    let caught = 0;
    for (let s = 0; s < seeds; s++) if (sampleSteps(`seed-${s}`, T, K).some((t) => cheated.includes(t))) caught++;
    // Deterministic seeds: the frequency is fixed; it lies well within 3 standard deviations of the formula.
    const p = catchProbability(T, K, cheated.length);
    expect(Math.abs(caught / seeds - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / seeds));
  });

  it('turns a deterrence target into a sample size', () => {
    // Reward 25 for an unchecked cheat against a stake of 5: only p >= 25/30 deters it.
    const p = deterringProbability(25, 5);
    expect(p).toBeCloseTo(25 / 30, 12);
    expect(stepsForCatch(1000, p)).toBe(834);
    expect(stepsForCatch(1000, 0.99, 50)).toBeLessThan(100);
    expect(anyOfCatch(0.1, 3)).toBeCloseTo(1 - 0.9 ** 3, 12);
  });
});
