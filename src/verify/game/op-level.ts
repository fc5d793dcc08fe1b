/**
 * Op level: op i's output commitments differ. Each party reveals its chunk root (the commitment is
 * SHA-256 of the output's dtype and shape, known from the step program, and that root); the game
 * descends the chunk trees (descend.ts), then both open the chunk and the first differing word is
 * the element.
 */
import { toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import { leafHash } from '../../train/merkle.js';
import { expectHex, expectWords } from './check.js';
import { CHUNK_ELEMENTS, chunkLeaf, commitmentFromChunkRoot } from './commitments.js';
import { atLeaf, chunksOf } from './descend.js';
import { InvalidProofError, MalformedMoveError } from './errors.js';
import type { Move, Position, Rules } from './types.js';

export function commitOp(rules: Rules, pos: Position, move: Extract<Move, { kind: 'commit-op' }>): Position {
  const chunkRoot = expectHex('commit-op', 'chunkRoot', move.chunkRoot);
  const { dtype, shape } = rules.structure(pos.t).ops[pos.op].output;
  const leaf = toHex(leafHash(commitmentFromChunkRoot(dtype, shape, fromHex(chunkRoot))));
  if (leaf !== (move.by === 'solver' ? pos.nodeSolver : pos.nodeChallenger)) throw new InvalidProofError(`the chunk root does not give the ${move.by}'s commitment of op ${pos.op}'s output`);
  if (move.by === 'solver') return { ...pos, pending: [chunkRoot], turn: 'challenger' };
  const next: Position = { ...pos, phase: 'bisect', turn: 'solver', lo: 0, n: chunksOf(rules, pos), nodeSolver: pos.pending[0], nodeChallenger: chunkRoot, pending: [] };
  return next.n === 1 ? atLeaf(rules, next) : next;
}

export function openChunk(rules: Rules, pos: Position, move: Extract<Move, { kind: 'open-chunk' }>): Position {
  const size = rules.structure(pos.t).ops[pos.op].output.shape.reduce((a, b) => a * b, 1);
  const length = Math.min(CHUNK_ELEMENTS, size - pos.lo * CHUNK_ELEMENTS);
  const words = expectWords('open-chunk', 'words', move.words, length);
  const node = move.by === 'solver' ? pos.nodeSolver : pos.nodeChallenger;
  if (toHex(chunkLeaf(Int32Array.from(words))) !== node) throw new InvalidProofError(`the words are not the ${move.by}'s chunk ${pos.lo}`);
  if (move.by === 'solver') return { ...pos, pendingWords: words, turn: 'challenger' };
  const j = words.findIndex((w, i) => w !== pos.pendingWords[i]);
  if (j < 0) throw new MalformedMoveError('open-chunk', 'both chunks are equal'); // cannot happen: their leaves differ
  return {
    ...pos, level: 'element', phase: 'commit', turn: 'solver', element: pos.lo * CHUNK_ELEMENTS + j,
    valueSolver: pos.pendingWords[j], valueChallenger: words[j], pendingWords: [], lo: 0, n: 0,
  };
}
