import { activePool } from './buffer-pool.js';

export type DType = 'float32' | 'int32';
export type TypedArrayOf<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;
export type Storage = Float32Array | Int32Array;

/** Codes used in canonical hashes and on the wire; never renumber. */
export const DTYPE_CODE: Record<DType, number> = { float32: 1, int32: 2 };

/**
 * A zeroed buffer: from the buffer pool while a training step runs in one (buffer-pool.ts), else a new one. With
 * `zero` false, a pooled buffer keeps what it held: only for a caller that overwrites every element.
 */
export function allocate(dtype: DType, size: number, zero = true): Storage {
  const pool = activePool();
  if (pool) return pool.take(dtype, size, zero);
  return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
}

export function dtypeOf(data: Storage): DType {
  return data instanceof Float32Array ? 'float32' : 'int32';
}
