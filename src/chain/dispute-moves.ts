/**
 * Calldata for contracts/DisputeGame.sol from the TypeScript game (src/verify/game): the job's facts tree (the step
 * program facts the contract reads: per step its step-tree leaf count and batch commitment, per op its output dtype
 * and shape) and one contract call per TS move, given the position the move was played at.
 *
 * ```ts
 * const facts = jobFacts(rules)                          // the submitter posts facts.root with setRules
 * const call = encodeDisputeMove(rules, facts, disputeId, pos, move)
 * await send(wallet, { address: game, abi: DisputeGameAbi, ...call })
 * ```
 */
import { encodeAbiParameters, type Hex } from 'viem';
import { DTYPE_CODE } from '../tensor/index.js';
import { toHex } from '../platform/sha256.js';
import { fromHex, leafHash, merkleProof, merkleRoot, type Hash } from '../train/index.js';
import { stepLeafCount, type Move, type Position, type Rules } from '../verify/index.js';
import { programAt } from '../verify/game/element-level.js';
import { encodeInstructionHex, encodeOneStep, encodeStateHex, wordsLeHex } from './referee.js';

/** DisputeGame.Level / Phase / Turn / Move / At, in the contract's enum order (encoding.ts's order). */
export const GAME_LEVELS = ['run', 'step', 'op', 'element', 'done'] as const;
export const GAME_PHASES = ['commit', 'bisect', 'open', 'prove', 'over'] as const;
export const GAME_TURNS = ['solver', 'challenger', 'either', 'none'] as const;
export const GAME_MOVES = ['open-step', 'commit-step', 'reveal', 'commit-op', 'open-chunk', 'commit-element', 'claim', 'prove-state', 'prove', 'timeout'] as const;
export const GAME_AT = ['instruction', 'state', 'timeout'] as const;

const hex = (h: string): Hex => (h.startsWith('0x') ? (h as Hex) : (`0x${h}` as Hex));
const bytesHex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

export type StepFactArg = { leafCount: bigint; batchCommitment: Hex; index: bigint; path: Hex[] };
export type OpFactArg = { dtype: number; shape: number[]; index: bigint; path: Hex[] };

/** The facts tree of a job: what DisputeGame.setRules takes (h0, root, size) and the openings each move sends. */
export type JobFacts = {
  h0: Hex;
  root: Hex;
  size: bigint;
  step(t: number): StepFactArg;
  op(t: number, op: number): OpFactArg;
};

/** Leaf data of a step fact: abi.encode(uint8 1, uint64 t, uint64 leafCount, bytes32 batchCommitment). */
export const stepFactData = (t: number, leafCount: number, batch: Hex): Hex =>
  encodeAbiParameters([{ type: 'uint8' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes32' }], [1, BigInt(t), BigInt(leafCount), batch]);

/** Leaf data of an op fact: abi.encode(uint8 2, uint64 t, uint32 op, uint32 dtype, uint32[] shape). */
export const opFactData = (t: number, op: number, dtype: number, shape: readonly number[]): Hex =>
  encodeAbiParameters([{ type: 'uint8' }, { type: 'uint64' }, { type: 'uint32' }, { type: 'uint32' }, { type: 'uint32[]' }], [2, BigInt(t), op, dtype, [...shape]]);

/** Builds the facts tree of steps 1..rules.steps from the step program (what anyone derives from the spec). */
export function jobFacts(rules: Rules): JobFacts {
  const leaves: Hash[] = [];
  const stepAt = new Map<number, number>();
  const opAt = new Map<string, number>();
  for (let t = 1; t <= rules.steps; t++) {
    const s = rules.structure(t);
    stepAt.set(t, leaves.length);
    leaves.push(leafHash(fromHex(stepFactData(t, stepLeafCount(s), bytesHex(rules.batchCommitment(t))).slice(2))));
    s.ops.forEach((o, i) => {
      opAt.set(`${t}/${i}`, leaves.length);
      leaves.push(leafHash(fromHex(opFactData(t, i, DTYPE_CODE[o.output.dtype], o.output.shape).slice(2))));
    });
  }
  const path = (index: number) => merkleProof(leaves, index).map(bytesHex);
  return {
    h0: hex(rules.h0),
    root: bytesHex(merkleRoot(leaves)),
    size: BigInt(leaves.length),
    step(t) {
      const index = stepAt.get(t)!;
      return { leafCount: BigInt(stepLeafCount(rules.structure(t))), batchCommitment: bytesHex(rules.batchCommitment(t)), index: BigInt(index), path: path(index) };
    },
    op(t, op) {
      const index = opAt.get(`${t}/${op}`)!;
      const o = rules.structure(t).ops[op].output;
      return { dtype: DTYPE_CODE[o.dtype], shape: [...o.shape], index: BigInt(index), path: path(index) };
    },
  };
}

export type DisputeCall = { functionName: string; args: readonly unknown[] };

/**
 * The DisputeGame call for TS move `move` played at position `pos` (the position before it). `open-chunk` by the
 * challenger re-sends the solver's chunk (pos.pendingWords); `commit-element` sends the element program's halt
 * instruction at the final pc; `prove` sends OneStepReferee's pre-state, instruction and load (encodeOneStep).
 */
export function encodeDisputeMove(rules: Rules, facts: JobFacts, disputeId: bigint, pos: Position, move: Move): DisputeCall {
  const id = disputeId;
  switch (move.kind) {
    case 'open-step': {
      const side = (s: typeof move.solver) => ({ prev: hex(s.prev.hash), prevProof: s.prev.proof.map(hex), cur: hex(s.cur.hash), curProof: s.cur.proof.map(hex) });
      return { functionName: 'openStep', args: [id, BigInt(move.t), side(move.solver), side(move.challenger)] };
    }
    case 'commit-step':
      return { functionName: 'commitStep', args: [id, hex(move.root), move.proof.map(hex), facts.step(pos.t)] };
    case 'reveal':
      return { functionName: 'reveal', args: [id, hex(move.left), hex(move.right)] };
    case 'commit-op':
      return { functionName: 'commitOp', args: [id, hex(move.chunkRoot), facts.op(pos.t, pos.op)] };
    case 'open-chunk':
      return { functionName: 'openChunk', args: [id, wordsLeHex(move.words), move.by === 'challenger' ? wordsLeHex(pos.pendingWords) : '0x'] };
    case 'commit-element': {
      const program = programAt(rules, pos.t, pos.op, pos.element);
      const ins = program[move.final.pc];
      const halt = ins ? encodeInstructionHex(ins) : '0x0000000000000000';
      return { functionName: 'commitElement', args: [id, encodeStateHex({ ...move.final, registers: Int32Array.from(move.final.registers) }), halt] };
    }
    case 'claim':
      return { functionName: 'claim', args: [id, hex(move.hash)] };
    case 'prove': {
      const [pre, instruction, , load] = encodeOneStep(rules, pos, move);
      return { functionName: 'prove', args: [id, pre, instruction, load] };
    }
    case 'prove-state':
      return { functionName: 'proveState', args: [id] };
    case 'timeout':
      return { functionName: 'timeout', args: [id] };
  }
}
