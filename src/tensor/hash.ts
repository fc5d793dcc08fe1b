import { createSha256, toHex } from '../platform/sha256.js';
import { DTYPE_CODE, type DType, type Storage } from './dtype.js';
import type { Tensor } from './tensor.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The canonical bytes of a tensor, hashed: uint32 LE dtype code, uint32 LE rank, each dimension as
 * uint32 LE, then the elements as little-endian 4-byte words (NaNs are already canonical in storage).
 */
export function hashTensor(t: Pick<Tensor, 'dtype' | 'shape' | 'data'>): string {
  return toHex(tensorDigest(t.dtype, t.shape, t.data));
}

export function tensorDigest(dtype: DType, shape: readonly number[], data: Storage): Uint8Array {
  const header = new Uint32Array([DTYPE_CODE[dtype], shape.length, ...shape]);
  return createSha256().update(leBytes(header)).update(leBytes(data)).digest();
}

/** The little-endian bytes of a typed array of 4-byte words. */
export function leBytes(words: Float32Array | Int32Array | Uint32Array): Uint8Array {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    swapped[i] = bytes[i + 3];
    swapped[i + 1] = bytes[i + 2];
    swapped[i + 2] = bytes[i + 1];
    swapped[i + 3] = bytes[i];
  }
  return swapped;
}
