/**
 * A used root is disputable: a SAPO node's GRPO step (src/swarm/grpo-step.ts) played through the existing dispute
 * game (replayParty, playGame) under the rules derived from the program alone, with the run roots a contract derives
 * from the node's commitments (grpoStepRun), rebuilt by a checker from the rollout messages it received (rebuildStep).
 * A node that lists a group it did not train on (its next policy is its
 * step over the other groups: the fake-use cheat) loses to an honest challenger at one instruction of the op that
 * reads the slots; and generated liars (fast-check: any op output flipped, in either role; the adversaries of
 * test/verify/adversary-game.ts with their move plans) never beat the honest party (30 + 20 cases; MYCEL_LONG=1: 300 + 200); nor does a node that left any generated set of its listed groups out of its batch (6 cases; 60).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCommitment, stateHash, stateLeaves, type TrainProgram } from '../../src/train/index.js';
import { adversary, playGame, replayParty, rulesOf, type Rules } from '../../src/verify/index.js';
import { groupHash, groupRows, grpoStepProgram, grpoStepRun, rebuildStep, slotName, type GrpoStepProgram, type UsedGroup } from '../../src/swarm/grpo-step.js';
import { blobKey, finishRound, reexecPlan, startRound, swarmTokenizer, type SapoNode } from '../../src/swarm/round.js';
import type { Rollout, RolloutGroup } from '../../src/swarm/rollout-message.js';
import { storedRun, type StoredRun } from '../train/helpers.js';
import { cases, type Base } from '../verify/adversary-game.js';
import { plansNeverWin } from '../verify/plans-never-win.js';
import { testConfig, testNodes } from './helpers.js';

const config = testConfig({ tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 2, external: 2, maxTokens: 2, temperature: 0.7 });

type Run = StoredRun<GrpoStepProgram>;

/** A colluder's group that the cheat lists without training on it. */
const fakeGroup: RolloutGroup = { index: 0, task: 'modular', taskSeed: 9, prompt: '3+4%10=', answer: '7', completions: [1, 0, 0, 0].map((reward, k) => ({ seed: k, tokens: [7 - k], reward })) };

let node: SapoNode;
let start: SapoNode['policy'];
let honestStep: GrpoStepProgram; // the node's own step: what its round trained on
let usedHashes: string[];
let usedGroups: UsedGroup[];
let messages: Rollout[]; // the round's rollout messages, as a checker receives them
let honest: GrpoStepProgram; // the step over the groups the cheat lists (its own and the fake one)
let rules: Rules;
let good: Run;

const runOf = (program: GrpoStepProgram): Promise<Run> => storedRun(program);

const party = (run: Run, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });

function dispute(solver: Run, challenger: Run) {
  return playGame(rules, party(solver, 'solver'), party(challenger, 'challenger'), { solverRoot: solver.record.commitment!, challengerRoot: challenger.record.commitment! });
}

const concatOp = () => rules.structure(1).ops.findIndex((o) => o.op === 'concat');

beforeAll(async () => {
  // Round 0 of a 2-node swarm: node a trains on its own useful groups and node b's.
  const [a, b] = testNodes(2, config, 4, 20);
  const sa = startRound(a, 0);
  const sb = startRound(b, 0);
  const inbox = [{ from: b.id, rollout: sb.rollout }];
  const done = finishRound(sa.node, { rollouts: inbox, blobs: new Map(reexecPlan(sa.node, inbox).map((p) => [blobKey(p.peer, p.cid), sb.blob.bytes])) });
  start = a.policy;
  node = done.node;
  honestStep = done.step!;
  usedGroups = done.used;
  usedHashes = done.used.map((u) => u.groupHash);
  messages = [sb.rollout, sa.rollout];
  expect(done.used.map((u) => u.author)).toEqual([...Array(done.metrics.trainedOwn).fill(a.id), ...done.metrics.externalFrom]);
  expect(done.metrics.trainedOwn * done.metrics.trainedExternal).toBeGreaterThan(0);
  const used = honestStep.init();
  const rows = done.used.map((_, i) => used.opt.tensors[slotName(i)]);
  honest = grpoStepProgram(a.program, start, [...rows, groupRows(fakeGroup, swarmTokenizer(), config, a.program.model.config.contextLength)], config);
  rules = rulesOf(honest);
  good = await runOf(honest);
}, 60_000);

describe('the round and the program', () => {
  test('the node\'s next policy is its step program\'s h_1 without the slots; its commitments give the step\'s run root', async () => {
    const run = await runOf(honestStep);
    expect(stateHash(honestStep.policyOf(await finalOf(run)))).toBe(stateHash(node.policy));
    const [h0, h1] = run.record.stepHashes;
    expect(grpoStepRun(stateLeaves(start), stateLeaves(node.policy), usedHashes, honestStep.layout)).toEqual({ h0, h1, runRoot: run.record.commitment });
  });

  test('a checker rebuilds the step from the used groups and the rollout messages it received; a group none holds is named', () => {
    const rebuilt = rebuildStep(node.program, start, usedGroups, messages, config);
    if (!('program' in rebuilt)) throw new Error(`missing ${JSON.stringify(rebuilt.missing)}`);
    expect(stateHash(rebuilt.program.step(rebuilt.program.init()).state)).toBe(stateHash(honestStep.step(honestStep.init()).state));
    const fake = { author: 'colluder', index: fakeGroup.index, groupHash: groupHash(groupRows(fakeGroup, swarmTokenizer(), config, honest.layout.width)), useful: true };
    expect(rebuildStep(node.program, start, [...usedGroups, fake], messages, config)).toEqual({ missing: [fake] });
  });
});

