import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { geluGrad64, MATH_CASES, type MathCase, strideSample, ulpError } from '../../bench/math.js';
import { cospi, exp, gelu, geluGrad, log, sigmoid, sinpi, tanh } from '../../src/tensor/math.js';

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);
const fromBits = (bits: number): number => {
  u32Bits[0] = bits >>> 0;
  return f32Bits[0];
};
const bitsOf = (x: number): number => {
  f32Bits[0] = x;
  return u32Bits[0];
};

/** Every 4099th bit pattern of 2^32 (both signs, all exponents, NaNs, subnormals): ~1M inputs. */
const SAMPLE = strideSample(4099);

/** Bit patterns whose neighbourhoods hold each function's thresholds and branch points. */
const EDGES: Record<string, number[]> = {
  exp: [0x42b17218, 0xc2cff1b5, 0xc2aeac50 /* -87.34, subnormal results begin */, 0x3eb17218 /* ln2/2 */, 0x3f317218, 0x00000001, 0x3f800000],
  log: [0x3f800000, 0x3fb504f3 /* sqrt 2 */, 0x3f3504f3, 0x00800000, 0x00000001, 0x007fffff, 0x7f7fffff, 0x40000000],
  tanh: [0x3e99999a /* branch at 0.3 */, 0x41102cb4 /* 9.011, saturation */, 0x39800000, 0x00800000, 0x3f800000],
  sigmoid: [0xc2aeac50, 0xc2cff1b5, 0xc2d00000, 0x41880000 /* 17, rounds to 1 */, 0x00000001, 0x3f800000],
  gelu: [0x3f800000, 0xc0a00000],
  sinpi: [0x3e800000 /* 1/4 */, 0x3f000000, 0x3f800000, 0x4b000000, 0x4b800000, 0x1f800000 /* 2^-64 */, 0x00800000, 0x00000001],
  cospi: [0x3e800000, 0x3f000000, 0x3f800000, 0x4b000000, 0x4b800000, 0x3fc00000, 0x00000001],
};

/** Inputs within 64 bit patterns of each edge, both signs. */
function edgeInputs(name: string): number[] {
  const inputs: number[] = [];
  for (const edge of EDGES[name]) {
    for (let d = -64; d <= 64; d++) {
      const bits = (edge + d) >>> 0;
      inputs.push(fromBits(bits), fromBits((bits ^ 0x80000000) >>> 0));
    }
  }
  return inputs;
}

function maxUlpOver(c: MathCase, inputs: ArrayLike<number>): { maxUlp: number; worst: number } {
  let maxUlp = 0;
  let worst = 0;
  for (let i = 0; i < inputs.length; i++) {
    const err = ulpError(c.ours(inputs[i]), c.reference(inputs[i]));
    if (err > maxUlp) {
      maxUlp = err;
      worst = inputs[i];
    }
  }
  return { maxUlp, worst };
}

describe.each(MATH_CASES.filter((c) => c.bounded))('$name', (c) => {
  it('is within 1 ulp of the correctly rounded result on every 4099th float32', () => {
    const { maxUlp, worst } = maxUlpOver(c, SAMPLE);
    expect(maxUlp, `worst input ${worst} (0x${bitsOf(worst).toString(16)})`).toBeLessThanOrEqual(1);
  });

  it('is within 1 ulp around its thresholds and branch points', () => {
    const { maxUlp, worst } = maxUlpOver(c, edgeInputs(c.name));
    expect(maxUlp, `worst input ${worst} (0x${bitsOf(worst).toString(16)})`).toBeLessThanOrEqual(1);
  });
});

describe.each(MATH_CASES)('$name results', (c) => {
  it('are float32 values, and the array version writes the scalar bits', () => {
    const out = new Float32Array(SAMPLE.length);
    c.oursArray(SAMPLE, out);
    for (let i = 0; i < SAMPLE.length; i++) {
      const y = c.ours(SAMPLE[i]);
      if (y !== y) {
        expect(out[i]).toBeNaN();
        continue;
      }
      if (Math.fround(y) !== y || !Object.is(out[i], y)) {
        expect({ x: SAMPLE[i], y, stored: out[i] }).toEqual({ x: SAMPLE[i], y: Math.fround(y), stored: y });
      }
    }
  });
});

