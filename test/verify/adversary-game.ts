/**
 * Generated adversaries against an honest party in the TypeScript game (shared by test/verify/adversaries.test.ts,
 * test/chain/adversaries-chain.test.ts and bench/adversary.ts). An adversary is a base strategy (a run that is not the
 * job's honest run: a consistent liar at some op, a parameter changed outside any op, a skipped step, another h_0,
 * another job's run, a fake but self-consistent list of step hashes) plus a plan: per move it plays its base move,
 * stays silent, stalls to its deadline, tampers one hash or word, sends another move kind, a malformed move, or tries
 * to move out of turn. `playAdversarial` plays it against the honest party with the game's own `transition`, one
 * tick per attempt, and reports what the properties need: the ruling, every rejected honest move (there must be
 * none), every out-of-turn attempt that was not rejected (none), and the last tick (a dispute must end within
 * 2 x rules.clock).
 */
import fc from 'fast-check';
import { buildProgram, runCommitment } from '../../src/train/index.js';
import {
  adversary, expectedMove, OutOfTurnError, replayParty, startGame, transition, type Move, type Party, type Position, type Ruling, type Rules,
} from '../../src/verify/index.js';
import { honest, rules, runOf, SPEC, type Run } from './game-helpers.js';

export type Role = 'solver' | 'challenger';
export type Action = 'honest' | 'silent' | 'stall' | 'tamper' | 'wrong-kind' | 'malformed' | 'out-of-turn';
export const ACTIONS: readonly Action[] = ['honest', 'silent', 'stall', 'tamper', 'wrong-kind', 'malformed', 'out-of-turn'];

/** The attack kinds of the issue, each a way to build the adversary's run. */
export const BASES = ['op-liar', 'state-liar', 'skip-step', 'wrong-h0', 'other-job', 'fake-run', 'other-lr'] as const;
export type Base = (typeof BASES)[number];

export type Plan = { base: Base; role: Role; actions: Action[]; seed: number };

/** One run per base, made once; and the honest run. */
export type Runs = { good: Run; bases: Record<Base, Run> };

const T = 2;

export async function makeRuns(): Promise<Runs> {
  const good = await runOf(honest);
  const writer = (rules.structure(T).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
  const fake = (r: Run, from: number): Run => {
    // Made-up hashes from step `from` on: a self-consistent run tree whose states nobody can show.
    const stepHashes = r.record.stepHashes.map((h, i) => (i >= from ? h.replace(/^.{8}/, 'deadbeef') : h));
    return { ...r, record: { ...r.record, stepHashes, commitment: runCommitment(stepHashes) } };
  };
  const wrongH0 = (r: Run): Run => {
    const stepHashes = ['ab'.repeat(32), ...r.record.stepHashes.slice(1)];
    return { ...r, record: { ...r.record, stepHashes, commitment: runCommitment(stepHashes) } };
  };
  return {
    good,
    bases: {
      'op-liar': await runOf(adversary.flipOpOutput(honest, T, writer, 37, 3)),
      'state-liar': await runOf(adversary.flipAfterUpdate(honest, T, 'blocks.0.qkv.weight', 5, 7)),
      'skip-step': await runOf(adversary.skipStep(honest, T + 1)),
      'wrong-h0': wrongH0(good),
      'other-job': await runOf(buildProgram({ ...SPEC, seed: SPEC.seed + 1 })),
      'fake-run': fake(good, T),
      'other-lr': await runOf(adversary.otherLearningRate(honest, 1, 2)),
    },
  };
}

/** The base strategies, one per (run, role), made once: a party caches its re-execution, so games after the first are cheap. */
export function makeParties(runs: Runs) {
  const cache = new Map<string, Party>();
  const party = (run: Run, role: Role, key: string) => {
    let p = cache.get(`${key}/${role}`);
    if (!p) cache.set(`${key}/${role}`, (p = replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record })));
    return p;
  };
  return {
    honest: (role: Role) => party(runs.good, role, 'good'),
    base: (base: Base, role: Role) => party(runs.bases[base], role, base),
  };
}

export const planArb = (bases: readonly Base[] = BASES): fc.Arbitrary<Plan> =>
  fc.record({
    base: fc.constantFrom(...bases),
    role: fc.constantFrom<Role>('solver', 'challenger'),
    actions: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 30 }),
    seed: fc.nat(),
  });

/** One hash or word of the move changed (the seed picks which); a move without one is sent as it is. */
export function tamper(m: Move, seed: number): Move {
  const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
  const at = <T>(xs: readonly T[], f: (x: T) => T) => xs.map((x, i) => (i === seed % Math.max(1, xs.length) ? f(x) : x));
  switch (m.kind) {
    case 'commit-step': return seed % 2 ? { ...m, root: flip(m.root) } : { ...m, h: flip(m.h) };
    case 'reveal': return { ...m, nodes: at(m.nodes, flip) };
    case 'commit-op': return { ...m, chunkRoot: flip(m.chunkRoot) };
    case 'open-chunk': return { ...m, words: at(m.words, (w) => w ^ 1) };
    case 'commit-element': return { ...m, final: { ...m.final, registers: at(m.final.registers, (w) => w ^ 1) } };
    case 'claim': return { ...m, hashes: at(m.hashes, flip) };
    case 'prove-state': return { ...m, commitment: flip(m.commitment) };
    case 'prove': return { ...m, pre: { ...m.pre, registers: at(m.pre.registers, (w) => w ^ 1) } };
    default: return m;
  }
}

