// A worker's inner steps and the outer merge are jobs the existing dispute game referees: the inner-step job
// and the merge job give the swarm's own bits, and a forged result of either loses a dispute to the honest
// party, whichever role each plays.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, jobId, parseJobSpec, replayToStep, runCommitment, stateHash, type TrainProgram } from '../../src/train/index.js';
import { contributionOf, innerStart, outerMerge, outerStateHash, runInnerSteps, shardBatcher } from '../../src/train/diloco-program.js';
import { innerStepJob, mergeClaim, mergeJob, mergedOuter } from '../../src/train/diloco-jobs.js';
import { mergeStep } from '../../src/train/merge-program.js';
import { DILOCO_OUTER, NOLOCO_OUTER } from '../../src/train/outer.js';
import { simulateDiloco, type WorkerState } from '../../src/swarm/diloco-sim.js';
import { nolocoGroupOf } from '../../src/swarm/noloco.js';
import { adversary, rulesOf } from '../../src/verify/index.js';
import { runOf, type Run } from '../verify/game-helpers.js';
import { cases } from '../verify/adversary-game.js';
import { microSpec } from '../train/helpers.js';
import { disputeJob, innerJobContributions, microRun, writerOf } from './diloco-helpers.js';

const bits = (t: { data: ArrayLike<number> }) => Array.from(new Uint32Array(Float32Array.from(t.data as Float32Array).buffer));
const sameState = (a: { params: Record<string, { data: ArrayLike<number> }> }, b: typeof a) =>
  Object.keys(a.params).every((n) => bits(a.params[n]).join() === bits(b.params[n]).join());

// Round 1 of a 4-slot DiLoCo run of the micro GPT (2 inner steps a round): every worker's state at its start.
const setup = microRun('diloco', { rounds: 1 });
const base = setup.program;
let workers: Map<number, WorkerState>;
beforeAll(() => {
  workers = simulateDiloco(setup).workers;
});

describe('job specs', () => {
  it('old specs keep their canonical JSON and job id: init, shard and merge are absent', () => {
    const spec = microSpec();
    expect(Object.keys(spec)).toEqual(['version', 'model', 'optimizer', 'data', 'steps', 'batchSize', 'seed', 'checkpointEvery']);
    // Pinned before init/shard/merge existed (main at bd3548d).
    expect(jobId(spec)).toBe(MICRO_JOB_ID);
  });

  it('refuse a job that runs past its run, a merge without its inputs, a shard index out of range', () => {
    const bad = (extra: object) => () => parseJobSpec({ ...microSpec(), ...extra });
    expect(bad({ steps: 4, init: { state: 'a'.repeat(64), step: 4, runSteps: 6 } })).toThrow(/runs past init.runSteps/);
    expect(bad({ steps: 1, merge: { mode: 'diloco', lr: 0.7, momentum: 0.9 } })).toThrow(/a merge needs init/);
    expect(bad({ shard: { slots: 4, index: 4 } })).toThrow(/shard.index: must be below slots \(4\)/);
  });

  it('a job that starts from a given state needs that state, and refuses another', () => {
    const w = workers.get(1)!;
    const job = innerStepJob(base, { ...w, innerSteps: 2, slots: 4, worker: 1 });
    expect(() => buildProgram(job.spec, { base })).toThrow(/state [0-9a-f]{64} was not handed in/);
    // Round 0's start state (the spec's initial parameters, a fresh AdamW state) is not round 1's.
    expect(() => buildProgram(job.spec, { base, init: base.init() })).toThrow(/hashes to [0-9a-f]{64}, but the spec pins/);
  });
});

describe("a worker's inner steps as a job", () => {
  const w = 2;
  let job: TrainProgram;
  beforeAll(() => {
    job = innerStepJob(base, { ...workers.get(w)!, innerSteps: 2, slots: 4, worker: w });
  });

  it('is the run continued from the round start state on its shard: the same bits as runInnerSteps', () => {
    const { outer } = workers.get(w)!;
    expect(outer.round).toBe(1);
    expect(job.spec).toMatchObject({ steps: 2, init: { step: 2, runSteps: 6 }, shard: { slots: 4, index: w } });
    expect(job.spec.init!.state).toBe(stateHash(job.init()));
    const swarm = runInnerSteps(base, shardBatcher(base.batch, 4, w), innerStart(base, outer, 2), 2);
    let state = job.init();
    for (let s = 0; s < 2; s++) state = job.step(state).state;
    expect(sameState(state, swarm.state)).toBe(true);
    expect(Object.keys(state.opt.tensors).every((n) => bits(state.opt.tensors[n]).join() === bits(swarm.state.opt.tensors[n]).join())).toBe(true);
    expect(state.opt.step).toBe(swarm.state.opt.step);
  });

  it('a forged inner-step result loses its dispute, as solver or as challenger', async () => {
    const honest = await runOf(job);
    // The commitment a networked worker announces with its delta is this job's run commitment.
    const announced = runCommitment(runInnerSteps(base, shardBatcher(base.batch, 4, w), innerStart(base, workers.get(w)!.outer, 2), 2, { hashSteps: true }).stepHashes);
    expect(announced).toBe(honest.record.commitment);
    const op = writerOf(job, 2, 'params.blocks.0.qkv.weight');
    const forged = await runOf(adversary.flipOpOutput(job, 2, op, 5, 20));
    expect(forged.record.commitment).not.toBe(honest.record.commitment);
    // The forgery is a forged delta: the pseudo-gradient of its end state is not the honest one.
    const { outer } = workers.get(w)!;
    const endOf = (r: Run) => replayToStep(r.program, r.store, r.record, 2);
    expect(bits(contributionOf(w, outer, (await endOf(forged)).params, 'diloco').delta['blocks.0.qkv.weight']))
      .not.toEqual(bits(contributionOf(w, outer, (await endOf(honest)).params, 'diloco').delta['blocks.0.qkv.weight']));

    const caught = await disputeJob(job, forged, honest);
    expect(caught.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 2, op, element: 5 });
    const defended = await disputeJob(job, honest, forged);
    expect(defended.ruling).toMatchObject({ loser: 'challenger', at: 'instruction', t: 2, op, element: 5 });
  });
});