describe('gelu accuracy (x * sigmoid(2u) vs the same formula in float64)', () => {
  const gelu = MATH_CASES.find((c) => c.name === 'gelu')!;
  const over = (lo: number, hi: number) => maxUlpOver(gelu, SAMPLE.filter((x) => x >= lo && x < hi));

  it('is within 2 ulp for x >= 0, where sigmoid(2u) is in [1/2, 1]', () => {
    expect(over(0, Infinity).maxUlp).toBeLessThanOrEqual(2);
  });

  it('does not cancel for negative x: the rounding of u, amplified by |2u|, is the only large error', () => {
    // 0.5x(1 + tanh u) lost every bit below x = -3; this form keeps all but log2(|2u| * 3) of them.
    expect(over(-3, 0).maxUlp).toBeLessThanOrEqual(16);
    expect(over(-Infinity, -3).maxUlp).toBeLessThanOrEqual(200);
  });
});

describe('geluGrad accuracy (vs the same derivative in float64)', () => {
  /** Max absolute error, and max relative error where |gelu'| > 1e-3, over every 4099th float32 in [lo, hi). */
  const over = (lo: number, hi: number) => {
    let maxAbs = 0;
    let maxRel = 0;
    for (const x of SAMPLE) {
      if (!(x >= lo && x < hi)) continue;
      const exact = geluGrad64(x);
      const err = Math.abs(geluGrad(x) - exact);
      maxAbs = Math.max(maxAbs, err);
      if (Math.abs(exact) > 1e-3) maxRel = Math.max(maxRel, err / Math.abs(exact));
    }
    return { maxAbs, maxRel };
  };

  // Measured (every 997th float32): rel 3.7e-7 on [-0.5, 0.5), 3.2e-7 on [0.5, 3), 9.6e-7 on [3, 5),
  // 1.0e-6 above 5 (1 - s loses s's rounding; 0 once s rounds to 1), 9e-7 on [-3, -1), 1.3e-6 on
  // [-10, -3); 3.2e-5 on [-1, -0.5), next to the zero at x = -0.7518 where the terms cancel.
  it.each([
    [-10, -3, 4e-6],
    [-3, -1, 4e-6],
    [-1, -0.5, 1e-4],
    [-0.5, 0.5, 2e-6],
    [0.5, 3, 2e-6],
    [3, 5, 4e-6],
    [5, Infinity, 4e-6],
  ])('on [%s, %s): relative error below %s where |gelu\'| > 1e-3', (lo, hi, bound) => {
    expect(over(lo, hi).maxRel).toBeLessThan(bound);
  });

  it('has absolute error below 2^-19 everywhere, and is finite for every non-NaN input', () => {
    expect(over(-Infinity, Infinity).maxAbs).toBeLessThan(2 ** -19);
    for (const x of SAMPLE) if (x === x) expect(Number.isFinite(geluGrad(x))).toBe(true);
  });
});

it('array versions refuse a dst shorter than src', () => {
  expect(() => MATH_CASES[0].oursArray(new Float32Array(4), new Float32Array(3))).toThrow(/dst has 3 elements but src has 4/);
});

