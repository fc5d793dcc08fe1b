/**
 * A posted score is disputable: the swarm's eval program (src/swarm/eval-program.ts) run through the existing dispute
 * game (verify/strategy: replayParty, playGame) under the rules derived from the program alone. An inflated score
 * loses to the honest party down to one instruction (a liar whose scoring op writes another count, or who forges a
 * generated token) or to one state leaf (a score written outside any op); an honest claimer beats a lying challenger;
 * and generated liars (fast-check: any op output of any step flipped, either role; the adversaries of
 * test/verify/adversary-game.ts with their move plans) never beat the honest party (70 cases; MYCEL_LONG=1: 700).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCommitment, type TrainProgram, type TrainState } from '../../src/train/index.js';
import { adversary, playGame, replayParty, rulesOf, type Rules } from '../../src/verify/index.js';
import { EVAL_TENSORS, evalProgram, evalTokenizer, type EvalProgram } from '../../src/swarm/eval-program.js';
import { buildProgram, policySpec, type PolicyModel } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import { Tensor } from '../../src/tensor/index.js';
import type { Gpt } from '../../src/nn/index.js';
import { storedRun, type StoredRun } from '../train/helpers.js';
import { cases, type Base } from '../verify/adversary-game.js';
import { plansNeverWin } from '../verify/plans-never-win.js';

const TINY: PolicyModel = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };
const CONFIG = { digits: 1, rows: 4 };

type Run = StoredRun<EvalProgram>;

let honest: EvalProgram;
let model: Gpt;
let policyState: TrainState;
let rules: Rules;
let good: Run;
let K: number;

const runOf = (program: EvalProgram): Promise<Run> => storedRun(program);

const party = (run: Run, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });

function dispute(solver: Run, challenger: Run) {
  return playGame(rules, party(solver, 'solver'), party(challenger, 'challenger'), { solverRoot: solver.record.commitment!, challengerRoot: challenger.record.commitment! });
}

/** The op of step t that writes state tensor `name`. */
const writer = (t: number, name: string) => (rules.structure(t).stateOutputs.find((o) => o.name === name)!.source as { index: number }).index;

const withScore = (state: TrainState, score: number): TrainState =>
  ({ ...state, opt: { ...state.opt, tensors: { ...state.opt.tensors, [EVAL_TENSORS.score]: new Tensor(new Float32Array([score]), []) } } });

beforeAll(async () => {
  const policy = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: TINY, seed: 1, steps: 1, batchSize: 4 }));
  model = policy.model;
  policyState = policy.init();
  honest = evalProgram(policy.model, policy.init(), new Uint8Array(32).fill(3), CONFIG);
  rules = rulesOf(honest);
  K = honest.layout.generated;
  good = await runOf(honest);
}, 60_000);

describe('an inflated score loses the dispute', () => {
  test('a score written outside any op loses at the state level, at the score leaf', async () => {
    const liar = await runOf(adversary.cheatAt(honest, K + 1, (state, batch) => {
      const r = honest.step(state, batch);
      return { ...r, state: withScore(r.state, CONFIG.rows) };
    }));
    expect(liar.program.score(await finalState(liar))).toBe(CONFIG.rows);
    const game = await dispute(liar, good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'state', t: K + 1, opName: `opt.${EVAL_TENSORS.score}` });
  });

  test('a scoring op that writes another count loses at one instruction of that op', async () => {
    const op = writer(K + 1, `opt.${EVAL_TENSORS.score}`);
    const liar = await runOf(adversary.tamperAt(honest, K + 1, (i, _op, _attrs, _inputs, out) => {
      if (i === op) (out.data as Float32Array)[0] = CONFIG.rows;
    }));
    const game = await dispute(liar, good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: K + 1, op });
    expect(game.roundsPerLevel.onestep).toBe(1);
  });

  test('a forged generated token (row 0\'s first, made right) loses at one instruction of the op that writes it', async () => {
    const op = writer(1, `opt.${EVAL_TENSORS.tokens}`);
    const start = honest.init();
    const position = (start.opt.tensors[EVAL_TENSORS.at].data as Int32Array)[1];
    const right = evalTokenizer().encode(honest.examples[0].answer)[0];
    const liar = await runOf(adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
      if (i === op) (out.data as Int32Array)[position] = right === (out.data as Int32Array)[position] ? right + 1 : right;
    }));
    expect(liar.record.commitment).not.toBe(good.record.commitment);
    const game = await dispute(liar, good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 1, op, element: position, opName: `where -> opt.${EVAL_TENSORS.tokens}` });
  });

  test('a forged logit in the forward pass: the game goes past the token it changed to the op that made it', async () => {
    const t = 1;
    const ops = rules.structure(t).ops;
    const head = ops.findIndex((o) => o.op === 'matmul' && o.name.includes('params.head.weight'));
    const V = model.config.vocabSize;
    const position = (honest.init().opt.tensors[EVAL_TENSORS.at].data as Int32Array)[0]; // row 0 reads its logits here
    // A token row 0's honest first pick is not: '9', or '8' if it is.
    const [nine, eight] = evalTokenizer().encode('98');
    const forged = good.program.completions(await finalState(good))[0][0] === nine ? eight : nine;
    const element = position * V + forged; // row 0, that position, that token ([B, W, V] or [B * W, V]: the same index)
    const liar = await runOf(adversary.tamperAt(honest, t, (i, _op, _attrs, _inputs, out) => {
      if (i === head) (out.data as Float32Array)[element] = 1e30;
    }));
    const final = await finalState(liar);
    expect(liar.program.completions(final)[0][0]).toBe(forged);
    const game = await dispute(liar, good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t, op: head, element });
  });

  test('an honest claimer wins against a challenger that claims a lower score', async () => {
    const liar = await runOf(adversary.cheatAt(honest, K + 1, (state, batch) => {
      const r = honest.step(state, batch);
      return { ...r, state: withScore(r.state, -1) };
    }));
    const game = await dispute(good, liar);
    expect(game.ruling.loser).toBe('challenger');
  });
});

