/**
 * What a procedural task is: a generator whose example `index` is a pure function of (config, seed,
 * index), and a verifier that recomputes the answer from the prompt and checks the completion.
 */
import { randomWords } from '../../tensor/index.js';
import { TaskConfigError, TaskPromptError } from '../errors.js';

/** The prompt ends with '='; the answer follows it. Tokenized, the answer is followed by the end token. */
export type TaskExample = { prompt: string; answer: string };
export type Reward = 0 | 1;

/** Every knob is a whole number; its range is [min, max]. */
export type KnobRanges<C> = { readonly [K in keyof C]: readonly [min: number, max: number] };

export interface TaskDefinition<C extends Record<string, number> = Record<string, number>> {
  readonly name: string;
  readonly description: string;
  readonly defaults: Readonly<C>;
  readonly ranges: KnobRanges<C>;
  /** Every character a prompt or answer can contain, for a character tokenizer. */
  readonly alphabet: string;
  /** The defaults overlaid with `config`, checked against the ranges (TaskConfigError otherwise). */
  resolve(config?: Partial<C>): C;
  /** Example `index` of the infinite stream for `seed`; regenerable alone, in any order. */
  generate(seed: number, index: number, config?: Partial<C>): TaskExample;
  /** The most random words one example draws (its slice of a word stream). */
  wordsPerExample(config?: Partial<C>): number;
  /**
   * The example that `words` (at least wordsPerExample) make: what generate does with its slice of the Philox
   * stream, from words of any source (a beacon's SHA-256 counter mode for an on-chain draw, data/tasks/beacon-draw.ts).
   */
  fromWords(words: Uint32Array, config?: Partial<C>): TaskExample;
  /**
   * 1 when `completion` (the model's text after the prompt, up to an optional newline) is a correct
   * answer to `prompt`, recomputed from the prompt; 0 otherwise. Throws TaskPromptError when the
   * prompt is not one of this task's prompts.
   */
  verify(prompt: string, completion: string): Reward;
}

/** Hands out an example's random words in order; each draw uses exactly one word. */
export class WordReader {
  private next = 0;
  constructor(private readonly words: Uint32Array) {}

  /** An integer in [0, n): floor(word * n / 2^32), exact in float64 for n <= 2^21. */
  below(n: number): number {
    if (this.next >= this.words.length) throw new RangeError('task drew more words than wordsPerExample declared');
    return Math.floor((this.words[this.next++] * n) / 2 ** 32);
  }

  /** `length` digits in [0, symbols), as a string. */
  digits(length: number, symbols = 10): string {
    let out = '';
    for (let i = 0; i < length; i++) out += String(this.below(symbols));
    return out;
  }

  /** A number uniform in [0, 10^digits), written without leading zeros. */
  number(digits: number): string {
    return this.digits(digits).replace(/^0+(?=\d)/, '');
  }
}

type TaskSpec<C extends Record<string, number>, P> = {
  name: string;
  stream: number;
  description: string;
  defaults: C;
  ranges: KnobRanges<C>;
  alphabet: string;
  /** An upper bound on the words one example draws: its slice of the stream. */
  wordsPerExample(config: C): number;
  make(words: WordReader, config: C): TaskExample;
  /** The prompt's parts, or undefined when it is not a prompt of this task. */
  parse(prompt: string): P | undefined;
  check(parsed: P, answer: string): boolean;
};

export function defineTask<C extends Record<string, number>, P>(spec: TaskSpec<C, P>): TaskDefinition<C> {
  const resolve = (config: Partial<C> = {}): C => {
    const full = { ...spec.defaults, ...config };
    for (const key of Object.keys(full) as (keyof C & string)[]) {
      const range = Object.hasOwn(spec.ranges, key) ? spec.ranges[key] : undefined;
      const value = full[key];
      if (!range) {
        const expected = `one of the knobs ${Object.keys(spec.ranges).join(', ')}`;
        throw new TaskConfigError({ task: spec.name, key, value, expected });
      }
      if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
        throw new TaskConfigError({ task: spec.name, key, value, expected: `a whole number in ${range[0]}..${range[1]}` });
      }
    }
    return full;
  };
  return {
    name: spec.name,
    description: spec.description,
    defaults: spec.defaults,
    ranges: spec.ranges,
    alphabet: spec.alphabet,
    resolve,
    generate(seed, index, config) {
      checkPosition(spec.name, 'seed', seed);
      checkPosition(spec.name, 'index', index);
      const full = resolve(config);
      const count = spec.wordsPerExample(full);
      return spec.make(new WordReader(randomWords({ seed, stream: spec.stream, offset: index * count }, count)), full);
    },
    wordsPerExample: (config) => spec.wordsPerExample(resolve(config)),
    fromWords: (words, config) => spec.make(new WordReader(words), resolve(config)),
    verify(prompt, completion) {
      const parsed = spec.parse(prompt);
      if (parsed === undefined) throw new TaskPromptError(spec.name, prompt);
      return spec.check(parsed, answerText(completion)) ? 1 : 0;
    },
  };
}

function checkPosition(task: string, key: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TaskConfigError({ task, key, value, expected: 'a whole number in 0..2^53-1' });
}

/**
 * The completion up to its first newline (a sampler may include the end marker), without ASCII spaces
 * around it. Not String.trim: its whitespace set follows the engine's Unicode version, and a reward
 * must be the same on every machine.
 */
export function answerText(completion: string): string {
  const newline = completion.indexOf('\n');
  return (newline < 0 ? completion : completion.slice(0, newline)).replace(/^ +| +$/g, '');
}

/** A whole number in canonical form (no sign, no leading zeros), as a bigint; undefined otherwise. */
export function parseCanonical(text: string): bigint | undefined {
  return /^(0|[1-9]\d*)$/.test(text) ? BigInt(text) : undefined;
}

/**
 * A task seed from a digest (a swarm derives it as H(round beacon, node id, index)): the digest's
 * first 53 bits, big-endian, so it is a safe integer for generate(seed, index). Anyone holding the
 * digest regenerates the same question and answer.
 */
export function seedFromDigest(digest: Uint8Array): number {
  if (digest.length < 7) throw new RangeError(`seedFromDigest needs at least 7 bytes of digest, got ${digest.length}`);
  let high = 0;
  for (let i = 0; i < 3; i++) high = high * 256 + digest[i];
  const low = (((digest[3] << 24) >>> 0) + (digest[4] << 16) + (digest[5] << 8) + digest[6]) >>> 3; // 29 bits
  return (high * 2 ** 29 + low) % 2 ** 53; // 24 + 29 = 53 bits
}
