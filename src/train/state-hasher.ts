/**
 * Hashes training states, in line where hashing is cheap and otherwise on a worker thread while the next step
 * runs. Every tensor is cut into 256-byte chunks (tensor-commitment.ts): a leaf and a node hash per 256 bytes.
 * With the native addon's batched SHA-256 (sha256-batch.ts, SHA-NI where the CPU has it) a state's hash is a few
 * percent of a step (`npm run bench -- train`, hash_fraction), so it is computed in line and needs no spare core.
 * Without it (Node where the addon was not built), the worker computes the chunk roots with node:crypto, one call
 * per hash, overlapped with the next step: states are never mutated, so state t can be hashed while step t+1
 * trains. The tensor commitments and the state tree (a few hundred hashes) are built here with the same functions
 * as stateDigest, and a test checks that both give the same hash.
 */
import { toHex } from '../platform/sha256.js';
import { startThread, type Thread } from '../platform/threads.js';
import { leBytes, sha256Batch } from '../tensor/index.js';
import { merkleRoot, type Hash } from './merkle.js';
import { headerLeaf, namedLeaf, stateHash, stateTensors, type TrainState } from './state.js';
import { CHUNK_ELEMENTS, commitmentFromChunkRoot } from './tensor-commitment.js';

export interface StateHasher {
  /**
   * Starts hashing `state` before returning (so the work overlaps whatever the caller does next) and
   * resolves to its hash. One state at a time: await the previous hash before starting the next.
   */
  hash(state: TrainState): Promise<string>;
  close(): void;
}

/** Control words: job sequence, last job done, tensor count, then (byte offset, byte length) per tensor. */
const SEQ = 0;
const DONE = 1;
const COUNT = 2;
const SPANS = 3;

/**
 * The worker (a source string: it runs without imports). RFC 6962 over each tensor's 256-byte chunks,
 * exactly as merkle.ts merkleRoot(chunkLeaves(data)): leaf = SHA-256(0x00 || chunk), node =
 * SHA-256(0x01 || left || right), pairs bottom-up with an odd last node carried up, SHA-256("") for none.
 */
const WORKER_BODY = `({ control, input, roots, chunkBytes }) => {
  const { hash } = require('node:crypto');
  const bytes = new Uint8Array(input);
  const out = new Uint8Array(roots);
  const leaf = Buffer.alloc(chunkBytes + 1);
  const node = Buffer.alloc(65);
  node[0] = 1;
  let seen = 0;
  for (;;) {
    Atomics.wait(control, ${SEQ}, seen);
    const seq = Atomics.load(control, ${SEQ});
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    for (let t = 0; t < control[${COUNT}]; t++) {
      const from = control[${SPANS} + 2 * t];
      const length = control[${SPANS} + 2 * t + 1];
      let level = [];
      for (let at = 0; at < length; at += chunkBytes) {
        const size = Math.min(chunkBytes, length - at);
        leaf.set(bytes.subarray(from + at, from + at + size), 1);
        level.push(hash('sha256', leaf.subarray(0, size + 1), 'buffer'));
      }
      if (level.length === 0) level = [hash('sha256', Buffer.alloc(0), 'buffer')];
      while (level.length > 1) {
        const next = [];
        for (let i = 0; i + 1 < level.length; i += 2) {
          level[i].copy(node, 1);
          level[i + 1].copy(node, 33);
          next.push(hash('sha256', node, 'buffer'));
        }
        if (level.length % 2 === 1) next.push(level[level.length - 1]);
        level = next;
      }
      out.set(level[0], 32 * t);
    }
    Atomics.store(control, ${DONE}, seq);
    Atomics.notify(control, ${DONE});
  }
}`;

/**
 * Polled, not Atomics.waitAsync: a pending waitAsync does not keep Node's event loop alive, and the
 * worker is unref'ed, so a process could exit in the middle of a hash. A hash takes tens of ms; 1 ms
 * polling costs nothing next to it.
 */
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

type Layout = { names: string[]; tensors: TrainState['params'][string][]; bytes: number };