describe('the outer merge as a job', () => {
  it('DiLoCo: its one step is the Nesterov merge, in bits; a forged merge loses its dispute', async () => {
    const outer = workers.get(0)!.outer;
    const given = innerJobContributions(base, workers, 'diloco');
    // Handed in any order: the merge sorts by worker, so the job (and its id) are the same.
    const job = mergeJob(base, { mode: 'diloco', hyper: DILOCO_OUTER, outer, contributions: [...given].reverse() });
    expect(job.id).toBe(mergeJob(base, { mode: 'diloco', hyper: DILOCO_OUTER, outer, contributions: given }).id);
    const merged = mergedOuter(job.step(job.init()).state);
    expect(merged.round).toBe(2);
    expect(outerStateHash(merged)).toBe(outerStateHash(outerMerge('diloco', outer, given, DILOCO_OUTER)));

    const honest = await runOf(job);
    // What a closer announces of its merge, without running the job, is the job's id and run commitment.
    const next = outerMerge('diloco', outer, given, DILOCO_OUTER);
    expect(mergeClaim(base, { mode: 'diloco', hyper: DILOCO_OUTER, outer, contributions: given }, next)).toEqual({ job: job.id, run: honest.record.commitment });
    const op = writerOf(job, 1, 'params.ln_f.bias');
    const forged = await runOf(adversary.flipOpOutput(job, 1, op, 3, 22));
    const caught = await disputeJob(job, forged, honest);
    expect(caught.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 1, op, element: 3 });
    expect(caught.ruling.opName).toContain('params.ln_f.bias');
    const defended = await disputeJob(job, honest, forged);
    expect(defended.ruling).toMatchObject({ loser: 'challenger', t: 1, op });
  });

  it('NoLoCo: a worker merges with its group, in bits; a merge at another outer rate loses', async () => {
    const all = innerJobContributions(base, workers, 'noloco');
    const w = 3;
    const group = nolocoGroupOf(base.spec.seed, 1, [0, 1, 2, 3], w);
    const own = workers.get(w)!.outer;
    const mine = all.filter((c) => group.includes(c.worker));
    const job = mergeJob(base, { mode: 'noloco', hyper: NOLOCO_OUTER, outer: own, contributions: mine });
    expect(outerStateHash(mergedOuter(job.step(job.init()).state))).toBe(outerStateHash(outerMerge('noloco', own, mine, NOLOCO_OUTER)));
    const honest = await runOf(job);
    // A closer that steps with half the outer rate: a merge that is not the spec's.
    const other = mergeStep({ mode: 'noloco', lr: NOLOCO_OUTER.lr / 2, momentum: NOLOCO_OUTER.momentum });
    const forged = await runOf(adversary.cheatAt(job, 1, (state) => ({ state: other(state), loss: NaN, gradNorm: undefined, lr: 0 })));
    expect(forged.record.commitment).not.toBe(honest.record.commitment);
    const caught = await disputeJob(job, forged, honest);
    expect(caught.ruling).toMatchObject({ loser: 'solver', at: 'instruction', opcode: 'const' });
  });
});

const MICRO_JOB_ID = '5b7b4955f85a107b520535c79d881dc4d2a67219c4f1de2c4f2055e4a90f1104';

describe('generated forgeries of a merge', () => {
  it('a closer or a challenger that flips any bit of any op output of the merge loses to the honest party', async () => {
    const outer = workers.get(0)!.outer;
    const job = mergeJob(base, { mode: 'diloco', hyper: DILOCO_OUTER, outer, contributions: innerJobContributions(base, workers, 'diloco') });
    const ops = rulesOf(job).structure(1).ops;
    const honest = await runOf(job);
    await fc.assert(
      fc.asyncProperty(fc.nat(ops.length - 1), fc.nat(), fc.nat(31), fc.constantFrom('solver' as const, 'challenger' as const), async (op, at, bit, role) => {
        const size = ops[op].output.shape.reduce((a, b) => a * b, 1);
        const liar = await runOf(adversary.flipOpOutput(job, 1, op, at % size, bit));
        // A flip that no later op reads leaves the merge's result as it was: nothing to dispute.
        fc.pre(liar.record.commitment !== honest.record.commitment);
        const game = role === 'solver' ? await disputeJob(job, liar, honest) : await disputeJob(job, honest, liar);
        expect(game.ruling.loser).toBe(role);
      }),
      { numRuns: cases(4, 40) },
    );
  }, 300_000);
});
