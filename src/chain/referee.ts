/**
 * Calldata for contracts/OneStepReferee.sol `rule` / `ruleAndEmit` from the TypeScript game's one-step proof: the
 * position the game stopped at, the `prove` move, and the rules (for the op's committed rule, op-rule.ts, and its
 * opening: the instruction at pre.pc with its path to the program root, a load's input descriptor with its path).
 */
import type { Hex } from 'viem';
import { toHex } from '../platform/sha256.js';
import { encodeProgram, encodeState, toMachineState, type Instruction, type MachineState, type Move, type Position, type Rules } from '../verify/index.js';
import { INPUT_SOURCES, encodeDescriptor, opRuleOf, ruleOpening, type RuleOpening } from '../verify/game/op-rule.js';

/** OneStepReferee.Source, in the contract's enum order. */
export const REFEREE_SOURCES = INPUT_SOURCES;
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

/** OneStepReferee.Load: the input's encodeDescriptor bytes, then the prover's opening. */
export type RefereeLoad = {
  descriptor: Hex;
  chunk: Hex;
  chunkProof: readonly Hex[];
  sourceProof: readonly Hex[];
};

/** OneStepReferee.ProgramOpening. */
export type RefereeProgramOpening = {
  programLength: number;
  inputCount: number;
  inputsRoot: Hex;
  instructionProof: readonly Hex[];
  inputProof: readonly Hex[];
};

export type RuleArgs = readonly [pre: Hex, instruction: Hex, pos: RefereePosition, load: RefereeLoad, opRule: Hex, program: RefereeProgramOpening];

export const EMPTY_LOAD: RefereeLoad = { descriptor: '0x', chunk: '0x', chunkProof: [], sourceProof: [] };

/** The opening a halted pre-state sends: the contract executes nothing, so it checks no instruction. */
export const EMPTY_OPENING: RefereeProgramOpening = { programLength: 0, inputCount: 0, inputsRoot: ZERO32, instructionProof: [], inputProof: [] };

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

export function refereeOpening(o: RuleOpening): RefereeProgramOpening {
  return {
    programLength: o.programLength,
    inputCount: o.inputCount,
    inputsRoot: bytesHex(o.inputsRoot),
    instructionProof: o.instructionProof.map(bytesHex),
    inputProof: o.inputProof.map(bytesHex),
  };
}

/**
 * The arguments of `rule(pre, instruction, pos, load, opRule, program)` for a `prove` move at `pos` (element level,
 * prove phase), mirroring what referee.ts ruleInstruction reads. A halted pre-state or an instruction other than
 * `load` gets EMPTY_LOAD; a halted pre-state sends no instruction and no paths (the contract executes nothing); a pc
 * outside the program cannot be sent and throws here.
 */
export function encodeOneStep(rules: Rules, pos: Position, move: Extract<Move, { kind: 'prove' }>): RuleArgs {
  const pre = toMachineState(move.pre);
  const rule = opRuleOf(rules.structure(pos.t), pos.op);
  const ins = pre.halted ? undefined : rule.program[pre.pc];
  if (!ins && !pre.halted) throw new RangeError(`pc ${pre.pc} is outside the element program of ${rule.program.length} instructions`);
  const instruction = ins ? encodeInstructionHex(ins) : '0x0000000000000000';
  let load = EMPTY_LOAD;
  if (ins?.op === 'load') {
    if (!move.opening) throw new Error('a load needs its memory opening');
    load = {
      descriptor: bytesHex(encodeDescriptor(rule.inputs[ins.b])),
      chunk: wordsLeHex(move.opening.chunk),
      chunkProof: move.opening.chunkProof.map(hex),
      sourceProof: move.opening.sourceProof.map(hex),
    };
  }
  const opening = ins ? refereeOpening(ruleOpening(rule, pre.pc, ins.op === 'load' ? ins.b : undefined)) : EMPTY_OPENING;
  return [encodeStateHex(pre), instruction as Hex, refereePosition(rules, pos), load, bytesHex(rule.rule), opening];
}

