/**
 * Shared by test/chain/referee.test.ts and bench/chain.ts: random machine cases per opcode (the TS reference's
 * post-state beside each), and a synthetic load whose word is proven against a small state tree.
 */
import { leafHash, merkleProof, merkleRoot, namedLeaf, headerLeaf, chunkLeaves, tensorCommitment, CHUNK_ELEMENTS } from '../../src/train/index.js';
import { toHex } from '../../src/platform/sha256.js';
import { OPCODE, REGISTER_COUNT, encodeState, stateHashOf, step, type Instruction, type MachineState, type Memory, type Opcode, type Program } from '../../src/verify/index.js';
import {
  encodeInstructionHex, encodeStateHex, refereeOpening, wordsLeHex, REFEREE_SOURCES, type RefereeLoad, type RefereePosition, type RuleArgs,
} from '../../src/chain/referee.js';
import { encodeDescriptor, makeOpRule, ruleOpening, type InputDescriptor } from '../../src/verify/game/op-rule.js';
import { rng } from './f32-cases.js';

export const OPCODES = Object.keys(OPCODE) as Opcode[];

/** Float and integer boundary words that every register file mixes in. */
export const SPECIAL_WORDS = [
  0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fc00001, 0xffc00000, 0x7f800001,
  0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x3f000000,
  0x7fffffff, 0xffffffff, 1, 2, 31, 32, 33, 0x4b800000, 0x34000000, 0x5f800000,
];

export type MachineCase = { program: Program; state: MachineState; memory: Memory; loaded: number; post: string };

const hex = (b: Uint8Array) => `0x${toHex(b)}` as const;

/** `n` cases of opcode `op`: registers half special, half random; the instruction at a random pc. */
export function machineCases(op: Opcode, n: number, seed: number): MachineCase[] {
  const next = rng(seed);
  const u32 = () => next() >>> 0;
  const reg = () => u32() % REGISTER_COUNT;
  const cases: MachineCase[] = [];
  for (let k = 0; k < n; k++) {
    const registers = new Int32Array(REGISTER_COUNT);
    for (let i = 0; i < REGISTER_COUNT; i++) registers[i] = (k + i) % 2 === 0 ? SPECIAL_WORDS[u32() % SPECIAL_WORDS.length] : u32();
    const pc = u32() % 6;
    const steps = k % 17 === 0 ? 0xffffffff : u32() % 100000;
    const halted = k % 29 === 7;
    let ins: Instruction = { op, d: reg(), a: reg(), b: reg(), imm: 0 };
    let memory: Int32Array[] = [];
    let loaded = 0;
    if (op === 'select' || op === 'ffma') ins = { ...ins, imm: reg() };
    else if (op === 'const' || op === 'jnz') ins = { ...ins, imm: k % 3 === 0 ? u32() % 8 : u32() };
    else if (op === 'load') {
      const b = u32() % 4;
      registers[ins.a] = k % 2 === 0 ? u32() % 600 : -(u32() % 50);
      const imm = u32() % 600 + 60;
      const address = (registers[ins.a] + imm) | 0;
      memory = Array.from({ length: b + 1 }, () => new Int32Array(address + 1));
      loaded = u32() | 0;
      memory[b][address] = loaded;
      ins = { ...ins, b, imm };
    } else if (k % 4 === 0) ins = { ...ins, imm: u32() }; // unused operands the decoder does not check
    if ((op === 'divu' || op === 'remu') && k % 3 === 0) {
      // Division by zero and the int32 minimum, which a signed division would trip on.
      registers[ins.a] = [0x80000000, u32(), 0xffffffff, 0][k % 4] | 0;
      registers[ins.b] = [0, 0xffffffff, 1, 0x80000000, u32()][k % 5] | 0;
    }
    const program: Instruction[] = Array.from({ length: pc + 1 + (u32() % 3) }, () => ({ op: 'halt', d: 0, a: 0, b: 0, imm: 0 }) as Instruction);
    program[pc] = ins;
    const state: MachineState = { pc, steps, halted, registers };
    cases.push({ program, state, memory, loaded: loaded >>> 0, post: stateHashOf(step(program, state, memory)) });
  }
  return cases;
}

