import { canBlock, hasSharedMemory, startThread, type Thread } from '../../platform/threads.js';
import { enableRelaxedSimd } from '../../platform/wasm-features.js';
import { bitsOf, packA, packB } from './matmul-packing.js';
import type { MatmulKernel, MatmulProblem, MatOperand } from './matmul-problem.js';
import { referenceMatmul } from './reference-matmul.js';
import { WASM_MODULES } from './wasm-modules.js';

/** The tile of matmul.wat: MR output rows by NR output columns. */
const MR = 4;
const NR = 8;
/** k block: a B panel block (KC x NR, 16 KiB) and an A panel block (MR x KC, 8 KiB) stay in L1. */
const KC = 512;
/** B panels per group: a group (KC x NC_PANELS * NR floats, 256 KiB) stays in L2 while the A panels pass. */
const NC_PANELS = 16;
/**
 * Below this many multiply-adds (about half a millisecond of one thread's work) a problem stays on the
 * calling thread: waking a worker costs tens of microseconds, far more on a busy or virtual machine.
 */
const MIN_PARALLEL_MACS = 2 ** 24;
const PAGE_BYTES = 65536;

/**
 * The control Int32Array: per worker t (t >= 1) a slot with its job sequence number, the last one it
 * finished and a failure flag. Slot 0 holds the job: run's first 10 arguments, then the next free chunk
 * of panels, the panel count and the chunk size. Threads take chunks until none are left, so a thread
 * that the OS delays (other processes on the same cores) does not hold the others up.
 */
const SLOT = 16;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const ARGS = 3;
const NEXT = 13;
const PANELS = 14;
const CHUNK = 15;
/** Chunks per thread: small enough to even out a slow thread, large enough to keep B's L2 reuse. */
const CHUNKS_PER_THREAD = 4;
/**
 * How long an idle worker polls for its next job, and the caller for a worker's result, before sleeping.
 * Short, because a polling thread takes a core from whatever else runs on the machine.
 */
const SPIN_MS = 0.2;

/** Runs chunks of the job in slot 0 until none are left (the same source runs in the workers). */
const TAKE_CHUNKS = `(run, control) => {
  const panels = control[${PANELS}];
  const chunk = control[${CHUNK}];
  const a = control.subarray(${ARGS}, ${ARGS + 10});
  for (let p0 = Atomics.add(control, ${NEXT}, 1) * chunk; p0 < panels; p0 = Atomics.add(control, ${NEXT}, 1) * chunk) {
    run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], p0, Math.min(p0 + chunk, panels));
  }
}`;

/**
 * The worker's whole program (a string: it must run without imports): instantiate matmul.wasm on the
 * shared memory, then for each job sequence number take chunks and report back.
 */
const WORKER_BODY = `({ module, memory, control, index }) => {
  const { run } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const takeChunks = ${TAKE_CHUNKS};
  const base = index * ${SLOT};
  let seen = 0;
  for (;;) {
    // Spin a little before sleeping: waking a sleeping thread costs tens of microseconds, more in a VM,
    // and matmuls often come in quick succession.
    const spinUntil = performance.now() + ${SPIN_MS};
    while (Atomics.load(control, base + ${SEQ}) === seen && performance.now() < spinUntil);
    Atomics.wait(control, base + ${SEQ}, seen);
    const seq = Atomics.load(control, base + ${SEQ});
    if (seq === seen) continue;
    if (seq < 0) return;
    seen = seq;
    try {
      takeChunks(run, control);
    } catch {
      Atomics.store(control, base + ${FAILED}, 1);
    }
    Atomics.store(control, base + ${DONE}, seq);
    Atomics.notify(control, base + ${DONE});
  }
}`;

/** TAKE_CHUNKS for the calling thread (compiled with the rest of this file, no eval). */
function takeChunks(run: MatmulExports['run'], control: Int32Array): void {
  const panels = control[PANELS];
  const chunk = control[CHUNK];
  const a = control.subarray(ARGS, ARGS + 10);
  for (let p0 = Atomics.add(control, NEXT, 1) * chunk; p0 < panels; p0 = Atomics.add(control, NEXT, 1) * chunk) {
    run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], p0, Math.min(p0 + chunk, panels));
  }
}

type MatmulExports = {
  run(aPack: number, bPack: number, bBatchBytes: number, c: number, ldc: number, mPanels: number, nPanels: number,
    k: number, kc: number, ncPanels: number, p0: number, p1: number): void;
  pack_a(src: number, rowStrideBytes: number, m: number, k: number, dst: number): void;
  pack_b(src: number, rowStrideBytes: number, k: number, n: number, dst: number): void;
  canonicalize_nans(ptr: number, count: number): void;
};

