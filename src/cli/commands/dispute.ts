import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, runCommitment, runJob, type JobProgram, type ProgramSpec, type RunRecord, type TrainProgram } from '../../train/index.js';
import { assistSpecOf } from '../assist-run.js';
import { UsageError } from '../../platform/errors.js';
import { adversary, describeMove, describeRuling, describeWhere, playGame, replayParty, rulesOf, type PlayedMove } from '../../verify/index.js';
import { intFlag, type Command } from '../command.js';
import { JOB_FLAGS, resolveProgram } from '../job.js';
import { findStoredRun, isJobRunRef, runStores } from '../run-stores.js';
import { dataDirOf } from './p2p-flags.js';
import { programOf } from './verify.js';

const CHEATS = ['flip-bit', 'math-exp', 'pairwise-sum', 'skip-step', 'lr', 'fake-hash'] as const;
type Cheat = (typeof CHEATS)[number];

function cheating(honest: JobProgram, cheat: Cheat, t: number): JobProgram {
  // These four change a GPT step (its exp, its sums, its schedule); flip-bit and fake-hash apply to any job.
  const gpt = (): TrainProgram => {
    if (assistSpecOf(honest.spec)) throw new UsageError(`The cheat ${cheat} changes a GPT job's step; an assist job's run can be cheated with flip-bit or fake-hash.`);
    return honest as TrainProgram;
  };
  switch (cheat) {
    case 'flip-bit': {
      // Bit 3 of element 0 of the first parameter, flipped in the op that writes it at step t.
      const writer = rulesOf(honest).structure(t).stateOutputs.find((o) => o.name.startsWith('params.'))!.source as { index: number };
      return adversary.flipOpOutput(honest, t, writer.index, 0, 3);
    }
    case 'math-exp': return adversary.mathExp(gpt(), t);
    case 'pairwise-sum': return adversary.pairwiseSum(gpt(), t);
    case 'skip-step': return adversary.skipStep(gpt(), t);
    case 'lr': return adversary.otherLearningRate(gpt(), t, 2);
    case 'fake-hash': return honest;
  }
}


export const dispute: Command = {
  name: 'dispute',
  summary: 'play a whole dispute game between two local runs and print every move',
  usage: '--local <job id | run commitment | job-N | preset | spec.json>',
  description: `
The solver is the named run from the store, or, for a preset or spec file, a run made here with
--cheat. The challenger re-executes the job honestly into a temporary store (or cheats too, with
--challenger-cheat). Every move is checked by the game's transition function; the referee rules on
the last one.

Cheats: ${CHEATS.join(', ')}.

Examples:
  mycel dispute --local spec.json --cheat math-exp --at 3
  mycel dispute --local 3fa9c1 --json`,
  flags: {
    ...JOB_FLAGS,
    local: { type: 'boolean', description: 'both parties run on this machine (the only mode so far)' },
    cheat: { type: 'string', value: 'KIND', description: 'how the solver cheats (for a preset or spec file)' },
    'challenger-cheat': { type: 'string', value: 'KIND', description: 'how the challenger cheats' },
    at: { type: 'string', value: 'T', description: 'the step the cheats happen at (default: the middle step)' },
  },
  async run({ args, flags, out }) {
    if (!flags.local) throw new UsageError('Only local disputes exist so far: pass --local.');
    if (args.length !== 1) throw new UsageError('dispute takes one job id, run commitment, preset or spec file.');
    for (const f of ['cheat', 'challenger-cheat'] as const) {
      if (flags[f] !== undefined && !CHEATS.includes(flags[f] as Cheat)) throw new UsageError(`--${f} must be one of ${CHEATS.join(', ')}.`);
    }
    const temps: string[] = [];
    const tempStore = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'mycel-dispute-'));
      temps.push(dir);
      return new Store(dir);
    };
    try {
      let honest: JobProgram;
      let solver: { program: JobProgram; store: Store; record: RunRecord<ProgramSpec> };
      const named = /^[0-9a-f]{4,64}$/i.test(args[0]) || isJobRunRef(args[0]);
      const t = () => intFlag(flags, 'at', Math.max(1, Math.ceil(honest.spec.steps / 2)), 1, honest.spec.steps);
      const runAs = async (cheat: string | undefined) => {
        const program = cheat ? cheating(honest, cheat as Cheat, t()) : honest;
        const store = await tempStore();
        out.log(`running the job${cheat ? ` with cheat ${cheat} at step ${t()}` : ''} (${honest.spec.steps} steps)…`);
        const { record } = await runJob(program, { store });
        if (cheat === 'fake-hash') {
          record.stepHashes[t()] = 'ab'.repeat(32);
          record.commitment = runCommitment(record.stepHashes);
        }
        return { program, store, record };
      };
      if (named) {
        const { store, record } = await findStoredRun(await runStores(dataDirOf(flags)), args[0]);
        honest = await programOf(record, flags);
        solver = { program: honest, store, record };
      } else {
        honest = await resolveProgram(args[0], flags);
        solver = await runAs(flags.cheat as string | undefined);
      }
      const challenger = await runAs(flags['challenger-cheat'] as string | undefined);
      const rules = rulesOf(honest);
      const party = (r: typeof solver, role: 'solver' | 'challenger', other: typeof solver) =>
        replayParty({ role, program: r.program, reference: honest, store: r.store, record: r.record });
      const onMove = (m: PlayedMove) => {
        const text = `${m.move.by.padEnd(10)} ${m.level.padEnd(7)} ${describeMove(m.move)}${m.rejected ? `  REJECTED: ${m.rejected}` : ''}  [${m.bytes} B] -> ${describeWhere(m.position)}`;
        out.result({ by: m.move.by, level: m.level, kind: m.move.kind, bytes: m.bytes, rejected: m.rejected ?? null, round: m.position.round }, text);
      };
      if (solver.record.commitment === challenger.record.commitment) {
        out.result({ agree: true, commitment: solver.record.commitment }, `Both runs commit to ${solver.record.commitment}: nothing to dispute.`);
        return;
      }
      const game = await playGame(rules, party(solver, 'solver', challenger), party(challenger, 'challenger', solver), {
        solverRoot: solver.record.commitment!, challengerRoot: challenger.record.commitment!, onMove,
      });
      const r = game.ruling;
      out.result(
        { ruling: r, rounds: game.roundsPerLevel, total_rounds: game.totalRounds, bytes: game.bytes },
        [
          '',
          `Ruling: the ${r.loser === 'both' ? 'solver and the challenger both' : r.loser} lose${r.loser === 'both' ? '' : 's'}.`,
          `  ${describeRuling(r)}`,
          `  ${r.reason}`,
          `  ${game.totalRounds} rounds (run ${game.roundsPerLevel.run}, step ${game.roundsPerLevel.step}, op ${game.roundsPerLevel.op}, state ${game.roundsPerLevel.state}, element ${game.roundsPerLevel.element}, one-step ${game.roundsPerLevel.onestep}), ${game.bytes} bytes of moves`,
        ].join('\n'),
      );
    } finally {
      for (const dir of temps) await rm(dir, { recursive: true, force: true });
    }
  },
};
