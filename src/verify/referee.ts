/**
 * The referee: rules on the one step the game narrowed the dispute to, with the interface the
 * contract will have. Two cases:
 *   instruction  execute the instruction at the agreed state's pc (checked against the op's committed
 *                rule, op-rule.ts: the program root by its audit path, and for a load the input's
 *                descriptor; a load reads one word, proven chunk -> input commitment -> its source: an
 *                earlier op's leaf in the step tree, a tensor of the state tree of h_{t-1}, the batch
 *                tree, or a step-program constant), then compare the resulting state hash with both
 *                parties' claims.
 *   state        every op output of step t agrees and h_t does not, and the state trees of h_t were
 *                descended to one leaf: build that leaf from the header of h_{t-1} (step + 1, optimizer
 *                step + 1) or from its state output's source commitment, and compare it with both parties'.
 * Pure; counts what it executes (instructions, hashes) for the benchmark.
 */
import { toHex } from '../platform/sha256.js';
import { fromHex } from '../train/hex.js';
import { leafHash, type Hash } from '../train/merkle.js';
import { stateHashOf, stepInstruction, type Instruction } from './machine/index.js';
import { expectHex, expectHexList, expectInt, expectWords, opens } from './game/check.js';
import { CHUNK_ELEMENTS, chunkCount, chunkLeaf, commitmentFromChunkRoot, headerLeaf, namedLeaf } from './game/commitments.js';
import { expectState } from './game/element-level.js';
import { opRuleOf, ruleMismatch, ruleOpening, type RuleOpening } from './game/op-rule.js';
import { InvalidProofError, MalformedMoveError } from './game/errors.js';
import { stepLeafCount, type InputSource, type StepStructure } from './game/structure.js';
import type { MemoryOpening, Move, Party, Position, Ruling, Rules } from './game/types.js';


/** What the referee executed in its rulings so far (process-wide; the benchmark reads and resets it). */
export const refereeWork = { instructions: 0, hashes: 0 };

function loserOf(solverRight: boolean, challengerRight: boolean): Party | 'both' {
  if (!solverRight && !challengerRight) return 'both';
  return solverRight ? 'challenger' : 'solver';
}

/** Whether `commitment` is the tensor that `source` names, against roots the game agrees on. */
function sourceOpens(rules: Rules, pos: Position, s: StepStructure, source: InputSource, commitment: Hash, proof: readonly string[]): boolean {
  switch (source.kind) {
    case 'op': {
      // Left of the first differing leaf, so the same in both trees: either root will do.
      const size = stepLeafCount(s);
      return opens(leafHash(commitment), source.index, size, proof, pos.stepRootSolver) || opens(leafHash(commitment), source.index, size, proof, pos.stepRootChallenger);
    }
    case 'state':
      return opens(namedLeaf(source.name, commitment), source.leaf, s.stateLeafCount, proof, pos.hPrev);
    case 'batch':
      return opens(namedLeaf(source.name, commitment), source.leaf, 3, proof, toHex(rules.batchCommitment(pos.t)));
    case 'constant':
      return toHex(commitment) === source.commitment;
  }
}

/**
 * The instruction a one-step proof executes, as the contract receives it: the prover's word, checked
 * against the op's committed rule. A TypeScript `prove` move carries no instruction (both parties
 * derive the program), so by default it is the rule's own, as an honest prover sends it.
 */
export type InstructionProof = { instruction: Instruction; opening: RuleOpening };

/** The instruction ruling: the one-step proof of the element level. */
export function ruleInstruction(rules: Rules, pos: Position, move: Extract<Move, { kind: 'prove' }>, proof?: InstructionProof): Ruling {
  const pre = expectState('prove', move.pre);
  if (stateHashOf(pre) !== pos.agreed) throw new InvalidProofError(`the state is not the agreed machine state after ${pos.lo} instructions`);
  const s = rules.structure(pos.t);
  const opStructure = s.ops[pos.op];
  const committed = opRuleOf(s, pos.op);
  let ins: Instruction | undefined;
  if (!pre.halted) {
    ins = proof?.instruction ?? committed.program[pre.pc];
    if (!ins) throw new InvalidProofError(`pc ${pre.pc} is outside the element program of ${committed.program.length} instructions`);
    const load = ins.op === 'load' ? { index: ins.b, descriptor: committed.inputs[ins.b] } : undefined;
    const why = ruleMismatch(committed.rule, proof?.opening ?? ruleOpening(committed, pre.pc, load?.index), pre.pc, ins, load);
    if (why) throw new InvalidProofError(why);
  }
  const memory: Int32Array[] = opStructure.inputs.map(() => new Int32Array(0));
  if (ins?.op === 'load') memory[ins.b] = openWord(rules, pos, s, ins.b, (pre.registers[ins.a] + ins.imm) | 0, move.opening);
  const post = ins ? stepInstruction(ins, pre, memory) : pre;
  refereeWork.instructions++;
  const hash = stateHashOf(post);
  const [solverRight, challengerRight] = [hash === pos.nodeSolver, hash === pos.nodeChallenger];
  const loser = loserOf(solverRight, challengerRight);
  const opcode = (ins ?? committed.program[pre.pc])?.op ?? 'none';
  return {
    loser, at: 'instruction', t: pos.t, op: pos.op, opName: opStructure.name, element: pos.element, instruction: pos.lo, opcode,
    reason: `instruction ${pos.lo} (${opcode}) of element ${pos.element} of op ${pos.op} gives state ${hash.slice(0, 12)}; ${loser === 'both' ? 'neither party claimed it' : `the ${loser} claimed otherwise`}`,
  };
}

