/**
 * Calldata for contracts/DisputeGame.sol from the TypeScript game (src/verify/game): the job's facts tree (the step
 * program facts the contract reads: per step its step-tree and state-tree leaf counts and batch commitment, per op its
 * output dtype, shape and op rule, per leaf j >= 1 of h_t the name and source of state output j-1) and one contract
 * call per TS move, given the position the move was played at.
 *
 * ```ts
 * const facts = jobFacts(rules)                          // the submitter posts facts.root with setRules
 * const call = encodeDisputeMove(rules, facts, disputeId, pos, move)
 * await send(wallet, { address: game, abi: DisputeGameAbi, ...call })
 * ```
 */
import { concat, encodeAbiParameters, keccak256, stringToHex, type Hex } from 'viem';
import { DTYPE_CODE } from '../tensor/index.js';
import { toHex } from '../platform/sha256.js';
// The modules themselves, not train/index.js (which brings the checkpoint store, node:fs): browser nodes use this file.
import { fromHex } from '../train/hex.js';
import { leafHash, nodeHash, type Hash } from '../train/merkle.js';
import { stepLeafCount, type Move, type Position, type Rules, type StepStructure } from '../verify/index.js';
import { INPUT_SOURCES, opRuleOf, ruleOpening } from '../verify/game/op-rule.js';
import { frontier } from '../verify/game/descend.js';
import { EMPTY_OPENING, encodeInstructionHex, encodeOneStep, encodeStateHex, refereeOpening, wordsLeHex } from './referee.js';

/** DisputeGame.Level / Phase / Turn / Move / At, in the contract's enum order (encoding.ts's order). */
export const GAME_LEVELS = ['run', 'step', 'op', 'state', 'element', 'done'] as const;
export const GAME_PHASES = ['commit', 'bisect', 'open', 'prove', 'over'] as const;
export const GAME_TURNS = ['solver', 'challenger', 'either', 'none'] as const;
export const GAME_MOVES = ['commit-step', 'reveal', 'commit-op', 'open-chunk', 'commit-element', 'claim', 'prove-state', 'prove', 'timeout'] as const;
export const GAME_AT = ['instruction', 'state', 'timeout', 'initial'] as const;

const hex = (h: string): Hex => (h.startsWith('0x') ? (h as Hex) : (`0x${h}` as Hex));
const bytesHex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

export type StepFactArg = { leafCount: bigint; stateLeafCount: bigint; batchCommitment: Hex; index: bigint; path: Hex[] };
export type StateFactArg = { sourceKind: number; sourceIndex: bigint; constantCommitment: Hex; name: Hex; index: bigint; path: Hex[] };
export type OpFactArg = { dtype: number; shape: number[]; opRule: Hex; index: bigint; path: Hex[] };

/** The facts tree of a job: what JobMarket.setRules takes (h0, root, size) and the openings each move sends. */
export type JobFacts = {
  h0: Hex;
  root: Hex;
  size: bigint;
  step(t: number): StepFactArg;
  op(t: number, op: number): OpFactArg;
  /** The fact of leaf j >= 1 of the state tree of h_t (state output j-1). */
  state(t: number, j: number): StateFactArg;
};

