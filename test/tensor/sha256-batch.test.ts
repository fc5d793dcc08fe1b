// Every batched SHA-256 that runs here (native SHA-NI and portable C, WebAssembly SIMD, one call per hash) against
// node:crypto, on random data of random and edge lengths (around the 55/56/64-byte padding bounds, chunks of one
// byte to several blocks, a short last chunk, blocks larger than the wasm module's copy buffer), and the Merkle root
// over a packed level against RFC 6962's recursive definition.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merkleRootOfLevel, sha256Batches } from '../../src/tensor/index.js';
import { chunkLeaves, chunkRoot, CHUNK_ELEMENTS } from '../../src/train/tensor-commitment.js';

const hash = (prefix: number, bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(Uint8Array.of(prefix)).update(bytes).digest());
/** The first 32-byte hash where two packed lists differ (or their lengths do), -1 where they agree: one comparison, not one expect per hash. */
function firstDifference(got: Uint8Array, want: Uint8Array): number {
  if (got.length !== want.length) return Math.min(got.length, want.length) / 32;
  for (let at = 0; at < got.length; at += 32) if (!Buffer.from(got.subarray(at, at + 32)).equals(want.subarray(at, at + 32))) return at / 32;
  return -1;
}
const packed = (hashes: Uint8Array[]) => Buffer.concat(hashes);
const bytesOf = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (Math.imul(i + 1, 2654435761) >>> (seed % 24)) & 0xff);

/** RFC 6962 2.1.1 as written: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two below n. */
function rfcRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(createHash('sha256').digest());
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  const pair = new Uint8Array(64);
  pair.set(rfcRoot(leaves.slice(0, k)), 0);
  pair.set(rfcRoot(leaves.slice(k)), 32);
  return hash(1, pair);
}

describe('batched SHA-256', () => {
  const batches = sha256Batches();

  it('runs natively, in WebAssembly SIMD and in JavaScript here, fastest first', () => {
    const names = batches.map((b) => b.name);
    expect(names).toContain('wasm-simd');
    expect(names.at(-1)).toBe('js');
    expect(names.some((n) => n.startsWith('native-'))).toBe(true);
    expect(names).toContain('native-portable');
  });

  for (const batch of batches) {
    it(`${batch.name}: leaves are node:crypto's SHA-256(0x00 || chunk) at edge and random lengths`, () => {
      const edges = [0, 1, 2, 54, 55, 56, 57, 62, 63, 64, 65, 118, 119, 120, 127, 128, 129, 255, 256, 257, 511, 512, 1000];
      const chunks = [1, 54, 55, 56, 63, 64, 119, 256, 1024];
      const check = (length: number, chunk: number, seed: number) => {
        const data = bytesOf(length, seed);
        const want = Array.from({ length: Math.ceil(length / chunk) }, (_, i) => hash(0, data.subarray(chunk * i, chunk * (i + 1))));
        expect(firstDifference(batch.leaves(data, chunk), packed(want)), `${length} bytes in chunks of ${chunk}`).toBe(-1);
      };
      for (const length of edges) for (const chunk of chunks) check(length, chunk, length + chunk);
      // past the wasm module's 128 KiB copy buffer, with a short last chunk
      check(300_001, 256, 7);
      fc.assert(fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 700 }), fc.nat(), check), { numRuns: 30 });
    });

    it(`${batch.name}: nodes are SHA-256(0x01 || left || right), also in place`, () => {
      for (const count of [0, 1, 3, 4, 5, 2047, 2048, 2049, 4100]) {
        const pairs = bytesOf(64 * count, count);
        const out = new Uint8Array(32 * count);
        batch.nodes(pairs, count, out);
        const want = packed(Array.from({ length: count }, (_, i) => hash(1, pairs.subarray(64 * i, 64 * i + 64))));
        expect(firstDifference(out, want), `${count} nodes`).toBe(-1);
        batch.nodes(pairs, count, pairs);
        expect(firstDifference(pairs.subarray(0, 32 * count), want), `${count} nodes in place`).toBe(-1);
      }
    });

    it(`${batch.name}: the root over a packed level is RFC 6962's`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
          const leaves = Array.from({ length: n }, (_, i) => hash(0, bytesOf(i % 7, i)));
          const level = new Uint8Array(32 * n);
          leaves.forEach((l, i) => level.set(l, 32 * i));
          expect(firstDifference(merkleRootOfLevel(level, n, batch), rfcRoot(leaves))).toBe(-1);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('without the native addon (MYCEL_NATIVE=0) hashing falls back to WebAssembly SIMD, with the same root', () => {
    const root = resolve(import.meta.dirname, '..', '..');
    const script = `
      const { sha256Batch } = await import('./src/tensor/index.ts');
      const { chunkRoot } = await import('./src/train/tensor-commitment.ts');
      const data = new Float32Array(1000).map((_, i) => Math.sin(i));
      console.log(JSON.stringify({ name: sha256Batch().name, root: Buffer.from(chunkRoot(data)).toString('hex') }));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, MYCEL_NATIVE: '0' }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout.trim().split('\n').pop()!) as { name: string; root: string };
    expect(got.name).toBe('wasm-simd');
    expect(got.root).toBe(Buffer.from(chunkRoot(new Float32Array(1000).map((_, i) => Math.sin(i)))).toString('hex'));
  });

  it("a tensor's chunk root is RFC 6962's root over its 256-byte chunks' leaves", () => {
    for (const size of [0, 1, 63, 64, 65, 1000, 64 * 1024 + 3]) {
      const data = new Float32Array(size).map((_, i) => Math.sin(i));
      const bytes = new Uint8Array(data.buffer);
      const leaves = Array.from({ length: Math.ceil(bytes.length / (4 * CHUNK_ELEMENTS)) }, (_, i) => hash(0, bytes.subarray(256 * i, 256 * (i + 1))));
      expect(firstDifference(packed(chunkLeaves(data)), packed(leaves))).toBe(-1);
      expect(firstDifference(chunkRoot(data), rfcRoot(leaves))).toBe(-1);
    }
  });
});
