// `npm run bench -- dispute [--json] [--steps 30] [--checkpoint-every 10] [--seed 1] [--skip-tiny] [--model gpt-tiny]`: one dispute
// game over a job with one flipped bit at a random step: rounds per level, bytes of moves, referee work
// and each party's extra compute during the game, as ratios to the whole job. The measured job is a
// small GPT that really trains here (--steps); the 1,000-step gpt-tiny figures are extrapolated from
// one measured gpt-tiny step (its step program, a plain and a traced step) and labelled as such.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, buildProgram, parseJobSpec, runJob, type JobSpec, type RunRecord, type TrainProgram } from '../src/train/index.js';
import { Rng } from '../src/tensor/index.js';
import { adversary, elementEntryOfOp, executeStep, playGame, refereeWork, replayParty, rulesOf, CHUNK_ELEMENTS, type Party, type StepStructure } from '../src/verify/index.js';
import { elementProgram, run } from '../src/verify/machine/index.js';
import { DESCENT_DEPTH } from '../src/verify/game/descend.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

const spec = (model: JobSpec['model'], steps: number, batchSize: number, checkpointEvery: number): JobSpec =>
  parseJobSpec({
    version: 1, model,
    optimizer: { kind: 'adamw', lr: 3e-3, clip: 1, schedule: { kind: 'warmup-cosine', warmup: 5, floor: 0.1 } },
    data: { kind: 'task', task: 'addition', config: { digits: 2 } },
    steps, batchSize, seed: 1, checkpointEvery,
  });

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Scalar operations of one step, from its step program: matmul 2K per output element, reductions 1 per input element, else 1 per output element. */
function scalarOps(s: StepStructure): number {
  let total = 0;
  for (const op of s.ops) {
    if (op.op === 'matmul') total += 2 * op.inputs[0].shape[op.inputs[0].shape.length - 1] * size(op.output.shape);
    else if (op.op === 'sum' || op.op === 'max' || op.op === 'argmax') total += size(op.inputs[0].shape);
    else total += size(op.output.shape);
  }
  return total;
}

/**
 * The longest element program of the step's ops (first output element), and the mean over every output element of the
 * step, in instructions (every element of an op runs as many instructions as its first).
 */
function elementWork(s: StepStructure): { longest: number; mean: number } {
  let longest = 0;
  let instructions = 0;
  let elements = 0;
  const seen = new Map<string, number>();
  for (const op of s.ops) {
    const key = `${op.op}${JSON.stringify(op.attrs)}${op.inputs.map((x) => x.shape.join('x')).join()}`;
    let steps = seen.get(key);
    if (steps === undefined) {
      const { program } = elementProgram(elementEntryOfOp(op), 0);
      const memory = op.inputs.map((x) => new Int32Array(size(x.shape)));
      steps = run(program, memory, 0).steps;
      seen.set(key, steps);
    }
    longest = Math.max(longest, steps);
    instructions += steps * size(op.output.shape);
    elements += size(op.output.shape);
  }
  return { longest, mean: instructions / elements };
}

const timed = (party: Party) => {
  const clock = { seconds: 0 };
  return {
    clock,
    party: { ...party, move: async (...a: Parameters<Party['move']>) => { const t0 = performance.now(); try { return await party.move(...a); } finally { clock.seconds += (performance.now() - t0) / 1000; } } } as Party,
  };
};

export type JobRun = { program: TrainProgram; store: Store; record: RunRecord };

/**
 * The job run honestly, and by a solver that flipped bit `bit` of element `element` of the output of op `op` (an op
 * that writes a parameter) at step t, all drawn from `rng`: what a dispute is played over (here and in bench/chain.ts).
 */
