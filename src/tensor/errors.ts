import { MycelError } from '../platform/errors.js';
import type { DType } from './dtype.js';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Operand shapes that do not fit together; names the op, the shapes and what was expected. */
export class ShapeError extends MycelError {
  override name = 'ShapeError';
  constructor(op: string, shapes: readonly (readonly number[])[], expected: string) {
    super(`${op}: shapes ${shapes.map(fmt).join(' and ')} do not fit: expected ${expected}.`);
  }
}

export class DTypeError extends MycelError {
  override name = 'DTypeError';
  constructor(op: string, got: DType, expected: string) {
    super(`${op}: got a ${got} tensor, expected ${expected}.`);
  }
}

export class IndexRangeError extends MycelError {
  override name = 'IndexRangeError';
  constructor(op: string, index: number, size: number, where: string) {
    super(`${op}: index ${index} at ${where} is out of range for a dimension of size ${size}.`, {
      metaMessages: [`Indices must lie in 0..${size - 1}.`],
    });
  }
}

export class NonFiniteError extends MycelError {
  override name = 'NonFiniteError';
  constructor(op: string, value: number, where: string) {
    super(`${op}: input ${where} is ${value}, and ${op} needs finite values.`);
  }
}

export function formatShape(shape: readonly number[]): string {
  return fmt(shape);
}
