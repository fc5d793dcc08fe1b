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

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
