/**
 * Canonical bytes of positions and moves, big-endian, fixed field order: what a contract stores (its
 * hash) and what travels per move (the benchmark counts these bytes). Enumerations are one byte in
 * the order their tables below list them; never reorder.
 */
import { sha256, toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import type { Move, Position } from './types.js';

const LEVELS = ['run', 'step', 'op', 'state', 'element', 'done'] as const;
const PHASES = ['commit', 'bisect', 'open', 'prove', 'over'] as const;
const TURNS = ['solver', 'challenger', 'either', 'none'] as const;
const MOVES = ['commit-step', 'reveal', 'commit-op', 'open-chunk', 'commit-element', 'claim', 'prove-state', 'prove', 'timeout'] as const;
const LOSERS = ['solver', 'challenger', 'both'] as const;

class Writer {
  private parts: number[] = [];
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u32(v: number) { for (let s = 24; s >= 0; s -= 8) this.parts.push((v >>> s) & 0xff); return this; }
  u64(v: number) { return this.u32(Math.floor(v / 2 ** 32)).u32(v >>> 0); }
  i64(v: number) { return this.u64(v < 0 ? 2 ** 53 + v : v); }
  hash(h: string) { for (const b of fromHex(h)) this.parts.push(b); return this; }
  hashes(hs: readonly string[]) { this.u32(hs.length); for (const h of hs) this.hash(h); return this; }
  words(ws: readonly number[]) { this.u32(ws.length); for (const w of ws) this.u32(w >>> 0); return this; }
  bytes() { return Uint8Array.from(this.parts); }
}

export function encodePosition(p: Position): Uint8Array {
  const w = new Writer()
    .hash(p.jobId).u8(LEVELS.indexOf(p.level)).u8(PHASES.indexOf(p.phase)).u8(TURNS.indexOf(p.turn)).u64(p.deadline).u64(p.clockSolver).u64(p.clockChallenger).u32(p.round)
    .hash(p.solverRoot).hash(p.challengerRoot).u64(p.t).hash(p.hPrev).hash(p.hSolver).hash(p.hChallenger)
    .hash(p.stepRootSolver).hash(p.stepRootChallenger).u32(p.op).u64(p.element).u64(p.lo).u64(p.n)
    .hash(p.nodeSolver).hash(p.nodeChallenger).hash(p.agreed).hashes(p.pending).words(p.pendingWords)
    .u32(p.valueSolver).u32(p.valueChallenger);
  if (!p.ruling) return w.u8(0).bytes();
  const r = p.ruling;
  return w.u8(1).u8(LOSERS.indexOf(r.loser)).u8(['instruction', 'state', 'timeout', 'initial'].indexOf(r.at)).u64(r.t).i64(r.op).i64(r.element).i64(r.instruction).bytes();
}

/** SHA-256 of the canonical encoding: what a contract keeps per dispute. */
export const positionHash = (p: Position) => toHex(sha256(encodePosition(p)));

type State = { pc: number; steps: number; halted: boolean; registers: readonly number[] };
const state = (w: Writer, s: State) => w.u32(s.pc).u32(s.steps).u8(s.halted ? 1 : 0).words(s.registers);

export function encodeMove(m: Move): Uint8Array {
  const w = new Writer().u8(MOVES.indexOf(m.kind)).u8(m.by === 'solver' ? 0 : 1);
  switch (m.kind) {
    case 'commit-step':
      w.hash(m.root).hashes(m.proof).hash(m.h).u8(m.prev ? 1 : 0);
      if (m.prev) w.hash(m.prev.hash).hashes(m.prev.proof);
      break;
    case 'reveal': w.hashes(m.nodes); break;
    case 'commit-op': w.hash(m.chunkRoot); break;
    case 'open-chunk': w.words(m.words); break;
    case 'commit-element': state(w, m.final); break;
    case 'claim': w.hashes(m.hashes); break;
    case 'prove-state':
      w.u64(m.optStep).hash(m.commitment).hashes(m.proof);
      break;
    case 'prove':
      state(w, m.pre).u8(m.opening ? 1 : 0);
      if (m.opening) w.hash(m.opening.chunkRoot).words(m.opening.chunk).hashes(m.opening.chunkProof).hashes(m.opening.sourceProof);
      break;
    case 'timeout': break;
  }
  return w.bytes();
}
