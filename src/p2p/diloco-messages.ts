/**
 * The DiLoCo / NoLoCo gossip topic of one run: small signed announcements; the tensors themselves travel as
 * content-addressed blobs (the blob protocol). Every message is versioned (the codec's version byte and the
 * topic name), size-limited and schema-checked before anyone uses it.
 */
import { z } from 'zod';

/** One topic per run; `run` is the hex id of the run (its job id, mode and H hashed together). */
export const dilocoTopic = (run: string) => `mycel/diloco/1/${run}`;

/** A run has at most this many worker slots (the shard stride). */
export const MAX_DILOCO_WORKERS = 1024;
/** Announcements are small: a close lists at most MAX_DILOCO_WORKERS workers. */
export const MAX_DILOCO_MESSAGE_BYTES = 256 * 1024;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const cid = z.string().min(1).max(128);
const round = z.number().int().min(0).max(2 ** 31);
const worker = z.number().int().min(0).max(MAX_DILOCO_WORKERS - 1);

export const DILOCO_SCHEMAS = {
  /** A worker asks to take part from the next round boundary (a new worker, or one back from a crash). */
  join: z.strictObject({ run: hex64, worker, round }),
  /** A worker has merged the last round: the others may stop serving it their blobs. */
  done: z.strictObject({ run: hex64, worker, round }),
  /**
   * A worker's pseudo-gradient for a round: the blob's CID and byte size, the delta's digest (deltaDigest),
   * and `inner`, the run commitment of its inner-step job (train/diloco-jobs.ts), the claim the dispute game
   * referees. Its inner steps start from the round's outer state and a fresh AdamW state, so a spot-checker
   * re-executes them from the state it holds.
   */
  delta: z.strictObject({ run: hex64, round, worker, cid, bytes: z.number().int().positive(), digest: hex64, inner: hex64.optional() }),
  /**
   * The round's close, by its closer (the lowest worker on the roster): the accepted deltas, the refusals with
   * their reasons, the closer's new outer state (CID and state hash), the round's commitment and the next roster.
   */
  close: z.strictObject({
    run: hex64,
    round,
    accepted: z.array(z.strictObject({ worker, digest: hex64, cid })).max(MAX_DILOCO_WORKERS),
    refused: z.array(z.strictObject({ worker: z.number().int(), reason: z.string().max(500) })).max(4 * MAX_DILOCO_WORKERS),
    state: z.strictObject({ cid, hash: hex64 }),
    commitment: hex64,
    roster: z.array(worker).max(MAX_DILOCO_WORKERS),
    /** The closer's merge as a job (train/diloco-jobs.ts mergeJob): its job id and run commitment, the claim the game referees. */
    merge: z.strictObject({ job: hex64, run: hex64 }).optional(),
    /** The CID of the run's commitment chain up to this round (a JSON blob, DILOCO_HISTORY_SCHEMA): what a joiner checks. */
    history: cid.optional(),
  }),
};

/** A history blob is at most this large (a link per round, a few hundred bytes each). */
export const MAX_DILOCO_HISTORY_BYTES = 16 * 1024 * 1024;

/** The run's commitment chain as a joiner fetches it: one link per round from round 0, what each commitment commits. */
export const DILOCO_HISTORY_SCHEMA = z.array(z.strictObject({
  round,
  deltas: z.array(z.strictObject({ worker, digest: hex64 })).max(MAX_DILOCO_WORKERS),
  states: z.array(z.strictObject({ worker: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), hash: hex64 })).max(MAX_DILOCO_WORKERS),
  commitment: hex64,
}));

export type DilocoSchemas = typeof DILOCO_SCHEMAS;
