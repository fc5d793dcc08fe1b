/**
 * Positions, moves and rulings of the dispute game (docs/verification.md). A position is one flat
 * record (the same fields at every level, zero where unused) so that it has one canonical byte
 * encoding (encoding.ts) a contract can store and hash; every hash is lowercase hex.
 */
import type { Hash } from '../../train/merkle.js';
import type { MachineState } from '../machine/index.js';
import type { StepStructure } from './structure.js';

export type Party = 'solver' | 'challenger';
export type Turn = Party | 'either' | 'none';
export type Level = 'run' | 'step' | 'op' | 'state' | 'element' | 'done';
/** commit: each party posts its root for the level; bisect: descend / bisect; open: open the leaf; prove: one-step. */
export type Phase = 'commit' | 'bisect' | 'open' | 'prove' | 'over';
export type Hex = string;

export const ZERO: Hex = '0'.repeat(64);

/** A ruling: who loses, and where the game located the fault. */
export type Ruling = {
  loser: Party | 'both';
  /**
   * 'instruction': one element instruction; 'state': one leaf of the state tree of h_t against its source; 'timeout';
   * 'initial': leaf 0 of the run trees (h_0) against the job's h_0.
   */
  at: 'instruction' | 'state' | 'timeout' | 'initial';
  t: number;
  op: number;
  opName: string;
  element: number;
  instruction: number;
  opcode: string;
  reason: string;
};

export type Position = {
  jobId: Hex;
  level: Level;
  phase: Phase;
  turn: Turn;
  /** The clock value after which the party to move loses (a block number on chain): when its turn began plus its chess clock. */
  deadline: number;
  /**
   * Each party's chess clock: the ticks it has left for all its remaining moves of this dispute (BoLD's time budget),
   * as of the start of the turn under way. A move charges the mover the ticks its turn took; the one-step phase
   * ('either') runs the solver's clock, as its timeout rules against the solver.
   */
  clockSolver: number;
  clockChallenger: number;
  /** Exchanges completed so far (a solver half plus a challenger half, or a single move). */
  round: number;
  solverRoot: Hex;
  challengerRoot: Hex;
  /** The run level's descent of both run trees ends at step t: the agreed h_{t-1} and both h_t, opened at commit-step. */
  t: number;
  hPrev: Hex;
  hSolver: Hex;
  hChallenger: Hex;
  stepRootSolver: Hex;
  stepRootChallenger: Hex;
  op: number;
  element: number;
  /** The disputed range: tree node [lo, lo+n) (step, op, state) or machine steps (lo, lo+n] (element). */
  lo: number;
  n: number;
  /** Each party's hash of the disputed node / of the machine state at lo+n. */
  nodeSolver: Hex;
  nodeChallenger: Hex;
  /** Element level: the agreed machine state hash at lo. */
  agreed: Hex;
  /** The solver's half of the current exchange (a frontier, claims, a chunk root, a final state hash), waiting for the challenger's. */
  pending: Hex[];
  /** Op level: the solver's opened chunk; element level: the two parties' element words. */
  pendingWords: number[];
  valueSolver: number;
  valueChallenger: number;
  ruling: Ruling | null;
};

/** Proof that a hex hash is leaf `index` of a run's step-hash tree. */
export type StepHashOpening = { hash: Hex; proof: Hex[] };

/** Where an input word comes from, proven down to a commitment the game already agrees on. */
export type MemoryOpening = {
  chunkRoot: Hex;
  chunk: number[];
  chunkProof: Hex[];
  /** The path of the input's leaf to its source root (step tree, state tree of h_{t-1}, batch tree); empty for a constant. */
  sourceProof: Hex[];
};

export type Move =
  /**
   * The mover's step tree of step t, bound to its h_t (`h`, the preimage of its run tree's leaf t, on which the run
   * descent ended) by the path of the last leaf. The solver also opens h_{t-1} in its own run tree (`prev`, leaf t-1,
   * equal in both trees): each party opens only its own commitments. The challenger sends `prev: null`.
   */
  | { kind: 'commit-step'; by: Party; root: Hex; proof: Hex[]; h: Hex; prev: StepHashOpening | null }
  /** The frontier of the mover's disputed node DESCENT_DEPTH levels down (descend.ts frontier): its run tree, step tree, chunk tree or state tree. */
  | { kind: 'reveal'; by: Party; nodes: Hex[] }
  | { kind: 'commit-op'; by: Party; chunkRoot: Hex }
  | { kind: 'open-chunk'; by: Party; words: number[] }
  | { kind: 'commit-element'; by: Party; final: { pc: number; steps: number; halted: boolean; registers: number[] } }
  /** The mover's machine-state hashes at lo + claimOffsets(n) (element-level.ts). */
  | { kind: 'claim'; by: Party; hashes: Hex[] }
  /**
   * The correct leaf lo of the state tree of h_t (state level, Decisions 5). Leaf 0, the header: `optStep` of h_{t-1}
   * and `proof` its header's path in h_{t-1} (`commitment` unused). Leaf j >= 1, the state output j-1: its tensor
   * `commitment` and `proof` its path to its source (a step-tree leaf, or a leaf of h_{t-1}); `optStep` unused.
   */
  | { kind: 'prove-state'; by: Party; optStep: number; commitment: Hex; proof: Hex[] }
  | { kind: 'prove'; by: Party; pre: { pc: number; steps: number; halted: boolean; registers: number[] }; opening: MemoryOpening | null }
  | { kind: 'timeout'; by: Party };

/** The public facts every transition may read: the job, derived from its spec alone. */
export type Rules = {
  jobId: Hex;
  /** Steps of the job T: a run tree has T + 1 leaves. */
  steps: number;
  /** h_0: the job's initial state hash. */
  h0: Hex;
  /** Each party's chess clock at the start of a dispute: the ticks (blocks on chain) it has for all its moves. */
  clock: number;
  /** The step program of step t (structure.ts). */
  structure(t: number): StepStructure;
  /** The batch commitment of step t. */
  batchCommitment(t: number): Hash;
};

export const toMachineState = (s: { pc: number; steps: number; halted: boolean; registers: readonly number[] }): MachineState => ({
  pc: s.pc,
  steps: s.steps,
  halted: s.halted,
  registers: Int32Array.from(s.registers),
});

export const fromMachineState = (s: MachineState) => ({ pc: s.pc, steps: s.steps, halted: s.halted, registers: Array.from(s.registers) });
