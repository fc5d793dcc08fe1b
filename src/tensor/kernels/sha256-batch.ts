/**
 * Batched SHA-256 for Merkle trees: every chunk of a buffer hashed as an RFC 6962 leaf, SHA-256(0x00 || chunk), or
 * every pair of a tree level as a node, SHA-256(0x01 || left || right), in one call. A tensor commitment hashes
 * its 256-byte chunks (tensor-commitment.ts); one hash call per chunk from JavaScript costs more in call overhead
 * than in compression, so state hashing goes through here. Implementations, fastest first (all compute the same
 * standard function, and test/tensor/sha256-batch.test.ts checks each against node:crypto):
 * - 'native-sha-ni' / 'native-portable': the native addon's native/sha256.c (Node, where it was built);
 * - 'wasm-simd': sha256.wat, four messages at once in i32x4 lanes (browsers, Node without the addon);
 * - 'js': one call per hash to node:crypto, or @noble/hashes where there is no node:crypto.
 */
import { loadNativeAddon } from '../../platform/native-addon.js';
import { sha256, sha256Prefixed } from '../../platform/sha256.js';
import { WASM_MODULES } from './wasm-modules.js';

export type Sha256Batch = {
  readonly name: string;
  /** 32 bytes per chunk of `chunkBytes` (the last may be shorter): SHA-256(0x00 || chunk). None for empty data. */
  leaves(data: Uint8Array, chunkBytes: number): Uint8Array;
  /** SHA-256(0x01 || pairs[64 i .. 64 i + 64]) into out[32 i ..] for i < count; out may be pairs (a level hashed in place). */
  nodes(pairs: Uint8Array, count: number, out: Uint8Array): void;
};

const js: Sha256Batch = {
  name: 'js',
  leaves(data, chunkBytes) {
    const out = new Uint8Array(32 * Math.ceil(data.length / chunkBytes));
    for (let at = 0, i = 0; at < data.length; at += chunkBytes, i++) out.set(sha256Prefixed(0, data.subarray(at, at + chunkBytes)), 32 * i);
    return out;
  },
  nodes(pairs, count, out) {
    for (let i = 0; i < count; i++) out.set(sha256Prefixed(1, pairs.subarray(64 * i, 64 * i + 64)), 32 * i);
  },
};

function nativeBatches(): Sha256Batch[] {
  const { addon } = loadNativeAddon();
  // An addon built before native/sha256.c existed has no sha256Impls: npm run build rebuilds it.
  const { sha256Impls, sha256Leaves, sha256Nodes } = addon ?? {};
  if (!sha256Impls || !sha256Leaves || !sha256Nodes) return [];
  return sha256Impls.map((impl, index) => ({
    name: `native-${impl}`,
    leaves(data, chunkBytes) {
      const out = new Uint8Array(32 * Math.ceil(data.length / chunkBytes));
      sha256Leaves(index, data, chunkBytes, out);
      return out;
    },
    nodes: (pairs, count, out) => sha256Nodes(index, pairs, count, out),
  }));
}

/** Where sha256-batch's data goes in sha256.wat's memory (4 pages): its comment gives the rest of the layout. */
const IN = 65536;
const OUT = 196608;
const IN_BYTES = OUT - IN;
const MAX_WASM_CHUNK = 8192;

type WasmSha = { memory: WebAssembly.Memory; leaves(i: number, len: number, chunk: number, out: number): void; nodes(pairs: number, count: number, out: number): void };

function wasmBatch(): Sha256Batch | undefined {
  if (typeof WebAssembly !== 'object') return undefined;
  const bytes = Uint8Array.from(atob(WASM_MODULES.sha256), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(bytes)) return undefined; // no fixed-width SIMD
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as WasmSha;
  const memory = new Uint8Array(wasm.memory.buffer);
  return {
    name: 'wasm-simd',
    leaves(data, chunkBytes) {
      if (chunkBytes > MAX_WASM_CHUNK) return js.leaves(data, chunkBytes);
      const out = new Uint8Array(32 * Math.ceil(data.length / chunkBytes));
      // Whole chunks per block, at most 512 of them (their digests fill the 16 KiB from OUT).
      const block = chunkBytes * Math.min(512, Math.floor(IN_BYTES / chunkBytes));
      for (let at = 0; at < data.length; at += block) {
        const part = data.subarray(at, at + block);
        memory.set(part, IN);
        wasm.leaves(IN, part.length, chunkBytes, OUT);
        const hashes = 32 * Math.ceil(part.length / chunkBytes);
        out.set(memory.subarray(OUT, OUT + hashes), (32 * at) / chunkBytes);
      }
      return out;
    },
    nodes(pairs, count, out) {
      const per = IN_BYTES / 64; // 2,048 pairs a block; their 64 KiB of digests end at the memory's end
      for (let i = 0; i < count; i += per) {
        const n = Math.min(per, count - i);
        memory.set(pairs.subarray(64 * i, 64 * (i + n)), IN);
        wasm.nodes(IN, n, OUT);
        out.set(memory.subarray(OUT, OUT + 32 * n), 32 * i);
      }
    },
  };
}

let all: Sha256Batch[] | undefined;

/** Every implementation that runs here, fastest first ('js' always last). */
export function sha256Batches(): readonly Sha256Batch[] {
  if (all) return all;
  const wasm = wasmBatch();
  all = [...nativeBatches(), ...(wasm ? [wasm] : []), js];
  return all;
}

/** The fastest implementation that runs here. */
export function sha256Batch(): Sha256Batch {
  return sha256Batches()[0];
}

/**
 * The RFC 6962 root over `count` leaf hashes packed in `level` (32 bytes each), bottom-up as merkle.ts merkleRoot:
 * pairs hashed a level at a time, an odd last node carried up. Overwrites `level`. SHA-256("") for no leaves.
 */
export function merkleRootOfLevel(level: Uint8Array, count: number, batch: Sha256Batch = sha256Batch()): Uint8Array {
  if (count === 0) return sha256(new Uint8Array(0));
  while (count > 1) {
    const pairs = count >> 1;
    batch.nodes(level, pairs, level);
    if (count & 1) level.copyWithin(32 * pairs, 32 * (count - 1), 32 * count);
    count = pairs + (count & 1);
  }
  return level.slice(0, 32);
}
