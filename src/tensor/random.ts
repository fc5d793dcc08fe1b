/**
 * Distributions over the counter-based generator. An Rng is (seed, stream, offset): each draw reads
 * the next words of its stream and advances offset by exactly the words it read, so a training
 * state's RNG position is one number, and any draw can be replayed from it.
 */
import { f32 } from './f32.js';
import { cospi, log, sinpi } from './math.js';
import { randomWords, wordBelow, type RandomKey } from './philox.js';
import { ShapeError } from './errors.js';
import { sizeOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

const TWO_POW_MINUS_24 = 2 ** -24;

/** A float32 in [0, 1): the top 24 bits of a word, scaled exactly. */
const unit = (word: number) => (word >>> 8) * TWO_POW_MINUS_24;

export class Rng {
  constructor(
    readonly seed: number,
    readonly stream = 0,
    public offset = 0,
  ) {
    if (!Number.isSafeInteger(seed) || seed < 0 || !Number.isSafeInteger(stream) || stream < 0) {
      throw new ShapeError('rng', [], `a seed and stream that are whole numbers in 0..2^53-1, got ${seed} and ${stream}`);
    }
  }

  get key(): RandomKey {
    return { seed: this.seed, stream: this.stream, offset: this.offset };
  }

  /** The next `count` words, advancing the offset. */
  words(count: number): Uint32Array {
    const out = randomWords(this.key, count);
    this.offset += count;
    return out;
  }

  /** Uniform float32 in [low, high): low + (high - low) * u, each step rounded to float32. */
  uniform(shape: Shape, low = 0, high = 1): Tensor {
    const words = this.words(sizeOf(shape));
    const span = f32(f32(high) - f32(low));
    const data = new Float32Array(words.length);
    for (let i = 0; i < words.length; i++) data[i] = f32(low) + f32(span * unit(words[i]));
    return new Tensor(data, shape);
  }

  /**
   * Normal float32 by Box-Muller over word pairs (2p, 2p+1): u1 in (0, 1], u2 in [0, 1),
   * r = sqrt(-2 log u1), z = (r cospi(2 u2), r sinpi(2 u2)), then mean + std * z. Reads an even
   * number of words. Uses only the runtime's own log/cospi/sinpi, so the bits are the same everywhere.
   */
  normal(shape: Shape, mean = 0, std = 1): Tensor {
    const size = sizeOf(shape);
    const words = this.words(size + (size % 2));
    const data = new Float32Array(size);
    for (let p = 0; 2 * p < size; p++) {
      const u1 = ((words[2 * p] >>> 8) + 1) * TWO_POW_MINUS_24;
      const u2 = unit(words[2 * p + 1]);
      const r = f32(Math.sqrt(f32(-2 * log(u1))));
      data[2 * p] = f32(mean) + f32(f32(std) * f32(r * cospi(2 * u2)));
      if (2 * p + 1 < size) data[2 * p + 1] = f32(mean) + f32(f32(std) * f32(r * sinpi(2 * u2)));
    }
    return new Tensor(data, shape);
  }

  /** Whole numbers in [low, high) as int32 (bias below (high - low) / 2^32). */
  integers(shape: Shape, low: number, high: number): Tensor {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low || high - low > 2 ** 32) {
      throw new ShapeError('rng.integers', [shape], `whole numbers low < high with high - low <= 2^32, got ${low}..${high}`);
    }
    const words = this.words(sizeOf(shape));
    const data = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) data[i] = low + wordBelow(words[i], high - low);
    return new Tensor(data, shape);
  }

  /** A permutation of 0..n-1 (Fisher-Yates, one word per swap, from the last position down). */
  permutation(n: number): Int32Array {
    const out = Int32Array.from({ length: n }, (_, i) => i);
    const words = this.words(Math.max(0, n - 1));
    for (let i = n - 1; i > 0; i--) {
      const j = wordBelow(words[n - 1 - i], i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
