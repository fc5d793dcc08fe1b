// A committed state can be opened one element at a time: chunk -> tensor commitment -> state leaf -> root.
import { describe, expect, it } from 'vitest';
import { createSha256 } from '../../src/platform/sha256.js';
import { DTYPE_CODE, leBytes } from '../../src/tensor/index.js';
import { CHUNK_ELEMENTS, buildProgram, chunkLeaves, leafHash, merkleProof, merkleRoot, rootFromProof, stateDigest, stateLeaves, tensorLeaf } from '../../src/train/index.js';
import { microSpec } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('state commitments', () => {
  it('prove one element of one tensor against the state hash', () => {
    const program = buildProgram(microSpec());
    const state = program.step(program.init()).state;
    const names = [...Object.keys(state.params).map((n) => `params.${n}`), ...Object.keys(state.opt.tensors).map((n) => `opt.${n}`)];
    const tensorIndex = names.indexOf('opt.m.tok.weight');
    const t = state.opt.tensors['m.tok.weight'];
    const element = 777;
    const chunk = Math.floor(element / CHUNK_ELEMENTS);

    // What a prover sends: the chunk's bytes, its path in the tensor, the tensor's path in the state.
    const chunkBytes = leBytes(t.data as Float32Array).slice(chunk * CHUNK_ELEMENTS * 4, (chunk + 1) * CHUNK_ELEMENTS * 4);
    const leaves = chunkLeaves(t.data);
    const chunkPath = merkleProof(leaves, chunk);
    const stateTree = stateLeaves(state);
    const statePath = merkleProof(stateTree, tensorIndex + 1);

    // What a verifier recomputes from them.
    const value = new DataView(chunkBytes.buffer).getFloat32((element % CHUNK_ELEMENTS) * 4, true);
    expect(value).toBe(t.data[element]);
    const tensorRoot = rootFromProof(leafHash(chunkBytes), chunk, leaves.length, chunkPath)!;
    const commitment = createSha256().update(leBytes(new Uint32Array([DTYPE_CODE.float32, 2, ...t.shape]))).update(tensorRoot).digest();
    const leaf = leafHash(new Uint8Array([...new Uint8Array(new BigUint64Array([BigInt(16)]).buffer), ...new TextEncoder().encode('opt.m.tok.weight'), ...commitment]));
    expect(hex(leaf)).toBe(hex(tensorLeaf('opt.m.tok.weight', t.dtype, t.shape, t.data)));
    expect(hex(rootFromProof(leaf, tensorIndex + 1, stateTree.length, statePath)!)).toBe(hex(stateDigest(state)));
    expect(hex(merkleRoot(stateTree))).toBe(hex(stateDigest(state)));
  });
});