/** The memory of input b with one proven word at `address` (the rest is never read by one instruction). */
function openWord(rules: Rules, pos: Position, s: StepStructure, b: number, address: number, opening: MemoryOpening | null): Int32Array {
  const input = s.ops[pos.op].inputs[b];
  if (!opening) throw new MalformedMoveError('prove', `instruction loads input ${b}: send its opening`);
  const size = input.shape.reduce((x, y) => x * y, 1);
  if (address < 0 || address >= size) throw new MalformedMoveError('prove', `load address ${address} is outside input ${b}`);
  const chunk = Math.floor(address / CHUNK_ELEMENTS);
  const words = expectWords('prove', 'opening.chunk', opening.chunk, Math.min(CHUNK_ELEMENTS, size - chunk * CHUNK_ELEMENTS));
  const chunkRoot = expectHex('prove', 'opening.chunkRoot', opening.chunkRoot);
  const chunkProof = expectHexList('prove', 'opening.chunkProof', opening.chunkProof);
  const sourceProof = expectHexList('prove', 'opening.sourceProof', opening.sourceProof);
  refereeWork.hashes += chunkProof.length + sourceProof.length + 6;
  if (!opens(chunkLeaf(Int32Array.from(words)), chunk, chunkCount(size), chunkProof, chunkRoot)) throw new InvalidProofError(`chunk ${chunk} is not in the chunk tree of input ${b}`);
  const commitment = commitmentFromChunkRoot(input.dtype, input.shape, fromHex(chunkRoot));
  if (!sourceOpens(rules, pos, s, input.source, commitment, sourceProof)) throw new InvalidProofError(`input ${b}'s commitment is not its ${input.source.kind} source's`);
  const memory = new Int32Array(size);
  memory[address] = words[address - chunk * CHUNK_ELEMENTS];
  return memory;
}

/**
 * The state ruling: every op output of step t agrees, h_t does not, and the descent of the two state trees of h_t
 * ended on leaf lo, the first where they differ. The referee builds the correct leaf: leaf 0, the header of h_{t-1}
 * (proven at its leaf 0) advanced by one step and one optimizer step; leaf j >= 1, state output j-1 named with the
 * commitment of its source (an agreed op output, or a tensor carried over from h_{t-1}).
 */
export function ruleState(rules: Rules, pos: Position, move: Extract<Move, { kind: 'prove-state' }>): Ruling {
  const s = rules.structure(pos.t);
  const proof = expectHexList('prove-state', 'proof', move.proof);
  let leaf: Hash;
  let what: string;
  if (pos.lo === 0) {
    const optStep = expectInt('prove-state', 'optStep', move.optStep, 0, Number.MAX_SAFE_INTEGER);
    if (!opens(headerLeaf(pos.t - 1, optStep), 0, s.stateLeafCount, proof, pos.hPrev)) throw new InvalidProofError(`the header of h_${pos.t - 1} is not (step ${pos.t - 1}, optimizer step ${optStep})`);
    leaf = headerLeaf(pos.t, optStep + 1);
    what = 'the header';
  } else {
    const { name, source } = s.stateOutputs[pos.lo - 1];
    const commitment = fromHex(expectHex('prove-state', 'commitment', move.commitment));
    if (!sourceOpens(rules, pos, s, source, commitment, proof)) throw new InvalidProofError(`${name}'s commitment is not its ${source.kind} source's`);
    leaf = namedLeaf(name, commitment);
    what = name;
  }
  refereeWork.hashes += proof.length + 4;
  const correct = toHex(leaf);
  const loser = loserOf(correct === pos.nodeSolver, correct === pos.nodeChallenger);
  return {
    loser, at: 'state', t: pos.t, op: -1, opName: what, element: -1, instruction: pos.lo, opcode: 'none',
    reason: `every op of step ${pos.t} agrees, and they give leaf ${pos.lo} (${what}) of h_${pos.t} = ${correct.slice(0, 12)}; ${loser === 'both' ? 'neither party committed it' : `the ${loser} committed another`}`,
  };
}
