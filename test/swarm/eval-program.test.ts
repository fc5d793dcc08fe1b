/**
 * The swarm's evaluation program (src/swarm/eval-program.ts): its score is what the addition task's own verifier says
 * of the generated text, row by row; its tokens are greedy decoding over the task's alphabet, computed here again one
 * row at a time on the exact prompt (no padding); its step program, and so its facts root, is the same for every
 * beacon and policy of a model config.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { END_ID, TASKS } from '../../src/data/index.js';
import { SwarmEvalError, evalFacts, evalProgram, evalTokenizer, allowedIds, scoreClaim, type EvalProgram } from '../../src/swarm/eval-program.js';
import { buildProgram, policySpec, type PolicyModel } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import { argmax, noGrad, Tensor } from '../../src/tensor/index.js';
import { generateBatch, type TrainState } from '../../src/train/index.js';
import { jobFacts } from '../../src/chain/dispute-moves.js';
import { rulesOf } from '../../src/verify/index.js';

const TINY: PolicyModel = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };
const CONFIG = { digits: 2, rows: 6 };

function policy(seed: number, steps = 0, model = TINY) {
  const program = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model, seed, steps: Math.max(1, steps), batchSize: 8, lr: 3e-2 }));
  let state = program.init();
  for (let t = 0; t < steps; t++) state = program.step(state).state;
  return { program, state };
}

const beaconOf = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i * 17) & 0xff);

function runEval(e: EvalProgram, from: TrainState = e.init()): TrainState {
  let s = from;
  while (s.step < e.spec.steps) s = e.step(s).state;
  return s;
}

/** What the task's verifier says of each row's generated text. */
const verified = (e: EvalProgram, final: TrainState) =>
  e.examples.map((x, i) => TASKS.addition.verify(x.prompt, evalTokenizer().decode(e.completions(final)[i])));

