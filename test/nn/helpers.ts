import { hashTensor } from '../../src/tensor/index.js';
import type { Params } from '../../src/nn/index.js';

/** One string that changes when any parameter's name, shape or bits change. */
export function paramsHash(params: Params): string {
  return Object.entries(params).map(([name, t]) => `${name}:${hashTensor(t)}`).join('\n');
}

export const bits = (data: Float32Array | Int32Array) => Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