export const encodeCaseArgs = (cases: MachineCase[]) =>
  [
    cases.map((c) => hex(encodeState(c.state))),
    cases.map((c) => hex(Uint8Array.from(c.program.flatMap((i) => [...Buffer.from(encodeInstructionHex(i).slice(2), 'hex')])))),
    cases.map((c) => c.loaded),
  ] as const;

/**
 * Instructions of the programs the one-step cases are committed in: the longest element program of a gpt-tiny
 * training step (softmax) has 149, so its instruction paths have 8 hashes, as a 256-instruction program's.
 */
export const PROGRAM_LENGTH = 256;

/** `program` followed by halts up to `length` instructions. */
export function padded(program: Program, length: number): Program {
  return [...program, ...Array.from({ length: length - program.length }, () => ({ op: 'halt', d: 0, a: 0, b: 0, imm: 0 }) as Instruction)];
}

/** Input 0 of the synthetic op: an earlier op's output, never loaded here. */
const OTHER_INPUT: InputDescriptor = { dtype: 1, shape: [4], source: 0, leaf: 1, leafCount: 9, name: '', constantCommitment: '00'.repeat(32) };

/**
 * A load of word `address` of a float32 tensor of `size` elements that is leaf 3 (`params.w`) of a state tree of
 * `leafCount` leaves (h_{t-1}), input 1 of an op whose program is three such loads (pc 2 executes); the solver claims a
 * wrong post-state, the challenger the right one. The program has `programLength` instructions. `committed` changes the descriptor in the load and in the op rule
 * alike, so that a check after the rule's sees it.
 */
export function syntheticLoad({ size = 65536, address = 40000, leafCount = 20, programLength = PROGRAM_LENGTH, committed = {} as Partial<InputDescriptor> } = {}): { args: RuleArgs; post: string; descriptor: InputDescriptor } {
  const next = rng(7);
  const data = new Int32Array(size).map(() => next() | 0);
  const shape = [size / 256, 256];
  const commitment = tensorCommitment('float32', shape, new Float32Array(data.buffer));
  const leaves = [headerLeaf(3, 3), ...Array.from({ length: leafCount - 1 }, (_, i) => namedLeaf(`params.t${i}`, leafHash(Uint8Array.of(i))))];
  leaves[3] = namedLeaf('params.w', commitment);
  const hPrev = merkleRoot(leaves);
  const cl = chunkLeaves(new Float32Array(data.buffer));
  const chunk = Math.floor(address / CHUNK_ELEMENTS);
  const registers = new Int32Array(REGISTER_COUNT);
  registers[5] = address - 100;
  const pre: MachineState = { pc: 2, steps: 9, halted: false, registers };
  const ins: Instruction = { op: 'load', d: 7, a: 5, b: 1, imm: 100 };
  const memory = [new Int32Array(0), data];
  const program = padded([ins, ins, ins], programLength);
  const post = stateHashOf(step(program, pre, memory));
  const descriptor: InputDescriptor = {
    dtype: 1, shape, source: REFEREE_SOURCES.indexOf('state'), leaf: 3, leafCount, name: 'params.w', constantCommitment: '00'.repeat(32), ...committed,
  };
  const rule = makeOpRule(program, [OTHER_INPUT, descriptor]);
  const load: RefereeLoad = {
    descriptor: hex(encodeDescriptor(descriptor)),
    chunk: wordsLeHex(Array.from(data.subarray(chunk * CHUNK_ELEMENTS, (chunk + 1) * CHUNK_ELEMENTS))),
    chunkProof: merkleProof(cl, chunk).map(hex),
    sourceProof: merkleProof(leaves, 3).map(hex),
  };
  const pos: RefereePosition = {
    agreed: `0x${stateHashOf(pre)}`,
    nodeSolver: `0x${'ab'.repeat(32)}`,
    nodeChallenger: `0x${post}`,
    hPrev: hex(hPrev),
    stepRootSolver: `0x${'00'.repeat(32)}`,
    stepRootChallenger: `0x${'00'.repeat(32)}`,
    batchCommitment: `0x${'00'.repeat(32)}`,
  };
  return { args: [encodeStateHex(pre), encodeInstructionHex(ins), pos, load, hex(rule.rule), refereeOpening(ruleOpening(rule, 2, 1))], post, descriptor };
}