describe('the eval program', () => {
  test('greedy decoding over the task alphabet, row by row on the exact prompt, gives the program\'s tokens', () => {
    const { program, state } = policy(3, 4);
    const e = evalProgram(program.model, state, beaconOf(1), CONFIG);
    const final = runEval(e);
    const allowed = allowedIds();
    e.examples.forEach(({ prompt }, i) => {
      const ids = Array.from(evalTokenizer().encode(prompt));
      const out: number[] = [];
      for (let k = 0; k < e.layout.generated; k++) {
        const logits = noGrad(() => program.model.apply(state.params, new Tensor(Int32Array.from(ids), [1, ids.length])));
        const V = program.model.config.vocabSize;
        const last = (logits.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V);
        const pick = argmax(new Tensor(Float32Array.from(allowed, (id) => last[id]), [allowed.length]), 0).data[0];
        ids.push(allowed[pick]);
        out.push(allowed[pick]);
      }
      const end = out.indexOf(END_ID);
      expect(Array.from(e.completions(final)[i])).toEqual(end < 0 ? out : out.slice(0, end));
    });
  });

  test('on a policy whose greedy answers are the task\'s characters, the completions are generateBatch\'s (its own greedy decoding, KV cache)', () => {
    // 20 supervised steps: enough for the policy to answer in digits (a fresh one picks byte tokens, outside the eval's ids).
    const { program, state } = policy(1, 20);
    const e = evalProgram(program.model, state, beaconOf(3));
    const final = runEval(e);
    const generated = generateBatch(program.model, state.params, e.examples.map((x) => evalTokenizer().encode(x.prompt)), { maxTokens: e.layout.generated, seeds: e.examples.map(() => 0) });
    const allowed = new Set(allowedIds());
    const comparable = generated.flatMap((g, i) => (Array.from(g).every((id) => allowed.has(id)) ? [i] : []));
    expect(comparable.length).toBeGreaterThanOrEqual(e.layout.rows / 2);
    for (const i of comparable) expect(Array.from(e.completions(final)[i])).toEqual(Array.from(generated[i]));
  });

  test('the score is the verifier\'s count of right answers (random policies and beacons)', () => {
    for (const [seed, beacon] of [[1, 1], [2, 5], [4, 9]]) {
      const { program, state } = policy(seed);
      const e = evalProgram(program.model, state, beaconOf(beacon), CONFIG);
      const final = runEval(e);
      expect(e.score(final)).toBe(verified(e, final).reduce<number>((a, b) => a + b, 0));
    }
  });

  test('the scoring step agrees with the verifier on any generated tokens (planted completions, generated)', () => {
    const { program, state } = policy(1);
    const e = evalProgram(program.model, state, beaconOf(2), CONFIG);
    const K = e.layout.generated;
    const allowed = Array.from(allowedIds());
    const tokenizer = evalTokenizer();
    // Per row: the right answer with END (a right answer), then edits that make it wrong or keep it right.
    const rowArb = fc.record({
      kind: fc.constantFrom('right', 'no-end', 'extra-digit', 'early-end', 'leading-zero', 'random'),
      random: fc.array(fc.constantFrom(...allowed), { minLength: K, maxLength: K }),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: CONFIG.rows, maxLength: CONFIG.rows }), (rows) => {
        const start = e.init();
        const tokens = new Int32Array(start.opt.tensors['eval.tokens'].data as Int32Array);
        const at = start.opt.tensors['eval.at'].data as Int32Array;
        rows.forEach(({ kind, random }, i) => {
          const answer = Array.from(tokenizer.encode(e.examples[i].answer));
          const digit = tokenizer.encode('7')[0];
          const plant =
            kind === 'right' ? [...answer, END_ID]
              : kind === 'no-end' ? [...answer, ...(answer.length + 1 < K ? [tokenizer.encode('+')[0]] : [digit])]
                : kind === 'extra-digit' ? [...answer, digit, END_ID]
                  : kind === 'early-end' ? [...answer.slice(0, -1), END_ID]
                    : kind === 'leading-zero' ? [tokenizer.encode('0')[0], ...answer, END_ID]
                      : random;
          const ids = [...plant, ...random].slice(0, K);
          ids.forEach((id, j) => (tokens[i * e.layout.width + at[i * (K + 1) + j + 1]] = id));
        });
        const before: TrainState = { ...start, step: K, opt: { step: K, tensors: { ...start.opt.tensors, 'eval.tokens': new Tensor(tokens, start.opt.tensors['eval.tokens'].shape) } } };
        const final = e.step(before).state;
        const right = verified(e, final);
        expect(e.score(final)).toBe(right.reduce<number>((a, b) => a + b, 0));
        rows.forEach(({ kind }, i) => {
          if (kind === 'right') expect(right[i]).toBe(1);
          else if (kind !== 'random') expect(right[i]).toBe(0);
        });
      }),
      { numRuns: 60 },
    );
  });

  test('a policy or run it cannot take is refused with what to do', () => {
    const { program, state } = policy(1);
    expect(() => evalProgram(policy(1, 0, { ...TINY, contextLength: 8 }).program.model, policy(1, 0, { ...TINY, contextLength: 8 }).state, beaconOf(1), CONFIG)).toThrow(/context holds 8 positions[\s\S]*contextLength >= 10/);
    const clash = { ...state, opt: { ...state.opt, tensors: { ...state.opt.tensors, 'eval.score': new Tensor(new Float32Array(1), []) } } };
    expect(() => evalProgram(program.model, clash, beaconOf(1), CONFIG)).toThrow(SwarmEvalError);
    const e = evalProgram(program.model, state, beaconOf(1), CONFIG);
    const final = runEval(e);
    expect(() => e.step(final)).toThrow(/from its init\(\) state/);
    expect(() => scoreClaim(['00'.repeat(32)], final)).toThrow(/same eval run/);
  });

  test('the step program is the same for every beacon and policy of a model config: one facts root', () => {
    const a = policy(1);
    const b = policy(2, 2);
    const e1 = evalProgram(a.program.model, a.state, beaconOf(1), CONFIG);
    const e2 = evalProgram(b.program.model, b.state, beaconOf(7), CONFIG);
    expect(e1.id).not.toBe(e2.id);
    const [f1, f2] = [jobFacts(rulesOf(e1)), jobFacts(rulesOf(e2))];
    expect(f1.h0).not.toBe(f2.h0);
    const facts = evalFacts(TINY, CONFIG);
    expect(f1.root).toBe(facts.root);
    expect(f2.root).toBe(facts.root);
    expect(f2.size).toBe(facts.size);
    expect(facts.steps).toBe(CONFIG.digits + 3);
    expect(evalFacts({ ...TINY, dModel: 8 }, CONFIG).root).not.toBe(facts.root);
  });
});
