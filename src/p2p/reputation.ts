/**
 * Our own per-peer score for misbehaviour gossipsub cannot see (bad blob chunks, malformed stream
 * requests, rate-limit abuse). Below BAN_SCORE a peer is disconnected and refused by the connection gater.
 * Gossip misbehaviour is scored by gossipsub itself (a rejected message lowers the sender's P4 score).
 */
import { BAN_SCORE } from './constants.js';

export type PenaltyListener = (peer: string, score: number, reason: string) => void;

export class Reputation {
  private readonly scores = new Map<string, number>();
  private readonly listeners: PenaltyListener[] = [];

  score(peer: string): number {
    return this.scores.get(peer) ?? 0;
  }

  isBanned(peer: string): boolean {
    return this.score(peer) <= BAN_SCORE;
  }

  penalise(peer: string, amount: number, reason: string): void {
    const score = this.score(peer) + amount;
    this.scores.set(peer, score);
    for (const listener of this.listeners) listener(peer, score, reason);
  }

  onPenalty(listener: PenaltyListener): void {
    this.listeners.push(listener);
  }
}
