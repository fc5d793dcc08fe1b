/**
 * Calldata for contracts/OneStepReferee.sol `rule` / `ruleAndEmit` from the TypeScript game's one-step proof: the
 * position the game stopped at, the `prove` move, and the rules (for the element program and the step program's
 * input descriptor, which the contract cannot derive and takes as arguments).
 */
import type { Hex } from 'viem';
import { DTYPE_CODE } from '../tensor/index.js';
import { toHex } from '../platform/sha256.js';
import { encodeProgram, encodeState, stepLeafCount, toMachineState, type Instruction, type MachineState, type Move, type Position, type Rules } from '../verify/index.js';
import { programAt } from '../verify/game/element-level.js';

/** OneStepReferee.Source, in the contract's enum order. */
export const REFEREE_SOURCES = ['op', 'state', 'batch', 'constant'] as const;
/** OneStepReferee.Loser, in the contract's enum order. */
export const REFEREE_LOSERS = ['solver', 'challenger', 'both'] as const;

const ZERO32: Hex = `0x${'0'.repeat(64)}`;
const hex = (h: string): Hex => (h.startsWith('0x') ? (h as Hex) : (`0x${h}` as Hex));
const bytesHex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

export type RefereePosition = {
  agreed: Hex;
  nodeSolver: Hex;
  nodeChallenger: Hex;
  hPrev: Hex;
  stepRootSolver: Hex;
  stepRootChallenger: Hex;
  batchCommitment: Hex;
};

export type RefereeLoad = {
  dtype: number;
  shape: readonly number[];
  source: number;
  leaf: bigint;
  leafCount: bigint;
  name: Hex;
  constantCommitment: Hex;
  chunk: Hex;
  chunkProof: readonly Hex[];
  sourceProof: readonly Hex[];
};

export type RuleArgs = readonly [pre: Hex, instruction: Hex, pos: RefereePosition, load: RefereeLoad];

export const EMPTY_LOAD: RefereeLoad = {
  dtype: 0, shape: [], source: 0, leaf: 0n, leafCount: 0n, name: '0x', constantCommitment: ZERO32, chunk: '0x', chunkProof: [], sourceProof: [],
};

/** encodeState as 0x-hex (137 bytes). */
export const encodeStateHex = (s: MachineState): Hex => bytesHex(encodeState(s));

/** One instruction's 8 bytes as 0x-hex (bytes8). */
export const encodeInstructionHex = (ins: Instruction): Hex => bytesHex(encodeProgram([ins]));

/** Little-endian bytes of 32-bit words (a chunk as the tensor commitment hashes it). */
export function wordsLeHex(words: readonly number[]): Hex {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return bytesHex(out);
}

/** The referee's view of a Position (batchCommitment is Rules.batchCommitment(t)). */
export function refereePosition(rules: Rules, pos: Position): RefereePosition {
  return {
    agreed: hex(pos.agreed),
    nodeSolver: hex(pos.nodeSolver),
    nodeChallenger: hex(pos.nodeChallenger),
    hPrev: hex(pos.hPrev),
    stepRootSolver: hex(pos.stepRootSolver),
    stepRootChallenger: hex(pos.stepRootChallenger),
    batchCommitment: bytesHex(rules.batchCommitment(pos.t)),
  };
}

/**
 * The arguments of `rule(pre, instruction, pos, load)` for a `prove` move at `pos` (element level, prove phase),
 * mirroring what referee.ts ruleInstruction reads. A halted pre-state or an instruction other than `load` gets
 * EMPTY_LOAD; a pc outside the program cannot be sent (the contract takes one instruction) and throws here.
 */
export function encodeOneStep(rules: Rules, pos: Position, move: Extract<Move, { kind: 'prove' }>): RuleArgs {
  const pre = toMachineState(move.pre);
  const program = programAt(rules, pos.t, pos.op, pos.element);
  const ins = program[pre.pc];
  if (!ins && !pre.halted) throw new RangeError(`pc ${pre.pc} is outside the element program of ${program.length} instructions`);
  const instruction = ins ? encodeInstructionHex(ins) : '0x0000000000000000';
  let load = EMPTY_LOAD;
  if (ins?.op === 'load' && !pre.halted) {
    if (!move.opening) throw new Error('a load needs its memory opening');
    const input = rules.structure(pos.t).ops[pos.op].inputs[ins.b];
    const s = rules.structure(pos.t);
    const src = input.source;
    load = {
      dtype: DTYPE_CODE[input.dtype],
      shape: [...input.shape],
      source: REFEREE_SOURCES.indexOf(src.kind),
      leaf: BigInt(src.kind === 'op' ? src.index : src.kind === 'constant' ? 0 : src.leaf),
      leafCount: BigInt(src.kind === 'op' ? stepLeafCount(s) : src.kind === 'state' ? s.stateLeafCount : src.kind === 'batch' ? 3 : 0),
      name: src.kind === 'state' || src.kind === 'batch' ? bytesHex(new TextEncoder().encode(src.name)) : '0x',
      constantCommitment: src.kind === 'constant' ? hex(src.commitment) : ZERO32,
      chunk: wordsLeHex(move.opening.chunk),
      chunkProof: move.opening.chunkProof.map(hex),
      sourceProof: move.opening.sourceProof.map(hex),
    };
  }
  return [encodeStateHex(pre), instruction as Hex, refereePosition(rules, pos), load];
}
