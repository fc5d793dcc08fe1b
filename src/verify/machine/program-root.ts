/**
 * The commitment to an element program: the RFC 6962 Merkle root over its instructions' canonical
 * 8-byte encodings (encoding.ts), one leaf per pc. A contract that holds the root checks the one
 * instruction a one-step proof executes with log2(length) hashes, without the program.
 */
import { leafHash, merkleProof, merkleRoot, type Hash } from '../../train/merkle.js';
import { encodeProgram, INSTRUCTION_BYTES } from './encoding.js';
import type { Program } from './isa.js';

const leavesOf = new WeakMap<Program, Hash[]>();

function instructionLeaves(program: Program): Hash[] {
  let leaves = leavesOf.get(program);
  if (!leaves) {
    const bytes = encodeProgram(program);
    leaves = program.map((_, pc) => leafHash(bytes.subarray(pc * INSTRUCTION_BYTES, (pc + 1) * INSTRUCTION_BYTES)));
    leavesOf.set(program, leaves);
  }
  return leaves;
}

export function programRoot(program: Program): Hash {
  return merkleRoot(instructionLeaves(program));
}

/** The audit path of the instruction at `pc` to programRoot(program). */
export function instructionProof(program: Program, pc: number): Hash[] {
  return merkleProof(instructionLeaves(program), pc);
}
