/**
 * Tensor buffers reused from one training step to the next. A step allocates every intermediate anew (activations,
 * gradients, optimizer temporaries: tens of MB for a small GPT), and most die when the step ends. In Chromium the
 * first write to a freshly allocated ArrayBuffer costs a page fault per 4 KiB (its allocator hands back decommitted
 * pages): measured 5-10x Node's cost for the same allocate-and-write loop, the largest part of why a tab trained at a
 * quarter of a Node process's speed on the same WebAssembly kernels. Reused buffers are already mapped.
 *
 * Only inside `scope`: every buffer `allocate` hands out there is lent, and when the scope ends every lent buffer is
 * taken back except those the result still holds (`keep`, compared by ArrayBuffer, so a view keeps its buffer). A
 * reused buffer is zero-filled, as a new one is, so results are the same bits. The caller must name everything that
 * outlives the step: a buffer kept elsewhere would be overwritten by a later step (the run-commitment tests catch it).
 */
import type { DType, Storage } from './dtype.js';

export class BufferPool {
  private readonly free = new Map<string, Storage[]>();
  private lent: Storage[] = [];

  /**
   * A buffer of `size` elements, zeroed unless `zero` is false: an op whose kernel writes every element of its output
   * asks for an unzeroed one (Tensor.empty), since zeroing a reused buffer costs as much as a simple op.
   */
  take(dtype: DType, size: number, zero = true): Storage {
    const reused = this.free.get(`${dtype}:${size}`)?.pop();
    const buffer = reused ? (zero ? reused.fill(0) : reused) : dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
    this.lent.push(buffer);
    return buffer;
  }

  /** Takes back what was lent, except the buffers `keep` holds. */
  private reclaim(keep: Iterable<Storage>): void {
    const kept = new Set<ArrayBufferLike>();
    for (const s of keep) kept.add(s.buffer);
    for (const buffer of this.lent) {
      if (kept.has(buffer.buffer)) continue;
      const key = `${buffer instanceof Float32Array ? 'float32' : 'int32'}:${buffer.length}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buffer);
    }
    this.lent = [];
  }

  /** Runs `fn` with this pool lending buffers; afterwards takes back every buffer lent that `keep(result)` does not hold. */
  scope<T>(fn: () => T, keep: (result: T) => Iterable<Storage>): T {
    if (active) throw new Error('BufferPool.scope: a pool is already lending (scopes do not nest)');
    active = this;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.lent = []; // what a failed step made is left to the garbage collector
      throw error;
    } finally {
      active = undefined;
    }
    this.reclaim(keep(result));
    return result;
  }
}

let active: BufferPool | undefined;

/** The pool lending buffers now, if a scope is running. */
export function activePool(): BufferPool | undefined {
  return active;
}