export async function cheatedJob(honest: TrainProgram, rng: Rng) {
  const steps = honest.spec.steps;
  const rules = rulesOf(honest);
  const t = 1 + (rng.integers([1], 0, steps).data[0] % steps);
  const storeOf = async () => new Store(await mkdtemp(join(tmpdir(), 'mycel-bench-dispute-')));
  const t0 = performance.now();
  const goodStore = await storeOf();
  const good: JobRun = { program: honest, store: goodStore, record: (await runJob(honest, { store: goodStore })).record };
  const jobSeconds = (performance.now() - t0) / 1000;
  const structure = rules.structure(t);
  const writes = structure.stateOutputs.filter((o) => o.name.startsWith('params.'));
  const target = writes[rng.integers([1], 0, writes.length).data[0] % writes.length];
  const op = (target.source as { index: number }).index;
  const element = rng.integers([1], 0, size(structure.ops[op].output.shape)).data[0] % size(structure.ops[op].output.shape);
  const bit = rng.integers([1], 0, 31).data[0] % 31;
  const cheat = adversary.flipOpOutput(honest, t, op, element, bit);
  const badStore = await storeOf();
  const bad: JobRun = { program: cheat, store: badStore, record: (await runJob(cheat, { store: badStore })).record };
  return { rules, good, bad, flip: { t, op, element, bit, name: structure.ops[op].name }, jobSeconds };
}

/** The job as run by a solver that skipped step t: every op output of t agrees with the job's, h_t does not (the state level). */
export async function skippedRun(honest: TrainProgram, t: number): Promise<JobRun> {
  const cheat = adversary.skipStep(honest, t);
  const store = new Store(await mkdtemp(join(tmpdir(), 'mycel-bench-dispute-')));
  return { program: cheat, store, record: (await runJob(cheat, { store })).record };
}

/** The cheating solver and the honest challenger, each re-executing from its own checkpoints. */
export const disputeParties = (honest: TrainProgram, good: JobRun, bad: JobRun) => ({
  solver: replayParty({ role: 'solver', program: bad.program, reference: honest, store: bad.store, record: bad.record }),
  challenger: replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record }),
});

