/**
 * The inverse of encodeDisputeMove (dispute-moves.ts): a DisputeGame transaction's calldata back to the TypeScript
 * game's Move, so that a party learns its opponent's moves from the chain (the source of truth) and replays the
 * position with `transition`.
 *
 * The calldata does not say who sent it: the decoder takes the party (`by`, the transaction's sender). A `prove`
 * move's chunk root is not sent either (the contract recomputes it from the chunk and its path); the decoder rebuilds
 * it the same way, from the loaded input's size, which it reads from the rules at the position the move was played. A
 * `proveState`'s state fact is the job's, not the mover's word, so the TS move does not carry it.
 *
 * ```ts
 * const tx = await getTransaction(client, { hash: log.transactionHash })
 * pos = transition(rules, pos, decodeDisputeMove(tx.input, { by: 'challenger', rules, pos }), clock)
 * ```
 */
import { decodeFunctionData, hexToBytes, type Hex } from 'viem';
import { MycelError } from '../platform/errors.js';
import { toHex } from '../platform/sha256.js';
// The module itself, not train/index.js (which brings the checkpoint store, node:fs): a browser tab's worker plays disputes with this file.
import { leafHash, rootFromProof } from '../train/merkle.js';
import { CHUNK_ELEMENTS, decodeProgram, STATE_BYTES, type Move, type Position, type Rules } from '../verify/index.js';
import { DisputeGameAbi } from './generated/DisputeGame.js';

/** Calldata that is not a DisputeGame move, or a move whose arguments do not decode. */
export class DisputeMoveDecodeError extends MycelError {
  override name = 'DisputeMoveDecodeError';
  constructor(problem: string, cause?: unknown) {
    super(`Cannot decode a DisputeGame move: ${problem}.`, {
      cause,
      metaMessages: [
        'The transaction must call the DisputeGame directly (not through a wallet contract or multicall).',
        'If the contract was upgraded, rebuild (npm run build) so that the ABI and this decoder match it.',
      ],
    });
  }
}

type Party = Move['by'];

export type DecodeDisputeMoveParameters = {
  /** The party that sent the move (the Moved event's `by`, mapped to its role). */
  by: Party;
  /** The game's rules and the position the move was played at (the one before it). */
  rules: Rules;
  pos: Position;
};

const strip = (h: Hex): string => h.slice(2).toLowerCase();
const hashes = (hs: readonly Hex[]): string[] => hs.map(strip);

/** Little-endian 32-bit words (wordsLeHex's inverse), as the game's signed words. */
function wordsOfLe(h: Hex): number[] {
  const bytes = hexToBytes(h);
  if (bytes.length % 4 !== 0) throw new DisputeMoveDecodeError(`a chunk of ${bytes.length} bytes is not whole 32-bit words`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, true));
}

/** encodeState's inverse: pc u32, steps u32, halted u8, then the registers as big-endian (signed) words. */
function machineStateOf(h: Hex): { pc: number; steps: number; halted: boolean; registers: number[] } {
  const bytes = hexToBytes(h);
  if (bytes.length !== STATE_BYTES) throw new DisputeMoveDecodeError(`a machine state of ${bytes.length} bytes, not ${STATE_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    pc: view.getUint32(0),
    steps: view.getUint32(4),
    halted: bytes[8] !== 0,
    registers: Array.from({ length: (STATE_BYTES - 9) / 4 }, (_, i) => view.getInt32(9 + 4 * i)),
  };
}

type Load = { chunk: Hex; chunkProof: readonly Hex[]; sourceProof: readonly Hex[] };

/** prove's memory opening: the load's chunk, proofs, and the chunk root its path leads to. */
function openingOf(pre: ReturnType<typeof machineStateOf>, instruction: Hex, load: Load, { rules, pos }: DecodeDisputeMoveParameters): Extract<Move, { kind: 'prove' }>['opening'] {
  const [ins] = decodeProgram(hexToBytes(instruction));
  if (ins?.op !== 'load' || pre.halted) return null;
  const size = rules.structure(pos.t).ops[pos.op].inputs[ins.b].shape.reduce((a, b) => a * b, 1);
  const address = (pre.registers[ins.a] + ins.imm) | 0;
  const chunkRoot = rootFromProof(leafHash(hexToBytes(load.chunk)), Math.floor(address / CHUNK_ELEMENTS), Math.max(1, Math.ceil(size / CHUNK_ELEMENTS)), load.chunkProof.map((p) => hexToBytes(p)));
  if (!chunkRoot) throw new DisputeMoveDecodeError(`the load's chunk path does not fit address ${address} of an input of ${size} elements`);
  return { chunkRoot: toHex(chunkRoot), chunk: wordsOfLe(load.chunk), chunkProof: hashes(load.chunkProof), sourceProof: hashes(load.sourceProof) };
}

/** The TS move a DisputeGame call (its calldata) made; throws DisputeMoveDecodeError for anything else. */
export function decodeDisputeMove(data: Hex, params: DecodeDisputeMoveParameters): Move {
  const { by } = params;
  let call;
  try {
    call = decodeFunctionData({ abi: DisputeGameAbi, data });
  } catch (error) {
    throw new DisputeMoveDecodeError('the calldata is not a DisputeGame call', error);
  }
  switch (call.functionName) {
    case 'commitStep': {
      const run = call.args[4];
      // The challenger's opening of h_{t-1} is ignored by the contract: it is not part of its move.
      return { kind: 'commit-step', by, root: strip(call.args[1]), proof: hashes(call.args[2]), h: strip(run.h), prev: by === 'solver' ? { hash: strip(run.prev), proof: hashes(run.prevProof) } : null };
    }
    case 'reveal':
      return { kind: 'reveal', by, nodes: hashes(call.args[1]) };
    case 'commitOp':
      return { kind: 'commit-op', by, chunkRoot: strip(call.args[1]) };
    case 'openChunk':
      return { kind: 'open-chunk', by, words: wordsOfLe(call.args[1]) };
    case 'commitElement':
      return { kind: 'commit-element', by, final: machineStateOf(call.args[1]) };
    case 'claim':
      return { kind: 'claim', by, hashes: hashes(call.args[1]) };
    case 'prove': {
      const [, preHex, instruction, load] = call.args;
      const pre = machineStateOf(preHex);
      return { kind: 'prove', by, pre, opening: openingOf(pre, instruction, load, params) };
    }
    case 'proveState': {
      const [, optStep, commitment, proof] = call.args;
      return { kind: 'prove-state', by, optStep: Number(optStep), commitment: strip(commitment), proof: hashes(proof) };
    }
    case 'timeout':
      return { kind: 'timeout', by };
    default:
      throw new DisputeMoveDecodeError(`${call.functionName} is not a move`);
  }
}
