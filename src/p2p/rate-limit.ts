/** Per-peer token buckets: a peer may burst, then is held to a sustained rate. */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `peer`; false when the peer is over its budget. */
  take(peer: string, now = Date.now()): boolean {
    let bucket = this.buckets.get(peer);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(peer, bucket);
      // Bounded memory: forget the oldest bucket (a full one, most likely) once there are many peers.
      if (this.buckets.size > 10_000) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  forget(peer: string): void {
    this.buckets.delete(peer);
  }
}