describe('a used group the node did not train on', () => {
  test('the fake-use cheat (its step over the other groups) loses to an honest challenger at the op that reads the slots', async () => {
    const L = honest.layout.completions;
    const W = honest.layout.width;
    // It lists its groups, then the fake one last (an external group, as drawn).
    const fakeSlot = usedHashes.length;
    expect(honest.spec.groups[fakeSlot]).toBe(groupHash(groupRows(fakeGroup, swarmTokenizer(), config, W)));
    // Its batch as the cheat computed it: the fake group's rows were not in it (zeros, as an empty slot's).
    const op = concatOp();
    const liar = await runOf(adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
      if (i === op) out.data.fill(0, fakeSlot * L * 3 * W, (fakeSlot + 1) * L * 3 * W);
    }));
    // Its policy is its honest step over the rest (the node's own next policy); its run root is what a contract derives.
    const nextPolicy = honest.policyOf(await finalOf(liar));
    expect(stateHash(nextPolicy)).toBe(stateHash(node.policy));
    const listed = [...usedHashes, honest.spec.groups[fakeSlot]];
    expect(grpoStepRun(stateLeaves(start), stateLeaves(nextPolicy), listed, honest.layout).runRoot).toBe(liar.record.commitment);
    expect(grpoStepRun(stateLeaves(start), stateLeaves(honest.policyOf(await finalOf(good))), listed, honest.layout).runRoot).toBe(good.record.commitment);

    const game = await dispute(liar, good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 1, op });
    // And as the challenger of an honest node that did train on it, the cheat's step loses too.
    expect((await dispute(good, liar)).ruling.loser).toBe('challenger');
  });
  test('any listed groups left out of the batch (generated): the node loses at the concat', async () => {
    const L = honest.layout.completions;
    const W = honest.layout.width;
    const listed = usedHashes.length + 1;
    const op = concatOp();
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: listed - 1 }), { minLength: 1, maxLength: listed }), async (left) => {
        const liar = await runOf(adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
          if (i === op) for (const k of left) out.data.fill(0, k * L * 3 * W, (k + 1) * L * 3 * W);
        }));
        const game = await dispute(liar, good);
        expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 1, op });
      }),
      { numRuns: cases(6, 60) },
    );
  }, 120_000);
});

describe('generated liars never beat the honest party', () => {
  test('any op output of the step flipped, in either role', async () => {
    const rulings: string[] = [];
    const ops = rules.structure(1).ops;
    await fc.assert(
      fc.asyncProperty(
        // Half the flips among the step's last ops (the optimizer's update), where every flip reaches h_1; exponent bits more often.
        fc.record({
          op: fc.nat(), tail: fc.boolean(), element: fc.nat(), bit: fc.oneof(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 23, max: 30 })), role: fc.constantFrom('solver', 'challenger'),
        }),
        async ({ op: o, tail, element: e, bit, role }) => {
          const op = tail ? ops.length - 1 - (o % Math.min(64, ops.length)) : o % ops.length;
          const size = ops[op].output.shape.reduce((a, b) => a * b, 1);
          if (size === 0) return;
          // An int32 output (a token id) gets a low bit flipped, so that it mostly stays a valid index.
          const b = ops[op].output.dtype === 'int32' ? bit % 3 : bit;
          const liar = await runOf(adversary.flipOpOutput(honest, 1, op, e % size, b)).catch(() => undefined);
          if (!liar || liar.record.commitment === good.record.commitment) return; // out of range, or nothing committed changed
          const game = role === 'solver' ? await dispute(liar, good) : await dispute(good, liar);
          expect(game.ruling.loser).toBe(role);
          rulings.push(`${game.ruling.at} ${role}`);
        },
      ),
      { numRuns: cases(30, 300) },
    );
    // Most flips change h_1 (a flipped gradient moves a parameter): real disputes were played.
    expect(rulings.length).toBeGreaterThanOrEqual(10);
  }, 240_000);

  test('the adversaries of the training game, with their move plans, in either role', async () => {
    const other = await runOf(grpoStepProgram(node.program, start, [groupRows(fakeGroup, swarmTokenizer(), config, honest.layout.width)], config));
    const edited = (edit: (hashes: string[]) => string[]): Run => {
      const stepHashes = edit([...good.record.stepHashes]);
      return { ...good, record: { ...good.record, stepHashes, commitment: runCommitment(stepHashes) } };
    };
    const last = rules.structure(1).ops.length - 1;
    const bases: Partial<Record<Base, Run>> = {
      'op-liar': await runOf(adversary.flipOpOutput(honest, 1, last, 0, 3)),
      'state-liar': await runOf(adversary.flipAfterUpdate(honest, 1, Object.keys(start.params)[0], 0, 3)),
      'skip-step': await runOf(adversary.skipStep(honest as unknown as TrainProgram, 1) as unknown as GrpoStepProgram),
      'wrong-h0': edited((h) => ['ab'.repeat(32), ...h.slice(1)]),
      'other-job': other,
      'fake-run': edited((h) => h.map((x, i) => (i >= 1 ? x.replace(/^.{8}/, 'deadbeef') : x))),
    };
    await plansNeverWin(rules, good, bases, party, cases(20, 200));
  }, 240_000);
});

async function finalOf(run: Run) {
  return run.program.step(run.program.init()).state;
}