describe('generated liars never beat the honest party', () => {
  test('any op output of any step flipped, in either role', async () => {
    const rulings: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        // Half the flips in the step's last ops (the pick, the write, the count), where most flips reach h_t; exponent bits more often.
        fc.record({
          t: fc.integer({ min: 1, max: K + 1 }), op: fc.nat(), tail: fc.boolean(), element: fc.nat(),
          bit: fc.oneof(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 23, max: 30 })), role: fc.constantFrom('solver', 'challenger'),
        }),
        async ({ t, op: o, tail, element: e, bit, role }) => {
          const ops = rules.structure(t).ops;
          const op = tail ? ops.length - 1 - (o % Math.min(8, ops.length)) : o % ops.length;
          const size = ops[op].output.shape.reduce((a, b) => a * b, 1);
          if (size === 0) return;
          // A flip of an index (a position, a picked id) may send the liar's own later ops out of range: no run to claim.
          // An int32 output (an id, a position) gets a low bit flipped, so that it mostly stays a valid index.
          const b = ops[op].output.dtype === 'int32' ? bit % 3 : bit;
          const liar = await runOf(adversary.flipOpOutput(honest, t, op, e % size, b)).catch(() => undefined);
          if (!liar) return;
          if (liar.record.commitment === good.record.commitment) return; // the flip changed nothing committed (a logit no argmax picked)
          const game = role === 'solver' ? await dispute(liar, good) : await dispute(good, liar);
          expect(game.ruling.loser).toBe(role);
          rulings.push(`${game.ruling.at} t${game.ruling.t}`);
        },
      ),
      { numRuns: cases(40, 400) },
    );
    // About 4 flips in 10 change what is committed (a flip of a logit no argmax picks changes nothing, a flipped index
    // sends the liar's own step out of range): real disputes were played (fewer than 5 in 40 has odds ~1e-6).
    expect(rulings.length).toBeGreaterThanOrEqual(5);
  }, 120_000);

  test('the adversaries of the training game, with their move plans, in either role', async () => {
    const other = await runOf(evalProgram(model, policyState, new Uint8Array(32).fill(4), CONFIG));
    const edited = (edit: (hashes: string[]) => string[]): Run => {
      const stepHashes = edit([...good.record.stepHashes]);
      return { ...good, record: { ...good.record, stepHashes, commitment: runCommitment(stepHashes) } };
    };
    const tokenOp = writer(2, `opt.${EVAL_TENSORS.tokens}`);
    const bases: Partial<Record<Base, Run>> = {
      'op-liar': await runOf(adversary.flipOpOutput(honest, 2, tokenOp, 1, 0)),
      'state-liar': await runOf(adversary.cheatAt(honest, K + 1, (state, batch) => ({ ...honest.step(state, batch), state: withScore(honest.step(state, batch).state, 3) }))),
      'skip-step': await runOf(adversary.skipStep(honest as unknown as TrainProgram, 2) as unknown as EvalProgram),
      'wrong-h0': edited((h) => ['ab'.repeat(32), ...h.slice(1)]),
      'other-job': other,
      'fake-run': edited((h) => h.map((x, i) => (i >= 2 ? x.replace(/^.{8}/, 'deadbeef') : x))),
    };
    await plansNeverWin(rules, good, bases, party, cases(30, 300));
  }, 120_000);
});

async function finalState(run: Run): Promise<TrainState> {
  let s = run.program.init();
  while (s.step < run.program.spec.steps) s = run.program.step(s).state;
  return s;
}