export type Outcome = {
  ruling: Ruling;
  /** The honest party's role and whether it lost (it must not). */
  honestRole: Role;
  honestLost: boolean;
  /** The adversary was the solver and won: the cheat would be paid (it must not). */
  cheatPaid: boolean;
  /** Honest moves the game rejected, out-of-turn moves it accepted (both must be empty). */
  honestRejected: string[];
  outOfTurnAccepted: number;
  rejected: number;
  /** Last tick of the game, and the bound it must end within (2 x clock, +1 for the timeout move). */
  ticks: number;
  bound: number;
  /** Accepted moves with the position each was played at, for an on-chain replay. */
  accepted: { before: Position; move: Move; after: Position }[];
  roots: { solver: string; challenger: string };
};

/** Plays plan's adversary against the honest party. `honest` and `base` come from makeParties. */
export async function playAdversarial(r: Rules, plan: Plan, honestParty: Party, base: Party, runs: Runs): Promise<Outcome> {
  const advRole = plan.role;
  const honestRole: Role = advRole === 'solver' ? 'challenger' : 'solver';
  const advRun = runs.bases[plan.base];
  const roots = advRole === 'solver'
    ? { solver: advRun.record.commitment!, challenger: runs.good.record.commitment! }
    : { solver: runs.good.record.commitment!, challenger: advRun.record.commitment! };
  let now = 0;
  let pos = startGame(r, { jobId: r.jobId, solverRoot: roots.solver, challengerRoot: roots.challenger }, now);
  const start = now;
  let k = 0;
  const next = (): Action => plan.actions[k++] ?? 'honest';
  const honestRejected: string[] = [];
  const accepted: Outcome['accepted'] = [];
  let outOfTurnAccepted = 0;
  let rejected = 0;
  const apply = (move: Move, at: number): boolean => {
    try {
      const after = transition(r, pos, move, at);
      accepted.push({ before: pos, move, after });
      pos = after;
      return true;
    } catch (error) {
      if (move.by === honestRole) honestRejected.push(`${move.kind}: ${(error as Error).message.split('\n')[0]}`);
      rejected++;
      return false;
    }
  };
  for (let guard = 0; !pos.ruling && guard < 10_000; guard++) {
    // The party to move is past its clock: anyone claims the timeout.
    if (now >= pos.deadline) {
      now = pos.deadline + 1;
      apply({ kind: 'timeout', by: honestRole }, now);
      continue;
    }
    const advTurn = pos.turn === advRole || pos.turn === 'either';
    if (!advTurn) {
      // The adversary may try to move out of turn first: the game must refuse it and keep the position.
      if (plan.actions[k] === 'out-of-turn') {
        // It sends the move the honest party is about to send, as its own; it costs the honest party no time.
        k++;
        const theirs = await honestParty.move(pos, r);
        if (theirs) {
          const before = pos;
          try {
            transition(r, pos, { ...theirs, by: advRole } as Move, now + 1);
            outOfTurnAccepted++;
          } catch (error) {
            if (!(error instanceof OutOfTurnError)) outOfTurnAccepted++;
          }
          if (pos !== before) outOfTurnAccepted++;
        }
        continue;
      }
      const move = await honestParty.move(pos, r);
      now++;
      if (!move) {
        honestRejected.push(`no move at ${pos.level}/${pos.phase}`);
        now = pos.deadline + 1;
        continue;
      }
      apply(move, now);
      continue;
    }
    // The adversary's turn (or either party's: the adversary goes first, then the honest party proves).
    const action = next();
    const own = await base.move(pos, r);
    let move: Move | undefined = own;
    let at = now + 1;
    if (action === 'silent') move = undefined;
    else if (action === 'stall') at = pos.deadline;
    else if (action === 'tamper' && own) move = tamper(own, plan.seed + k);
    else if (action === 'wrong-kind') move = { kind: expectedMove(pos) === 'claim' ? 'reveal' : 'claim', by: advRole, hashes: [], nodes: [] } as unknown as Move;
    else if (action === 'malformed') move = { kind: own?.kind ?? 'reveal', by: advRole, nodes: 'x', root: 7, words: null } as unknown as Move;
    if (move) {
      now = at;
      if (apply({ ...move, by: advRole } as Move, now)) continue;
    }
    if (pos.turn === 'either' && !pos.ruling) {
      const proof = await honestParty.move(pos, r);
      now++;
      if (proof) apply(proof, now);
      else honestRejected.push(`no proof at ${pos.level}`);
      continue;
    }
    if (!move) now = pos.deadline; // silent: the clock runs out
  }
  const ruling = pos.ruling!;
  return {
    ruling,
    honestRole,
    honestLost: ruling.loser === honestRole || ruling.loser === 'both',
    cheatPaid: advRole === 'solver' && ruling.loser !== 'solver' && ruling.loser !== 'both',
    honestRejected,
    outOfTurnAccepted,
    rejected,
    ticks: now - start,
    bound: 2 * r.clock + 1,
    accepted,
    roots,
  };
}

/** The number of generated cases: hundreds in CI, thousands with MYCEL_LONG=1. */
export const cases = (ci: number, long: number) => (process.env.MYCEL_LONG === '1' ? long : ci);
