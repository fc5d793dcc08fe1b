/**
 * Hashes training states on a worker thread while the next step runs. A state's hash costs ~5-10% of
 * a step (every tensor is cut into 256-byte chunks, each hashed alone: see tensor-commitment.ts); states
 * are never mutated, so the hash of step t can be computed while step t+1 trains, on a core the step
 * leaves idle. The worker computes only the chunk roots; the tensor commitments and the state tree
 * (a few hundred hashes) are built here with the same functions as stateDigest, and a test checks that
 * both give the same hash.
 */
import { toHex } from '../platform/sha256.js';
import { startThread, type Thread } from '../platform/threads.js';
import { leBytes } from '../tensor/index.js';
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

/** A hasher on a worker thread where Node's worker_threads and node:crypto exist; else hashing in place. */
export function createStateHasher(): StateHasher {
  const inNode = Boolean((globalThis as { process?: { getBuiltinModule?: unknown } }).process?.getBuiltinModule);
  if (!inNode || typeof SharedArrayBuffer === 'undefined') {
    return { hash: async (state) => stateHash(state), close: () => {} };
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
