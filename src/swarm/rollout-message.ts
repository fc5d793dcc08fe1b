/**
 * The rollout message: what a node publishes each round. Versioned, size-limited and schema-checked by
 * the p2p codec, and signed by the node's secp256k1 key over its canonical CBOR (so a rollout keeps
 * its author when it is forwarded or stored, whatever the transport). Nothing in it is trusted: the
 * receiver recomputes the seeds, question, answer and rewards (rollout-check.ts).
 */
import { encode as cborEncode } from 'cborg';
import { z } from 'zod';
import { peerIdFromString } from '@libp2p/peer-id';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createCodec } from '../p2p/codec.js';
import { concatBytes } from '../platform/bytes.js';

export const ROLLOUT_VERSION = 1;
/** The gossip topic of a swarm's rollouts. */
export const rolloutTopic = (swarmId: string) => `/mycel/sapo/${swarmId}/rollouts/1`;
/**
 * 64 KiB per message: a round's worth of rollouts of the default config is ~2 KiB (4 questions x 4
 * completions x 8 tokens); the cap is the schema's bounds below, times a margin.
 */
export const MAX_ROLLOUT_BYTES = 64 * 1024;
export const MAX_QUESTIONS = 32;
export const MAX_COMPLETIONS = 16;
export const MAX_TOKENS = 64;

const seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const completion = z.strictObject({
  /** The counter row of the question seed its uniforms come from (2 + its index k; rollout-seeds.ts). */
  seed,
  /** Token ids without the end token (a completion shorter than maxTokens ended with it). */
  tokens: z.array(z.number().int().min(0).max(65535)).max(MAX_TOKENS),
  /** The reward the sender claims (receivers recompute it). */
  reward: z.number().min(0).max(1),
});

const group = z.strictObject({
  index: z.number().int().min(0).max(MAX_QUESTIONS - 1),
  task: z.string().min(1).max(32),
  /** The question seed's first 48 bits (receivers recompute the seed from the beacon, the author's address and the index). */
  taskSeed: seed,
  /** The question and answer as the sender says the seed gives them (receivers regenerate both). */
  prompt: z.string().max(256),
  answer: z.string().max(256),
  completions: z.array(completion).min(1).max(MAX_COMPLETIONS),
});

const unsigned = {
  v: z.literal(ROLLOUT_VERSION),
  round: z.number().int().min(0).max(2 ** 40),
  node: z.string().min(1).max(128),
  /** The state hash of the policy that generated the completions. */
  policy: hex64,
  /** The CID of that policy's checkpoint blob (fetched over the blob protocol to re-execute). */
  cid: z.string().min(1).max(128),
  groups: z.array(group).max(MAX_QUESTIONS),
};

export const unsignedRolloutSchema = z.strictObject(unsigned);
export const rolloutSchema = z.strictObject({ ...unsigned, sig: z.instanceof(Uint8Array) });

export type UnsignedRollout = z.output<typeof unsignedRolloutSchema>;
export type Rollout = z.output<typeof rolloutSchema>;
export type RolloutGroup = Rollout['groups'][number];

export const ROLLOUT_SCHEMAS = { rollout: rolloutSchema };
export const rolloutCodec = createCodec(ROLLOUT_SCHEMAS, { maxBytes: MAX_ROLLOUT_BYTES });

const SIGN_DOMAIN = new TextEncoder().encode('mycel.sapo.rollout.v1');

/** The signed bytes: a domain tag, then the canonical CBOR (cborg sorts map keys) of the unsigned body. */
function signedBytes(body: UnsignedRollout): Uint8Array {
  return concatBytes([SIGN_DOMAIN, cborEncode(unsignedRolloutSchema.parse(body))]);
}

/** Signs with the node's raw secp256k1 key (RFC 6979: the same body and key give the same signature). */
export function signRollout(body: UnsignedRollout, privateKey: Uint8Array): Rollout {
  return { ...body, sig: secp256k1.sign(signedBytes(body), privateKey) };
}

/** Whether `sig` is the signature of `node`'s key (its PeerId carries the public key) over the body. */
export function rolloutSignatureValid(rollout: Rollout): boolean {
  try {
    const { sig, ...body } = rollout;
    const key = peerIdFromString(body.node).publicKey;
    if (!key || key.type !== 'secp256k1') return false;
    return secp256k1.verify(sig, signedBytes(body), key.raw);
  } catch {
    return false;
  }
}