function layoutOf(state: TrainState): Layout {
  const named = stateTensors(state);
  const tensors = named.map(([, t]) => t);
  return { names: named.map(([name]) => name), tensors, bytes: tensors.reduce((n, t) => n + 4 * t.size, 0) };
}

/**
 * In line where the native batched SHA-256 runs (or where there are no worker_threads and node:crypto: browsers,
 * which hash with WebAssembly SIMD); else on a worker thread. `inline` forces either way (tests, benchmarks).
 */
export function createStateHasher(options: { inline?: boolean } = {}): StateHasher {
  const inNode = Boolean((globalThis as { process?: { getBuiltinModule?: unknown } }).process?.getBuiltinModule);
  const inline = options.inline ?? sha256Batch().name.startsWith('native-');
  if (inline || !inNode || typeof SharedArrayBuffer === 'undefined') {
    let busy = false;
    return {
      async hash(state) {
        if (busy) throw new Error('StateHasher: the previous hash is still running; await it first.');
        busy = true;
        try {
          await Promise.resolve(); // as the worker's: the hash is not ready before the caller's next await
          return stateHash(state);
        } finally {
          busy = false;
        }
      },
      close: () => {},
    };
  }
  let worker: { thread: Thread; control: Int32Array; input: Uint8Array; roots: Uint8Array; tensors: number; bytes: number } | undefined;
  let sequence = 0;
  let busy = false;

  const stop = () => {
    if (!worker) return;
    Atomics.store(worker.control, SEQ, -1);
    Atomics.notify(worker.control, SEQ);
    worker.thread.terminate();
    worker = undefined;
  };

  // A job's states all have the same layout, so the shared buffers are made once (again only if it grows).
  const ensure = (layout: Layout) => {
    if (worker && worker.tensors >= layout.tensors.length && worker.bytes >= layout.bytes) return worker;
    stop();
    const control = new Int32Array(new SharedArrayBuffer(4 * (SPANS + 2 * layout.tensors.length)));
    const input = new Uint8Array(new SharedArrayBuffer(Math.max(4, layout.bytes)));
    const roots = new Uint8Array(new SharedArrayBuffer(32 * Math.max(1, layout.tensors.length)));
    const thread = startThread(WORKER_BODY, { control, input: input.buffer, roots: roots.buffer, chunkBytes: 4 * CHUNK_ELEMENTS });
    sequence = 0;
    worker = { thread, control, input, roots, tensors: layout.tensors.length, bytes: layout.bytes };
    return worker;
  };

  /** Copies the state into the shared buffer and wakes the worker, synchronously. */
  const start = (state: TrainState) => {
    const layout = layoutOf(state);
    const w = ensure(layout);
    let at = 0;
    layout.tensors.forEach((t, i) => {
      w.input.set(leBytes(t.data), at);
      w.control[SPANS + 2 * i] = at;
      w.control[SPANS + 2 * i + 1] = 4 * t.size;
      at += 4 * t.size;
    });
    w.control[COUNT] = layout.tensors.length;
    const seq = ++sequence;
    Atomics.store(w.control, SEQ, seq);
    Atomics.notify(w.control, SEQ);
    return { layout, w, seq };
  };

  const finish = async (state: TrainState, { layout, w, seq }: ReturnType<typeof start>): Promise<string> => {
    while (Atomics.load(w.control, DONE) !== seq) await tick();
    const leaves: Hash[] = [headerLeaf(state.step, state.opt.step)];
    layout.tensors.forEach((t, i) => {
      const root = w.roots.slice(32 * i, 32 * i + 32);
      leaves.push(namedLeaf(layout.names[i], commitmentFromChunkRoot(t.dtype, t.shape, root)));
    });
    return toHex(merkleRoot(leaves));
  };

  return {
    async hash(state) {
      if (busy) throw new Error('StateHasher: the previous hash is still running; await it first.');
      busy = true;
      try {
        return await finish(state, start(state));
      } finally {
        busy = false;
      }
    },
    close: stop,
  };
}
