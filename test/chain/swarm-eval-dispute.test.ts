// An inflated swarm score disputed on anvil: the eval program's rules (h_0 of the policy's eval on the round's beacon,
// which SwarmEval.evalH0 computes on the same chain, and the model config's facts root) posted like a job's, a node
// that claims a higher score commits its run root, an honest node challenges, and the TypeScript game's moves, replayed
// on the real JobMarket and DisputeGame, end in a ruling against the inflater: at one instruction the contract
// executes (a scoring op that writes another count, a forged generated token) or at the score leaf (a score written
// outside any op).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import { deployContract } from '../../src/chain/clients.js';
import { read } from '../../src/chain/actions/send.js';
import { REFEREE_LOSERS } from '../../src/chain/referee.js';
import { GAME_LEVELS } from '../../src/chain/dispute-moves.js';
import { SwarmEvalHarnessAbi, SwarmEvalHarnessBytecode } from '../../src/chain/generated/SwarmEvalHarness.js';
import { toHex } from '../../src/platform/sha256.js';
import { runJob, stateLeaves, type RunRecord, type TrainState } from '../../src/train/index.js';
import { adversary, playGame, replayParty, rulesOf, type GameResult, type Rules } from '../../src/verify/index.js';
import { EVAL_TENSORS, evalFacts, evalProgram, type EvalProgram, type EvalSpec } from '../../src/swarm/eval-program.js';
import { buildProgram, policySpec, type PolicyModel } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import { Tensor } from '../../src/tensor/index.js';
import { tempStore } from '../train/helpers.js';
import { acceptedMoves, openJobDispute, readDispute, replayOnChain, setupGameChain, type GameChain } from './dispute-replay.js';

const TINY: PolicyModel = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };
const BEACON = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 5) & 0xff);

type Run = { program: EvalProgram; record: RunRecord<EvalSpec>; store: Awaited<ReturnType<typeof tempStore>> };

const policy = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: TINY, seed: 1, steps: 1, batchSize: 4 }));
const policyState = policy.init();
// The deployment's eval (SWARM_EVAL: 16 two-digit additions), so that SwarmEval.sol's h_0 is the game's.
const honest = evalProgram(policy.model, policyState, BEACON);
const rules: Rules = rulesOf(honest);
const K = honest.layout.generated;
let c: GameChain;
let good: Run;

async function runOf(program: EvalProgram): Promise<Run> {
  const store = await tempStore();
  return { program, record: (await runJob(program, { store })).record, store };
}

const withScore = (state: TrainState, score: number): TrainState =>
  ({ ...state, opt: { ...state.opt, tensors: { ...state.opt.tensors, [EVAL_TENSORS.score]: new Tensor(new Float32Array([score]), []) } } });

beforeAll(async () => {
  c = await setupGameChain(rules);
  good = await runOf(honest);
}, 120_000);
afterAll(() => c?.anvil.stop());

/** Plays the TS game, opens the dispute on chain under the eval's rules and replays every accepted move. */
async function onChain(liar: Run): Promise<{ game: GameResult; gas: bigint }> {
  const party = (run: Run, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
  const roots = { solver: liar.record.commitment!, challenger: good.record.commitment! };
  const game = await playGame(rules, party(liar, 'solver'), party(good, 'challenger'), { solverRoot: roots.solver, challengerRoot: roots.challenger });
  const [solver, challenger] = [c.wallets[2], c.wallets[3]];
  const { disputeId } = await openJobDispute(c, rules, solver, challenger, roots);
  const moves = await replayOnChain(c, rules, disputeId, acceptedMoves(rules, game, roots), { solver, challenger });
  const d = await readDispute(c, disputeId);
  expect(GAME_LEVELS[d.level]).toBe('done');
  expect(REFEREE_LOSERS[d.loser]).toBe('solver');
  return { game, gas: moves.reduce((sum, m) => sum + m.gas, 0n) };
}

describe('an inflated score loses on chain', () => {
  test('the rules are the contract\'s own: SwarmEval.evalH0 of the policy\'s leaves is the game\'s h_0, and the facts root is the config\'s', async () => {
    const { address } = await deployContract(c.wallets[0], { abi: SwarmEvalHarnessAbi, bytecode: SwarmEvalHarnessBytecode });
    const [policyHash, h0] = await read<readonly [Hex, Hex, bigint]>(c.publicClient, { address, abi: SwarmEvalHarnessAbi, functionName: 'evalH0', args: [`0x${toHex(BEACON)}`, stateLeaves(policyState).map((l) => `0x${toHex(l)}` as Hex)] });
    expect(policyHash).toBe(`0x${honest.spec.policy}`);
    expect(h0).toBe(c.facts.h0);
    expect(c.facts.root).toBe(evalFacts(TINY).root);
  });

  test('a scoring op that writes another count: the contract executes the instruction', async () => {
    const op = (rules.structure(K + 1).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.score}`)!.source as { index: number }).index;
    const liar = await runOf(adversary.tamperAt(honest, K + 1, (i, _op, _attrs, _inputs, out) => {
      if (i === op) (out.data as Float32Array)[0] = 16;
    }));
    const { game, gas } = await onChain(liar);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: K + 1, op });
    console.log(`score dispute on chain, ruled at one instruction: ${game.totalRounds} rounds, ${gas} gas in ${game.moves.filter((m) => !m.rejected).length} moves`);
  }, 120_000);

  test('a forged generated token: the game finds its step, the op that wrote it and one instruction', async () => {
    const t = 2;
    const op = (rules.structure(t).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.tokens}`)!.source as { index: number }).index;
    const { width, generated } = honest.layout;
    const element = 3 * width + (honest.init().opt.tensors[EVAL_TENSORS.at].data as Int32Array)[3 * (generated + 1) + t];
    const liar = await runOf(adversary.tamperAt(honest, t, (i, _op, _attrs, _inputs, out) => {
      if (i === op) (out.data as Int32Array)[element] ^= 1;
    }));
    const { game } = await onChain(liar);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t, op, element });
  }, 120_000);

  test('a score written outside any op: the contract rules on the score leaf', async () => {
    const liar = await runOf(adversary.cheatAt(honest, K + 1, (state, batch) => {
      const r = honest.step(state, batch);
      return { ...r, state: withScore(r.state, 16) };
    }));
    const { game, gas } = await onChain(liar);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'state', t: K + 1 });
    console.log(`score dispute on chain, ruled at the state level: ${game.totalRounds} rounds, ${gas} gas`);
  }, 120_000);
});