/**
 * Elements to copy per batch to stage an operand whose columns are contiguous (then matmul.wasm packs it
 * from a plain copy, several times faster than packing element by element in JS), or 0 when they are not.
 */
function stagedSpan({ strides: [, row, col] }: MatOperand, rows: number, cols: number): number {
  return col === 1 && row >= 0 ? (rows - 1) * row + cols : 0;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * matmul.wasm compiled, or null where the engine lacks relaxed SIMD (even after enabling its flag). Where there is no
 * SharedArrayBuffer, its twin whose imported memory is not shared (the same code; build-wasm.mjs): one thread.
 */
function matmulModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Uint8Array.from(atob(hasSharedMemory() ? WASM_MODULES.matmul : WASM_MODULES['matmul-unshared']), (c) => c.charCodeAt(0));
    if (!WebAssembly.validate(bytes)) enableRelaxedSimd();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** The kernel's memory: shared (worker threads use it too) where the engine has SharedArrayBuffer. */
const kernelMemory = () => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: hasSharedMemory() });

/**
 * The probe: one tile through the kernel itself, where every output is fma(1 + 2^-12, 1 + 2^-12, -(1 + 2^-11))
 * after a first step that loads -(1 + 2^-11): 2^-24 when relaxed_madd is fused, 0 when it is mul-then-add.
 * Every lane of the tile is checked against the reference, so a partly fused engine fails too.
 */
function kernelFuses(module: WebAssembly.Module): boolean {
  const memory = kernelMemory();
  const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as MatmulExports;
  const x = 1 + 2 ** -12;
  const a = new Float32Array(MR * 2).map((_, i) => (i % 2 === 0 ? 1 : x)); // [MR, 2], rows (1, x)
  const b = new Float32Array(2 * NR).map((_, i) => (i < NR ? -(1 + 2 ** -11) : x)); // [2, NR]
  const expected = new Float32Array(MR * NR);
  referenceMatmul({
    a: { data: a, offset: 0, strides: [0, 2, 1] },
    b: { data: b, offset: 0, strides: [0, NR, 1] },
    out: expected, batch: 1, m: MR, k: 2, n: NR,
  });
  const f32 = new Float32Array(memory.buffer);
  f32.set(a, 0);
  f32.set(b, 64);
  kernel.pack_a(0, 8, MR, 2, 512);
  kernel.pack_b(256, NR * 4, 2, NR, 1024);
  kernel.run(512, 1024, 0, 2048, NR * 4, 1, 1, 2, KC, NC_PANELS, 0, 1);
  const got = new Float32Array(memory.buffer, 2048, MR * NR);
  return expected[0] === 2 ** -24 && got.every((v, i) => v === expected[i]);
}

let fuses: boolean | undefined;

/**
 * Whether this engine runs matmul.wasm with reference semantics: it compiles (relaxed SIMD exists) and the
 * probe shows relaxed_madd fused. Where it does not, mycel runs the reference kernel (same bits, slower).
 */
export function hasWasmFmaMatmul(): boolean {
  if (fuses === undefined) {
    const module = matmulModule();
    fuses = module !== null && kernelFuses(module);
  }
  return fuses;
}

export type WasmMatmul = MatmulKernel & { readonly threads: number; close(): void };

/**
 * The WebAssembly SIMD matmul with fused multiply-add (where hasWasmFmaMatmul()), bit-identical to referenceMatmul. Output rows are split across `threads`
 * threads: the caller's and threads - 1 workers that share the kernel's memory. Where the caller may not
 * block (a browser page's main thread) or shared memory is missing (a page that is not cross-origin isolated), it
 * runs on one thread, on unshared memory.
 */
