/**
 * The op rule: what a job commits per op of a step so that a contract, which cannot derive element
 * programs, can still check the one instruction a one-step proof executes and the input a load reads.
 *
 *   opRule     = SHA-256(programRoot || u32 programLength || u32 inputCount || inputsRoot)      72 bytes
 *   programRoot  RFC 6962 root over the op's element program, one leaf per 8-byte instruction (machine/program-root.ts)
 *   inputsRoot   RFC 6962 root over leafHash(descriptor k), k in input order
 *   descriptor = u32 dtype code || u8 source || u64 leaf || u64 leafCount || bytes32 constantCommitment
 *                || u32 rank || u32 dim... || u32 nameLength || name (UTF-8)
 * All integers big-endian. source: op 0, state 1, batch 2, constant 3. leaf: the op index (op), the tree
 * leaf (state, batch), 0 (constant); leafCount: stepLeafCount (op), stateLeafCount (state), 3 (batch),
 * 0 (constant); name: the state or batch tensor name, empty otherwise; constantCommitment: the constant's
 * tensor commitment, zero otherwise. These are the fields of OneStepReferee.Load.
 */
import { sha256, toHex } from '../../platform/sha256.js';
import { DTYPE_CODE } from '../../tensor/dtype.js';
import { fromHex } from '../../train/hex.js';
import { leafHash, merkleProof, merkleRoot, rootFromProof, type Hash } from '../../train/merkle.js';
import { encodeProgram, instructionProof, programOf, programRoot, type ElementEntry, type Instruction, type Program } from '../machine/index.js';
import { stepLeafCount, type OpStructure, type StepStructure } from './structure.js';

/** OneStepReferee.Source, in the contract's enum order. */
export const INPUT_SOURCES = ['op', 'state', 'batch', 'constant'] as const;

/** One input of an op as the rule commits it (OneStepReferee.Load without the opening). */
export type InputDescriptor = {
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly source: number;
  readonly leaf: number;
  readonly leafCount: number;
  readonly name: string;
  /** 64 hex digits, zero unless the source is a constant. */
  readonly constantCommitment: string;
};

/** An op's rule with its preimage: what a prover opens. */
export type OpRule = {
  readonly rule: Hash;
  readonly program: Program;
  readonly programRoot: Hash;
  readonly inputsRoot: Hash;
  readonly inputs: readonly InputDescriptor[];
};

/**
 * What a one-step proof sends beside the instruction and the load: the rule's preimage less what the
 * paths rebuild (calldata is what a one-step costs on chain). programRoot is the root the instruction's
 * path leads to; inputsRoot, for a load, the root its descriptor's path leads to (the field is then unread).
 */
export type RuleOpening = {
  readonly programLength: number;
  readonly inputCount: number;
  readonly inputsRoot: Hash;
  readonly instructionProof: readonly Hash[];
  /** The path of the loaded input's descriptor; empty unless the instruction is a load. */
  readonly inputProof: readonly Hash[];
};

const ZERO_COMMITMENT = '0'.repeat(64);

/**
 * Programs and their roots by what a program depends on (op, attributes, shapes, dtypes). A job's facts need the rule
 * of every op of every step, and the steps of a job repeat the same few hundred ops: building each once keeps a
 * 1,000-step job's facts from rebuilding ~10^6 programs.
 */
const programs = new Map<string, { program: Program; root: Hash }>();
const MAX_CACHED_PROGRAMS = 10_000;

/** JSON with every number and string tagged, so that -0, NaN and Infinity (a const op's value) keep distinct keys. */
const exactKey = (_: string, v: unknown) => (typeof v === 'number' ? `n${Object.is(v, -0) ? '-0' : String(v)}` : typeof v === 'string' ? `s${v}` : v);

function cachedProgram(op: OpStructure): { program: Program; root: Hash } {
  const entry = elementEntryOfOp(op);
  const key = JSON.stringify(entry, exactKey);
  let cached = programs.get(key);
  if (!cached) {
    if (programs.size >= MAX_CACHED_PROGRAMS) programs.clear();
    const program = programOf(entry);
    programs.set(key, (cached = { program, root: programRoot(program) }));
  }
  return cached;
}

/** What an op's element program depends on, from its place in the step program. */
export function elementEntryOfOp(op: OpStructure): ElementEntry {
  return { op: op.op, attrs: op.attrs, inputShapes: op.inputs.map((x) => x.shape), inputDtypes: op.inputs.map((x) => x.dtype), outputShape: op.output.shape };
}

/** The op's one element program. */
export function opProgram(op: OpStructure): Program {
  return cachedProgram(op).program;
}

