/**
 * Our own per-peer score for misbehaviour gossipsub cannot see (bad blob chunks, malformed stream
 * requests, rate-limit abuse). Below BAN_SCORE a peer is disconnected and refused by the connection gater.
 * Gossip misbehaviour is scored by gossipsub itself (a rejected message lowers the sender's P4 score).
 *
 * Penalties decay: a score halves every REPUTATION_HALF_LIFE_MS, so a ban is temporary (a peer banned at
 * -150 is let back after about one half-life) and an honest peer's occasional timeout is forgotten, while a
 * peer that keeps misbehaving stays below the line. Decay is computed lazily when a score is read.
 */
import { BAN_SCORE, REPUTATION_FORGET_BELOW, REPUTATION_HALF_LIFE_MS } from './constants.js';

export type PenaltyListener = (peer: string, score: number, reason: string) => void;
export type ReputationOptions = { halfLifeMs?: number; now?: () => number };

export class Reputation {
  private readonly scores = new Map<string, { score: number; at: number }>();
  private readonly listeners: PenaltyListener[] = [];
  private readonly halfLifeMs: number;
  private readonly now: () => number;

  constructor({ halfLifeMs = REPUTATION_HALF_LIFE_MS, now = Date.now }: ReputationOptions = {}) {
    if (!(halfLifeMs > 0)) throw new RangeError('halfLifeMs must be positive');
    this.halfLifeMs = halfLifeMs;
    this.now = now;
  }

  score(peer: string): number {
    const entry = this.scores.get(peer);
    if (!entry) return 0;
    const now = this.now();
    const score = entry.score * 0.5 ** (Math.max(0, now - entry.at) / this.halfLifeMs);
    if (Math.abs(score) < REPUTATION_FORGET_BELOW) {
      this.scores.delete(peer); // bounded memory: peers that behaved for long enough are forgotten
      return 0;
    }
    return score;
  }

  isBanned(peer: string): boolean {
    return this.score(peer) <= BAN_SCORE;
  }

  penalise(peer: string, amount: number, reason: string): void {
    const score = this.score(peer) + amount;
    this.scores.set(peer, { score, at: this.now() });
    for (const listener of this.listeners) listener(peer, score, reason);
  }

  onPenalty(listener: PenaltyListener): void {
    this.listeners.push(listener);
  }
}
