import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

type NodeCrypto = typeof import('node:crypto');

// Node's hash is native (SHA-NI where the CPU has it, several times faster than JavaScript); browsers
// have no synchronous native SHA-256 (WebCrypto's digest is async), so they use @noble/hashes. Both
// compute the same standard function. getBuiltinModule is a run-time lookup, so bundles for the
// browser carry no node: import.
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:crypto',
) as NodeCrypto | undefined;

/** An incremental SHA-256: update with byte chunks, then digest once. */
export interface Sha256 {
  update(bytes: Uint8Array): Sha256;
  digest(): Uint8Array;
}

export function createSha256(): Sha256 {
  if (nodeCrypto) {
    const hash = nodeCrypto.createHash('sha256');
    const self: Sha256 = {
      update: (bytes) => (hash.update(bytes), self),
      digest: () => new Uint8Array(hash.digest()),
    };
    return self;
  }
  const hash = nobleSha256.create();
  const self: Sha256 = {
    update: (bytes) => (hash.update(bytes), self),
    digest: () => hash.digest(),
  };
  return self;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createSha256().update(bytes).digest();
}

let scratch = new Uint8Array(0);

/**
 * SHA-256(prefix byte || bytes): one leaf or node hash of a Merkle tree. Tensor commitments hash their chunks
 * in batches instead (tensor/kernels/sha256-batch.ts), whose last resort calls this once per hash. Node's one-shot
 * hash over a reused buffer costs about a third less per call than a hash object with two updates.
 */
export function sha256Prefixed(prefix: number, bytes: Uint8Array): Uint8Array {
  if (!nodeCrypto?.hash) return createSha256().update(new Uint8Array([prefix])).update(bytes).digest();
  if (scratch.length < bytes.length + 1) scratch = new Uint8Array(Math.max(bytes.length + 1, 2 * scratch.length));
  scratch[0] = prefix;
  scratch.set(bytes, 1);
  return new Uint8Array(nodeCrypto.hash('sha256', scratch.subarray(0, bytes.length + 1), 'buffer') as Uint8Array);
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