export function createWasmMatmul({ threads = 1 }: { threads?: number } = {}): WasmMatmul {
  const module = matmulModule();
  if (module === null || !hasWasmFmaMatmul()) {
    throw new Error('createWasmMatmul needs an engine whose f32x4.relaxed_madd is fused (see hasWasmFmaMatmul).');
  }
  // Worker threads need memory they share with this one, and a thread that may block while they work.
  const threadCount = canBlock() && hasSharedMemory() ? Math.max(1, Math.floor(threads)) : 1;
  const memory = kernelMemory();
  const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as MatmulExports;
  const control = new Int32Array(hasSharedMemory() ? new SharedArrayBuffer(SLOT * 4 * threadCount) : new ArrayBuffer(SLOT * 4));
  const workers: Thread[] = [];
  for (let index = 1; index < threadCount; index++) {
    workers.push(startThread(WORKER_BODY, { module, memory, control, index }));
  }
  let sequence = 0;

  function ensureBytes(bytes: number): void {
    const missing = bytes - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / PAGE_BYTES));
  }

  function matmul(problem: MatmulProblem): void {
    const { a, b, out, batch, m, k, n } = problem;
    if (batch * m * n === 0) return;
    if (k === 0) {
      out.fill(0, 0, batch * m * n);
      return;
    }
    const mPanels = Math.ceil(m / MR);
    const nPanels = Math.ceil(n / NR);
    const bBatches = b.strides[0] === 0 ? 1 : batch;
    const aBytes = batch * mPanels * MR * k * 4;
    const bBatchBytes = b.strides[0] === 0 ? 0 : nPanels * NR * k * 4;
    const bBytes = bBatches * nPanels * NR * k * 4;
    const cCount = batch * mPanels * MR * nPanels * NR;
    const aPack = 0;
    const bPack = aBytes;
    const c = aBytes + bBytes;
    const ldc = nPanels * NR * 4;
    const stage = c + cCount * 4;
    const aSpan = stagedSpan(a, m, k);
    const bSpan = stagedSpan(b, k, n);
    // 64 bytes of slack: pack_b reads up to NR - 1 floats past the end of a row.
    ensureBytes(stage + Math.max(aSpan, bSpan) * 4 + 64);
    const bits = new Int32Array(memory.buffer);
    if (aSpan) {
      const source = bitsOf(a.data);
      for (let p = 0; p < batch; p++) {
        const from = a.offset + p * a.strides[0];
        bits.set(source.subarray(from, from + aSpan), stage / 4);
        kernel.pack_a(stage, a.strides[1] * 4, m, k, aPack + (p * aBytes) / batch);
      }
    } else {
      packA(a, batch, m, k, MR, bits, aPack / 4);
    }
    if (bSpan) {
      const source = bitsOf(b.data);
      for (let p = 0; p < bBatches; p++) {
        const from = b.offset + p * b.strides[0];
        bits.set(source.subarray(from, from + bSpan), stage / 4);
        kernel.pack_b(stage, b.strides[1] * 4, k, n, bPack + p * bBatchBytes);
      }
    } else {
      packB(b, bBatches, k, n, NR, bits, bPack / 4);
    }

    const panels = batch * mPanels;
    const parts = batch * m * n * k < MIN_PARALLEL_MACS ? 1 : Math.min(threadCount, panels);
    control.set([aPack, bPack, bBatchBytes, c, ldc, mPanels, nPanels, k, KC, NC_PANELS], ARGS);
    control[NEXT] = 0;
    control[PANELS] = panels;
    control[CHUNK] = parts === 1 ? panels : Math.ceil(panels / (parts * CHUNKS_PER_THREAD));
    sequence++;
    for (let t = 1; t < parts; t++) {
      Atomics.store(control, t * SLOT + SEQ, sequence);
      Atomics.notify(control, t * SLOT + SEQ);
    }
    takeChunks(kernel.run, control);
    let failed = false;
    for (let t = 1; t < parts; t++) {
      const base = t * SLOT;
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(control, base + DONE) !== sequence && performance.now() < spinUntil);
      for (let done = Atomics.load(control, base + DONE); done !== sequence; done = Atomics.load(control, base + DONE)) {
        Atomics.wait(control, base + DONE, done);
      }
      if (Atomics.exchange(control, base + FAILED, 0)) failed = true;
    }
    if (failed) throw new Error('A matmul worker thread failed.');
    kernel.canonicalize_nans(c, cCount);

    const f32 = new Float32Array(memory.buffer, c, cCount);
    if (mPanels * MR === m && nPanels * NR === n) {
      out.set(f32.subarray(0, batch * m * n));
      return;
    }
    const rowStride = nPanels * NR;
    for (let p = 0; p < batch; p++) {
      for (let i = 0; i < m; i++) {
        const from = (p * mPanels * MR + i) * rowStride;
        out.set(f32.subarray(from, from + n), (p * m + i) * n);
      }
    }
  }

  return {
    name: 'wasm-fma',
    threads: threadCount,
    matmul,
    close() {
      for (let t = 1; t < threadCount; t++) {
        Atomics.store(control, t * SLOT + SEQ, -1);
        Atomics.notify(control, t * SLOT + SEQ);
      }
      for (const worker of workers) worker.terminate();
      workers.length = 0;
    },
  };
}
