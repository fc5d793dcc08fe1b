/**
 * The challenge window a job asks for, in blocks: long enough for a verifier to re-execute the job and challenge.
 * The submitter measures the job's cost on its own machine (the time to trace every step's program for the facts
 * tree, about a training step each) and allows a verifier SLOWER times that (another machine, a loaded one, the
 * hashing and checkpoints of a real run), plus a fixed time to fetch the spec, start and send the challenge. A window
 * measured under load is longer: it scales with the machine that measured it, where a fixed one (the first version's
 * 20 s) let a cheater be finalized before a loaded verifier finished (issue 10, item 7).
 */

/** How much slower than the submitter a verifier may be. */
export const SLOWER = 10;
/** Seconds a verifier needs besides re-execution: fetching the spec, starting, sending the challenge. */
export const FIXED_SECONDS = 20;

/** Blocks for a job that cost the submitter `seconds` to trace, at `blockSeconds` seconds a block, at least `min`. */
export function challengeWindowFor(seconds: number, o: { blockSeconds: number; min: bigint }): bigint {
  const blocks = BigInt(Math.ceil((SLOWER * seconds + FIXED_SECONDS) / o.blockSeconds));
  return blocks > o.min ? blocks : o.min;
}
