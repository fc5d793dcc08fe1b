import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, runCommitment, runJob, type RunRecord, type TrainProgram } from '../../train/index.js';
import { UsageError } from '../../platform/errors.js';
import { adversary, playGame, replayParty, rulesOf, type Move, type PlayedMove, type Position } from '../../verify/index.js';
import { intFlag, type Command } from '../command.js';
import { JOB_FLAGS, resolveProgram, trainStore } from '../job.js';
import { findRun, programOf } from './verify.js';

const CHEATS = ['flip-bit', 'math-exp', 'pairwise-sum', 'skip-step', 'lr', 'fake-hash'] as const;
type Cheat = (typeof CHEATS)[number];

function cheating(honest: TrainProgram, cheat: Cheat, t: number): TrainProgram {
  switch (cheat) {
    case 'flip-bit': {
      // Bit 3 of element 0 of the first parameter, flipped in the op that writes it at step t.
      const writer = rulesOf(honest).structure(t).stateOutputs.find((o) => o.name.startsWith('params.'))!.source as { index: number };
      return adversary.flipOpOutput(honest, t, writer.index, 0, 3);
    }
    case 'math-exp': return adversary.mathExp(honest, t);
    case 'pairwise-sum': return adversary.pairwiseSum(honest, t);
    case 'skip-step': return adversary.skipStep(honest, t);
    case 'lr': return adversary.otherLearningRate(honest, t, 2);
    case 'fake-hash': return honest;
  }
}

const short = (h: string) => `${h.slice(0, 10)}…`;

function describeMove(m: Move): string {
  switch (m.kind) {
    case 'commit-step': return `opens its h_t ${short(m.h)}${m.prev ? ` and the agreed h_t-1 ${short(m.prev.hash)}` : ''}, commits step tree ${short(m.root)}`;
    case 'reveal': return `reveals ${m.nodes.length} nodes below its disputed node: ${m.nodes.map(short).join(' ')}`;
    case 'commit-op': return `commits chunk root ${short(m.chunkRoot)}`;
    case 'open-chunk': return `opens a chunk of ${m.words.length} words`;
    case 'commit-element': return `commits final machine state after ${m.final.steps} instructions`;
    case 'claim': return `claims ${m.hashes.length} machine states: ${m.hashes.map(short).join(' ')}`;
    case 'prove-state': return /^0+$/.test(m.commitment) ? `proves the header of h_t from optimizer step ${m.optStep} of h_t-1` : `proves a state tensor of h_t from its source's commitment ${short(m.commitment)}`;
    case 'prove': return `sends the one-step proof from pc ${m.pre.pc}${m.opening ? ' with a memory opening' : ''}`;
    case 'timeout': return 'claims a timeout';
  }
}

function where(p: Position): string {
  if (p.level === 'run') return `run trees, steps ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'step') return `step ${p.t}, ops ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'op') return `step ${p.t}, op ${p.op}, chunks ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'state') return `step ${p.t}, leaves ${p.lo}..${p.lo + p.n - 1} of h_${p.t}`;
  if (p.level === 'element') return `step ${p.t}, op ${p.op}, element ${p.element}, instructions ${p.lo}..${p.lo + p.n}`;
  return p.level;
}

export const dispute: Command = {
  name: 'dispute',
  summary: 'play a whole dispute game between two local runs and print every move',
  usage: '--local <job id | run commitment | preset | spec.json>',
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
      let honest: TrainProgram;
      let solver: { program: TrainProgram; store: Store; record: RunRecord };
      const named = /^[0-9a-f]{4,64}$/i.test(args[0]);
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
        const store = trainStore(flags);
        const record = await findRun(store, args[0]);
        honest = await programOf(record);
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
        const text = `${m.move.by.padEnd(10)} ${m.level.padEnd(7)} ${describeMove(m.move)}${m.rejected ? `  REJECTED: ${m.rejected}` : ''}  [${m.bytes} B] -> ${where(m.position)}`;
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
          r.at === 'instruction'
            ? `  at step ${r.t}, op ${r.op} (${r.opName}), element ${r.element}, instruction ${r.instruction} (${r.opcode})`
            : r.at === 'state' ? `  at step ${r.t}: every op agrees, and leaf ${r.instruction} (${r.opName}) of the committed state is not what they give` : `  by timeout`,
          `  ${r.reason}`,
          `  ${game.totalRounds} rounds (run ${game.roundsPerLevel.run}, step ${game.roundsPerLevel.step}, op ${game.roundsPerLevel.op}, state ${game.roundsPerLevel.state}, element ${game.roundsPerLevel.element}, one-step ${game.roundsPerLevel.onestep}), ${game.bytes} bytes of moves`,
        ].join('\n'),
      );
    } finally {
      for (const dir of temps) await rm(dir, { recursive: true, force: true });
    }
  },
};