export function inputDescriptors(s: StepStructure, op: number): InputDescriptor[] {
  return s.ops[op].inputs.map(({ dtype, shape, source }) => ({
    dtype: DTYPE_CODE[dtype],
    shape,
    source: INPUT_SOURCES.indexOf(source.kind),
    leaf: source.kind === 'op' ? source.index : source.kind === 'constant' ? 0 : source.leaf,
    leafCount: source.kind === 'op' ? stepLeafCount(s) : source.kind === 'state' ? s.stateLeafCount : source.kind === 'batch' ? 3 : 0,
    name: source.kind === 'state' || source.kind === 'batch' ? source.name : '',
    constantCommitment: source.kind === 'constant' ? source.commitment : ZERO_COMMITMENT,
  }));
}

export function encodeDescriptor(d: InputDescriptor): Uint8Array {
  const name = new TextEncoder().encode(d.name);
  const bytes = new Uint8Array(4 + 1 + 8 + 8 + 32 + 4 + 4 * d.shape.length + 4 + name.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, d.dtype);
  bytes[4] = d.source;
  view.setBigUint64(5, BigInt(d.leaf));
  view.setBigUint64(13, BigInt(d.leafCount));
  bytes.set(fromHex(d.constantCommitment), 21);
  view.setUint32(53, d.shape.length);
  d.shape.forEach((n, i) => view.setUint32(57 + 4 * i, n));
  view.setUint32(57 + 4 * d.shape.length, name.length);
  bytes.set(name, 61 + 4 * d.shape.length);
  return bytes;
}

/** SHA-256(programRoot || u32 programLength || u32 inputCount || inputsRoot). */
export function ruleHash(programRoot: Hash, programLength: number, inputCount: number, inputsRoot: Hash): Hash {
  const bytes = new Uint8Array(72);
  const view = new DataView(bytes.buffer);
  bytes.set(programRoot, 0);
  view.setUint32(32, programLength);
  view.setUint32(36, inputCount);
  bytes.set(inputsRoot, 40);
  return sha256(bytes);
}

const rules = new WeakMap<StepStructure, OpRule[]>();

/** The rule of op `op` of step program `s` (cached per step structure). */
export function opRuleOf(s: StepStructure, op: number): OpRule {
  let byOp = rules.get(s);
  if (!byOp) rules.set(s, (byOp = []));
  let rule = byOp[op];
  if (!rule) {
    const { program, root } = cachedProgram(s.ops[op]);
    byOp[op] = rule = makeOpRule(program, inputDescriptors(s, op), root);
  }
  return rule;
}

/** The rule of a program over inputs with these descriptors. */
export function makeOpRule(program: Program, inputs: readonly InputDescriptor[], root = programRoot(program)): OpRule {
  const inputsRoot = merkleRoot(inputs.map((d) => leafHash(encodeDescriptor(d))));
  return { rule: ruleHash(root, program.length, inputs.length, inputsRoot), program, programRoot: root, inputsRoot, inputs };
}

/** The opening of `rule` for the instruction at `pc`, with the path of input `loads` when the instruction is a load. */
export function ruleOpening(rule: OpRule, pc: number, loads?: number): RuleOpening {
  const leaves = rule.inputs.map((d) => leafHash(encodeDescriptor(d)));
  return {
    programLength: rule.program.length,
    inputCount: rule.inputs.length,
    // A load's path rebuilds the inputs root: zero bytes cost less calldata.
    inputsRoot: loads === undefined ? rule.inputsRoot : new Uint8Array(32),
    instructionProof: instructionProof(rule.program, pc),
    inputProof: loads === undefined ? [] : merkleProof(leaves, loads),
  };
}

/**
 * The op rule that an instruction at `pc`, and for a load the loaded input's descriptor, lead to with
 * `opening` (OneStepReferee._checkRule); undefined when a path has the wrong length for its tree.
 */
export function ruleFrom(opening: RuleOpening, pc: number, instruction: Instruction, load?: { index: number; descriptor: InputDescriptor }): Hash | undefined {
  const root = rootFromProof(leafHash(encodeProgram([instruction])), pc, opening.programLength, opening.instructionProof);
  const inputsRoot = load ? rootFromProof(leafHash(encodeDescriptor(load.descriptor)), load.index, opening.inputCount, opening.inputProof) : opening.inputsRoot;
  return root && inputsRoot && ruleHash(root, opening.programLength, opening.inputCount, inputsRoot);
}

/** Why a one-step proof's instruction or input descriptor is not the committed rule's; undefined when it is. */
export function ruleMismatch(rule: Hash, opening: RuleOpening, pc: number, instruction: Instruction, load?: { index: number; descriptor: InputDescriptor }): string | undefined {
  const got = ruleFrom(opening, pc, instruction, load);
  if (got && toHex(got) === toHex(rule)) return undefined;
  const what = load ? `the instruction at pc ${pc} and input ${load.index}'s descriptor` : `the instruction at pc ${pc}`;
  return `${what}, with the opening, lead to op rule ${got ? toHex(got).slice(0, 12) : '(none: a path of the wrong length)'}, not the committed ${toHex(rule).slice(0, 12)}`;
}
