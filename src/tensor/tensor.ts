import { DTYPE_CODE, allocate, type DType, type Storage } from './dtype.js';
import { ShapeError } from './errors.js';
import { checkShape, sizeOf, type Shape } from './shape.js';
import type { TapeNode } from './tape.js';

let nextId = 0;

/**
 * An n-dimensional array of float32 or int32, always contiguous and row-major. Views that only
 * reinterpret the shape (reshape) share storage; every other movement (transpose, slice, concat,
 * expand) copies, bit for bit, so every kernel and every element program sees one simple layout.
 * Data is never mutated after an op writes it.
 */
export class Tensor {
  /** Unique within this process; traces renumber tensors in order of appearance. */
  readonly id = nextId++;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Storage;
  /** Set on tensors whose gradient is wanted (parameters), and on everything computed from them. */
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The tape entry that produced this tensor, when it was computed from tensors that need gradients. */
  node: TapeNode | null = null;

  constructor(data: Storage, shape: Shape) {
    checkShape('tensor', shape);
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError('tensor', [shape], `${sizeOf(shape)} elements of data, got ${data.length}`);
    }
    this.dtype = data instanceof Float32Array ? 'float32' : 'int32';
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape);
  }

  /**
   * A tensor whose every element the caller will write before anyone reads it (an op's output): from the buffer
   * pool it may hold a previous step's values, so it is not zeroed (outside a pool it is zeros, as any new buffer).
   */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape), false), shape);
  }

  static full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)).fill(value), shape);
  }

  /** A float32 tensor from numbers (each rounded to float32) or nested arrays. */
  static from(values: number[] | Float32Array | Int32Array, shape?: Shape, dtype?: DType): Tensor {
    if (values instanceof Float32Array || values instanceof Int32Array) return new Tensor(values, shape ?? [values.length]);
    const data = allocate(dtype ?? 'float32', values.length);
    data.set(values);
    return new Tensor(data, shape ?? [values.length]);
  }

  static scalar(value: number, dtype: DType = 'float32'): Tensor {
    return Tensor.full([], value, dtype);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError('item', [this.shape], 'exactly one element');
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Marks this tensor as a leaf whose gradient backward() should compute. */
  requireGrad(): this {
    this.requiresGrad = true;
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

export { DTYPE_CODE };