describe('special values', () => {
  const functions: Record<string, (x: number) => number> = { exp, log, tanh, sigmoid, gelu, gelu_grad: geluGrad, sinpi, cospi };
  const cases: [string, number, number][] = [
    ['exp', -Infinity, 0],
    ['exp', Infinity, Infinity],
    ['exp', 0, 1],
    ['exp', -0, 1],
    ['exp', fromBits(0x42b17217), fromBits(0x7f7fff84)],
    ['exp', fromBits(0x42b17218), Infinity],
    ['exp', fromBits(0xc2cff1b4), fromBits(0x00000001)],
    ['exp', fromBits(0xc2cff1b5), 0],
    ['exp', 1, fromBits(0x402df854)],
    ['log', 0, -Infinity],
    ['log', -0, -Infinity],
    ['log', -1, NaN],
    ['log', -Infinity, NaN],
    ['log', Infinity, Infinity],
    ['log', 1, 0],
    ['log', fromBits(0x00000001), fromBits(0xc2ce8ed0)],
    ['log', fromBits(0x7f7fffff), fromBits(0x42b17218)],
    ['tanh', -0, -0],
    ['tanh', 0, 0],
    ['tanh', Infinity, 1],
    ['tanh', -Infinity, -1],
    ['tanh', 10, 1],
    ['tanh', fromBits(0x00000001), fromBits(0x00000001)],
    ['sigmoid', Infinity, 1],
    ['sigmoid', -Infinity, 0],
    ['sigmoid', 0, 0.5],
    ['sigmoid', -0, 0.5],
    ['sigmoid', -200, 0],
    ['gelu', Infinity, Infinity],
    ['gelu', -Infinity, -0],
    ['gelu', -20, -0],
    ['gelu', 0, 0],
    ['gelu', -0, -0],
    ['gelu_grad', Infinity, 1],
    ['gelu_grad', -Infinity, 0],
    ['gelu_grad', 0, 0.5],
    ['gelu_grad', -0, 0.5],
    ['gelu_grad', 20, 1],
    ['gelu_grad', -20, 0],
    ['gelu_grad', 1e20, 1], // x * 2c(1 + 3a x^2) overflows to Inf; the guard keeps Inf * 0 out
    ['gelu_grad', -1e20, 0],
    ['sinpi', 0, 0],
    ['sinpi', -0, -0],
    ['sinpi', 1, 0],
    ['sinpi', -1, -0],
    ['sinpi', 0.5, 1],
    ['sinpi', -0.5, -1],
    ['sinpi', 1.5, -1],
    ['sinpi', 2 ** 30, 0],
    ['sinpi', -(2 ** 30), -0],
    ['sinpi', Infinity, NaN],
    ['sinpi', -Infinity, NaN],
    ['cospi', 0, 1],
    ['cospi', -0, 1],
    ['cospi', 0.5, 0],
    ['cospi', -0.5, 0],
    ['cospi', 1, -1],
    ['cospi', 8388609, -1], // odd integer above 2^23
    ['cospi', 2 ** 30, 1],
    ['cospi', 0.25, fromBits(0x3f3504f3)],
    ['cospi', Infinity, NaN],
  ];
  it.each(cases)('%s(%s) = %s', (name, x, expected) => {
    const y = functions[name](x);
    expect(Object.is(y, expected), `got ${y} (0x${bitsOf(y).toString(16)})`).toBe(true);
  });

  it.each(MATH_CASES)('$name(NaN) is NaN', (c) => {
    expect(c.ours(NaN)).toBeNaN();
    expect(c.ours(fromBits(0xffc00001))).toBeNaN();
  });
});

describe('pinned bits', () => {
  // SHA-256 of the output bits (NaNs canonicalised) on every 65537th bit pattern: any change to the
  // bits a function produces must be deliberate, and update this table.
  const PINNED: Record<string, string> = {
    exp: 'a47d271df555586d0fa277f3845e9e2608c93bb31ff4fc41483bc0b40111e94b',
    log: 'aad55037afaeb70ba11f2c238e6887f0dcc7a054f0deaf73e7ea1a65a8470df2',
    tanh: '784cff09826a8dc9b73ddaef8067dc99960e22afde5219b9161a4becd6b1471c',
    sigmoid: '445665a5c5eab188e4ad4b4b67c40b9f09432b575f5b05f7394d0897a69d8b03',
    gelu: '0fe57d6f267f09bc56d5d2913e04a38ec9555e80a8385c6f61a40a31c989f51d',
    gelu_grad: '3d576ad09879744ec0dbd9cb6e202f5f70766d531faa215b8ced6c8792e529e7',
    sinpi: 'daf362c7d9a7668799f3fdb46b1895d99dea53736d73380d108b688998c39b67',
    cospi: 'a0c47a02d167de705a8af9d0e7b132da0feaebd9dff3fa5ca091294ceddbd8c4',
  };
  const inputs = strideSample(65537);
  it.each(MATH_CASES)('$name', (c) => {
    const out = new Float32Array(inputs.length);
    c.oursArray(inputs, out);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) if (out[i] !== out[i]) bits[i] = 0x7fc00000;
    expect(createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex')).toBe(PINNED[c.name]);
  });
});