export async function run_(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const steps = flag(args, '--steps', 30);
  const every = flag(args, '--checkpoint-every', 10);
  const rng = new Rng(flag(args, '--seed', 1));
  // --model gpt-tiny measures the job for real (with --steps 1000 --checkpoint-every 20: about half an hour here).
  const gptTiny = args.includes('--model') && args[args.indexOf('--model') + 1] === 'gpt-tiny';
  const model: JobSpec['model'] = gptTiny
    ? { kind: 'gpt', contextLength: 64, dModel: 128, layers: 4, heads: 4, mlpHidden: 512 }
    : { kind: 'gpt', contextLength: 10, dModel: 32, layers: 2, heads: 4, mlpHidden: 128 };
  const batchSize = gptTiny ? 16 : 8;
  const honest = buildProgram(spec(model, steps, batchSize, every));
  const { rules, good, bad, flip: { t, op, element, bit }, jobSeconds } = await cheatedJob(honest, rng);
  const structure = rules.structure(t);

  refereeWork.instructions = 0;
  const parties = disputeParties(honest, good, bad);
  const solver = timed(parties.solver);
  const challenger = timed(parties.challenger);
  const game = await playGame(rules, solver.party, challenger.party, { solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! });
  const jobOps = steps * scalarOps(structure);
  const r = game.ruling;
  const measured = {
    kind: 'measured', job: `gpt d${model.dModel} L${model.layers} ctx${model.contextLength} b${batchSize}, ${steps} steps, checkpoint every ${every}`, flipped: `step ${t} op ${op} (${structure.ops[op].name}) element ${element} bit ${bit}`,
    ops_per_step: structure.ops.length, job_scalar_ops: jobOps, job_seconds: jobSeconds,
    rounds_run: game.roundsPerLevel.run, rounds_step: game.roundsPerLevel.step, rounds_op: game.roundsPerLevel.op, rounds_element: game.roundsPerLevel.element, rounds_onestep: game.roundsPerLevel.onestep,
    total_rounds: game.totalRounds, bytes: game.bytes, moves: game.moves.length,
    referee_instructions: refereeWork.instructions, referee_ratio: refereeWork.instructions / jobOps,
    challenger_steps_reexecuted: challenger.party.work.steps, challenger_extra_ratio_steps: challenger.party.work.steps / steps, challenger_extra_ratio_time: challenger.clock.seconds / jobSeconds,
    solver_steps_reexecuted: solver.party.work.steps, solver_extra_ratio_steps: solver.party.work.steps / steps, solver_extra_ratio_time: solver.clock.seconds / jobSeconds,
    ruling: `${r.loser} loses at ${r.at}: step ${r.t}, op ${r.op}, element ${r.element}, instruction ${r.instruction} (${r.opcode})`,
  };
  report(measured);
  const caught = r.loser === 'solver' && r.t === t && r.op === op && r.element === element;

  let tiny: Record<string, unknown> | undefined;
  if (!args.includes('--skip-tiny')) {
    // gpt-tiny (bench/train.ts's anchor config) for 1,000 steps, checkpoint every 20: one step measured, the rest extrapolated.
    const T = 1000;
    const ce = 20;
    const program: TrainProgram = buildProgram(spec({ kind: 'gpt', contextLength: 64, dModel: 128, layers: 4, heads: 4, mlpHidden: 512 }, T, 16, ce));
    const init = program.init();
    program.step(init); // warm-up: the first step compiles the WebAssembly kernels
    const p0 = performance.now();
    program.step(init);
    const plain = (performance.now() - p0) / 1000;
    const q0 = performance.now();
    const exec = executeStep(program, init);
    const traced = (performance.now() - q0) / 1000;
    const s = exec.structure;
    const maxChunks = Math.max(...s.ops.map((o) => Math.ceil(size(o.output.shape) / CHUNK_ELEMENTS)));
    const { longest: maxInstr, mean: meanInstr } = elementWork(s);
    // Each round descends DESCENT_DEPTH tree levels, or splits an instruction range into 2^DESCENT_DEPTH parts.
    const lg = (n: number) => Math.ceil(Math.log2(Math.max(2, n)) / DESCENT_DEPTH);
    const rounds = { run: 1, step: 1 + lg(s.ops.length + 1), op: 1 + (maxChunks > 1 ? lg(maxChunks) : 0) + 1, element: 1 + lg(maxInstr), onestep: 1 };
    const totalRounds = Object.values(rounds).reduce((a, b) => a + b, 0);
    const ops = T * scalarOps(s);
    const extra = (ce - 1 + traced / plain) / T;
    tiny = {
      kind: 'extrapolated', job: 'gpt-tiny (ctx64 d128 L4 h4 mlp512 b16), 1000 steps, checkpoint every 20',
      measured_ops_per_step: s.ops.length, measured_step_seconds: plain, measured_traced_step_seconds: traced, measured_max_chunks: maxChunks, measured_longest_element_program: maxInstr, measured_mean_instructions_per_element: Number(meanInstr.toFixed(1)),
      worst_case_rounds_run: rounds.run, worst_case_rounds_step: rounds.step, worst_case_rounds_op: rounds.op, worst_case_rounds_element: rounds.element, worst_case_rounds_onestep: rounds.onestep,
      worst_case_total_rounds: totalRounds, job_scalar_ops: ops, referee_ratio: 1 / ops,
      honest_extra_ratio: extra, honest_extra_basis: `(checkpoint interval - 1 replayed steps + 1 traced step at ${(traced / plain).toFixed(2)}x) / 1000 steps`,
    };
    report(tiny);
  }
  report({
    summary: true,
    total_rounds: game.totalRounds,
    referee_ratio: measured.referee_ratio,
    honest_extra_ratio: measured.challenger_extra_ratio_time,
    honest_extra_basis: `measured: the honest challenger's compute during the game / the job's, on the ${steps}-step job (it replays up to ${every - 1} steps from a checkpoint and traces one: a short job makes this ratio large)`,
    ruling: measured.ruling,
    caught_at_flip: caught,
    bytes: game.bytes,
    measured_job: measured.job,
    ...(tiny ? { gpt_tiny_1000_total_rounds_extrapolated: tiny.worst_case_total_rounds, gpt_tiny_1000_referee_ratio_extrapolated: tiny.referee_ratio, gpt_tiny_1000_honest_extra_ratio_extrapolated: tiny.honest_extra_ratio } : {}),
    /** Goals judged on the 1,000-step gpt-tiny extrapolation where it ran, else on the measured job. */
    goals: { rounds_le_64: game.totalRounds <= 64 && (!tiny || (tiny.worst_case_total_rounds as number) <= 64), referee_lt_1e6: measured.referee_ratio < 1e-6, honest_extra_lt_5pct: (tiny ? (tiny.honest_extra_ratio as number) : measured.challenger_extra_ratio_time) < 0.05 },
  });
}

export { run_ as run };