/** Leaf data of a step fact: abi.encode(uint8 1, uint64 t, uint64 leafCount, uint64 stateLeafCount, bytes32 batchCommitment). */
export const stepFactData = (t: number, leafCount: number, stateLeafCount: number, batch: Hex): Hex =>
  encodeAbiParameters([{ type: 'uint8' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes32' }], [1, BigInt(t), BigInt(leafCount), BigInt(stateLeafCount), batch]);

/**
 * The state fact of leaf j >= 1 of h_t, without its place in the tree: state output j-1's name and source (kind in
 * OneStepReferee.Source order, the op or the leaf of h_{t-1}, a constant's commitment).
 */
function stateFactOf(s: StepStructure, j: number): Omit<StateFactArg, 'index' | 'path'> {
  const { name, source } = s.stateOutputs[j - 1];
  // The contract names a carried-over tensor's leaf in h_{t-1} with its name in h_t.
  if (source.kind === 'state' && source.name !== name) throw new Error(`state output ${name} is carried over from ${source.name}: DisputeGame needs one name`);
  if (source.kind === 'batch') throw new Error(`state output ${name} is a batch tensor`);
  return {
    sourceKind: INPUT_SOURCES.indexOf(source.kind),
    sourceIndex: BigInt(source.kind === 'op' ? source.index : source.kind === 'state' ? source.leaf : 0),
    constantCommitment: source.kind === 'constant' ? hex(source.commitment) : ZERO_WORD,
    name: stringToHex(name),
  };
}

/** Leaf data of a state fact: abi.encode(uint8 3, uint64 t, uint64 j, uint8 sourceKind, uint64 sourceIndex, bytes32 constantCommitment, bytes name). */
export const stateFactData = (t: number, j: number, f: Omit<StateFactArg, 'index' | 'path'>): Hex =>
  encodeAbiParameters(
    [{ type: 'uint8' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'uint8' }, { type: 'uint64' }, { type: 'bytes32' }, { type: 'bytes' }],
    [3, BigInt(t), BigInt(j), f.sourceKind, f.sourceIndex, f.constantCommitment, f.name],
  );

/** Leaf data of an op fact: abi.encode(uint8 2, uint64 t, uint32 op, uint32 dtype, uint32[] shape, bytes32 opRule). */
export const opFactData = (t: number, op: number, dtype: number, shape: readonly number[], opRule: Hex): Hex =>
  encodeAbiParameters(
    [{ type: 'uint8' }, { type: 'uint64' }, { type: 'uint32' }, { type: 'uint32' }, { type: 'uint32[]' }, { type: 'bytes32' }],
    [2, BigInt(t), op, dtype, [...shape], opRule],
  );

/** Builds the facts tree of steps 1..rules.steps from the step program (what anyone derives from the spec). */
export function jobFacts(rules: Rules): JobFacts {
  const leaves: Hash[] = [];
  const stepAt = new Map<number, number>();
  const opAt = new Map<string, number>();
  const stateAt = new Map<string, number>();
  for (let t = 1; t <= rules.steps; t++) {
    const s = rules.structure(t);
    stepAt.set(t, leaves.length);
    leaves.push(leafHash(fromHex(stepFactData(t, stepLeafCount(s), s.stateLeafCount, bytesHex(rules.batchCommitment(t))).slice(2))));
    for (let j = 1; j < s.stateLeafCount; j++) {
      stateAt.set(`${t}/${j}`, leaves.length);
      leaves.push(leafHash(fromHex(stateFactData(t, j, stateFactOf(s, j)).slice(2))));
    }
    s.ops.forEach((o, i) => {
      opAt.set(`${t}/${i}`, leaves.length);
      leaves.push(leafHash(fromHex(opFactData(t, i, DTYPE_CODE[o.output.dtype], o.output.shape, bytesHex(opRuleOf(s, i).rule)).slice(2))));
    });
  }
  const levels = treeLevels(leaves);
  const path = (index: number) => pathOf(levels, index).map(bytesHex);
  return {
    h0: hex(rules.h0),
    root: bytesHex(levels[levels.length - 1][0]),
    size: BigInt(leaves.length),
    step(t) {
      const index = stepAt.get(t)!;
      const s = rules.structure(t);
      return { leafCount: BigInt(stepLeafCount(s)), stateLeafCount: BigInt(s.stateLeafCount), batchCommitment: bytesHex(rules.batchCommitment(t)), index: BigInt(index), path: path(index) };
    },
    state(t, j) {
      const index = stateAt.get(`${t}/${j}`)!;
      return { ...stateFactOf(rules.structure(t), j), index: BigInt(index), path: path(index) };
    },
    op(t, op) {
      const index = opAt.get(`${t}/${op}`)!;
      const o = rules.structure(t).ops[op].output;
      return { dtype: DTYPE_CODE[o.dtype], shape: [...o.shape], opRule: bytesHex(opRuleOf(rules.structure(t), op).rule), index: BigInt(index), path: path(index) };
    },
  };
}

/**
 * Every level of an RFC 6962 tree, built bottom-up as merkle.ts merkleRoot pairs them (an odd last node moves up
 * unpaired): the same nodes as the top-down split, kept so that each of a job's many fact paths (a 1,000-step job
 * has ~10^6 facts) is read in O(log n) instead of rehashing the tree (merkleProof).
 */
function treeLevels(leaves: Hash[]): Hash[][] {
  const levels = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const level = levels[levels.length - 1];
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
  }
  return levels;
}

/** merkleProof's audit path of leaf `index`, leaf side first: the sibling at every level where there is one. */
function pathOf(levels: Hash[][], index: number): Hash[] {
  const path: Hash[] = [];
  for (let l = 0; l < levels.length - 1; l++, index >>= 1) if ((index ^ 1) < levels[l].length) path.push(levels[l][index ^ 1]);
  return path;
}

export type DisputeCall = { functionName: string; args: readonly unknown[] };

const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`;

/** The challenger's commitStep reads the step fact the solver's proved, so it sends this empty one. */
const NO_STEP_FACT: StepFactArg = { leafCount: 0n, stateLeafCount: 0n, batchCommitment: ZERO_WORD, index: 0n, path: [] };

/** proveState of the header leaf (j = 0) reads no state fact, so it sends this empty one. */
const NO_STATE_FACT: StateFactArg = { sourceKind: 0, sourceIndex: 0n, constantCommitment: ZERO_WORD, name: '0x', index: 0n, path: [] };

/** A chunk's 32-byte groups (8 little-endian words each, the last zero-padded): what DisputeGame chains of an opened chunk. */
export function chunkGroups(words: readonly number[]): Hex[] {
  const bytes = wordsLeHex(words).slice(2);
  const groups: Hex[] = [];
  for (let at = 0; at < bytes.length; at += 64) groups.push(`0x${bytes.slice(at, at + 64).padEnd(64, '0')}`);
  return groups;
}

/** The last three arguments of openChunk: for the challenger, the first differing word, the solver's group holding it and the chain of the solver's groups after it. */
function solverChunkHalf(pos: Position, move: Extract<Move, { kind: 'open-chunk' }>): [bigint, Hex, Hex] {
  if (move.by === 'solver') return [0n, ZERO_WORD, ZERO_WORD];
  const first = move.words.findIndex((w, j) => w >>> 0 !== pos.pendingWords[j] >>> 0);
  const groups = chunkGroups(pos.pendingWords);
  const g = Math.floor(first / 8);
  return [BigInt(first), groups[g], solverChain(groups.slice(g + 1))];
}

/** DisputeGame._chain: c_0 of c_j = keccak256(h_j, c_{j+1}), c_len = 0; what the contract keeps of the solver's frontier or claims. */
export function solverChain(hashes: readonly string[]): Hex {
  let c = ZERO_WORD;
  for (let j = hashes.length - 1; j >= 0; j--) c = keccak256(concat([hex(hashes[j]), c]));
  return c;
}

/**
 * abi.encode(DisputeGame.StepContext) at `pos`: h_{t-1}, both h_t and step roots (zeros until the challenger's
 * commit-step), step t's batch commitment. The contract keeps only its hash; the moves that read it send it.
 */
export function stepContextOf(rules: Rules, pos: Position): Hex {
  return concat([pos.hPrev, pos.hSolver, pos.hChallenger, pos.stepRootSolver, pos.stepRootChallenger].map(hex).concat(bytesHex(rules.batchCommitment(pos.t))));
}

/** DisputeGame.StepContext at `pos` as the tuple prove and proveState send (stepContextOf is its abi encoding). */
export function stepContextTuple(rules: Rules, pos: Position) {
  return {
    hPrev: hex(pos.hPrev), hSolver: hex(pos.hSolver), hChallenger: hex(pos.hChallenger),
    stepRootSolver: hex(pos.stepRootSolver), stepRootChallenger: hex(pos.stepRootChallenger), batchCommitment: bytesHex(rules.batchCommitment(pos.t)),
  };
}

/** Whether the challenger's reveal ends the step descent on leaf N (every op output agrees, h_t does not): the one reveal that reads the step context. */
function revealEndsAtLeafN(rules: Rules, pos: Position, move: Extract<Move, { kind: 'reveal' }>): boolean {
  if (pos.level !== 'step' || move.by !== 'challenger') return false;
  const part = frontier(pos.n)[move.nodes.findIndex((h, j) => h !== pos.pending[j])];
  return part !== undefined && part.size === 1 && pos.lo + part.offset === stepLeafCount(rules.structure(pos.t)) - 1;
}

/**
 * The last three arguments of reveal / claim: for the challenger, the first index where its list differs from the
 * solver's (pos.pending; the list's length when none does), the solver's hash there and the chain of the solver's
 * hashes after it; zeros for the solver.
 */
function solverHalf(pos: Position, by: Move['by'], mine: readonly string[]): [bigint, Hex, Hex] {
  if (by === 'solver') return [0n, ZERO_WORD, ZERO_WORD];
  const first = mine.findIndex((h, j) => h !== pos.pending[j]);
  if (first < 0) return [BigInt(mine.length), ZERO_WORD, ZERO_WORD];
  return [BigInt(first), hex(pos.pending[first]), solverChain(pos.pending.slice(first + 1))];
}

/**
 * The DisputeGame call for TS move `move` played at position `pos` (the position before it). The challenger's
 * `reveal` and `claim` prove where they part from the solver's half (pos.pending), of which the contract keeps only a
 * hash chain, and likewise its `open-chunk` for the solver's chunk (pos.pendingWords, chained in 32-byte groups); its
 * `commit-step` sends no step fact and no h_{t-1} but the step context the solver's stored (stepContextOf; so do `prove`,
 * `prove-state` and the reveal that ends the step descent at leaf N); `commit-element` sends the op's element program's halt instruction at the final
 * pc with its opening of the op rule; `prove` sends OneStepReferee's pre-state, instruction, load and op-rule opening
 * (encodeOneStep).
 */
export function encodeDisputeMove(rules: Rules, facts: JobFacts, disputeId: bigint, pos: Position, move: Move): DisputeCall {
  const id = disputeId;
  switch (move.kind) {
    case 'commit-step': {
      const run = { prev: move.prev ? hex(move.prev.hash) : ZERO_WORD, prevProof: move.prev ? move.prev.proof.map(hex) : [], h: hex(move.h) };
      const [fact, context] = move.by === 'solver' ? [facts.step(pos.t), '0x' as Hex] : [NO_STEP_FACT, stepContextOf(rules, pos)];
      return { functionName: 'commitStep', args: [id, hex(move.root), move.proof.map(hex), fact, run, context] };
    }
    case 'reveal':
      return { functionName: 'reveal', args: [id, move.nodes.map(hex), ...solverHalf(pos, move.by, move.nodes), revealEndsAtLeafN(rules, pos, move) ? stepContextOf(rules, pos) : '0x'] };
    case 'commit-op':
      return { functionName: 'commitOp', args: [id, hex(move.chunkRoot), facts.op(pos.t, pos.op)] };
    case 'open-chunk':
      return { functionName: 'openChunk', args: [id, wordsLeHex(move.words), ...solverChunkHalf(pos, move)] };
    case 'commit-element': {
      const rule = opRuleOf(rules.structure(pos.t), pos.op);
      const ins = rule.program[move.final.pc];
      // A pc outside the program cannot be opened: send what the contract will reject rather than throw here.
      const [halt, opening] = ins ? [encodeInstructionHex(ins), refereeOpening(ruleOpening(rule, move.final.pc))] : ['0x0000000000000000', EMPTY_OPENING];
      return { functionName: 'commitElement', args: [id, encodeStateHex({ ...move.final, registers: Int32Array.from(move.final.registers) }), halt, opening] };
    }
    case 'claim':
      return { functionName: 'claim', args: [id, move.hashes.map(hex), ...solverHalf(pos, move.by, move.hashes)] };
    case 'prove': {
      const [pre, instruction, , load, , opening] = encodeOneStep(rules, pos, move);
      return { functionName: 'prove', args: [id, pre, instruction, load, opening, stepContextTuple(rules, pos)] };
    }
    case 'prove-state':
      return { functionName: 'proveState', args: [id, BigInt(move.optStep), hex(move.commitment), move.proof.map(hex), pos.lo === 0 ? NO_STATE_FACT : facts.state(pos.t, pos.lo), stepContextTuple(rules, pos)] };
    case 'timeout':
      return { functionName: 'timeout', args: [id] };
  }
}
