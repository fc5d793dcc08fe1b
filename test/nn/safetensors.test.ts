import { describe, expect, it } from 'vitest';
import { Rng, Tensor, hashTensor } from '../../src/tensor/index.js';
import {
  SafetensorsDtypeError,
  SafetensorsError,
  SafetensorsHeaderError,
  SafetensorsLayoutError,
  SafetensorsTruncatedError,
  gpt,
  loadSafetensors,
  saveSafetensors,
} from '../../src/nn/index.js';
import { bits, paramsHash } from './helpers.js';

/** A file from a header (object or raw JSON text) and data bytes, with a correct length prefix. */
function file(header: object | string, data: number[] = [], headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, headerLength ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (dtype = 'F32', shape = [2], offsets = [0, 8]) => ({ dtype, shape, data_offsets: offsets });
const EIGHT_BYTES = [0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]; // 1.0, -2.5 little-endian

describe('safetensors against the format specification', () => {
  it('reads a hand-made file: u64 LE header length, JSON header, little-endian F32 and I32 data', () => {
    const header = '{"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[1,1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ';
    const bytes = file(header, [...EIGHT_BYTES, 0x07, 0x01, 0, 0x80]);
    const { params, metadata } = loadSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(params)).toEqual(['a', 'b']); // data order
    expect(params.a.dtype).toBe('float32');
    expect(params.a.toArray()).toEqual([1, -2.5]);
    expect(params.b.dtype).toBe('int32');
    expect(params.b.shape).toEqual([1, 1]);
    expect(params.b.item()).toBe(0x80000107 | 0);
  });

  it('writes exactly the specified bytes, header padded with spaces to an 8-byte boundary', () => {
    const bytes = saveSafetensors({ a: Tensor.from([1, -2.5]) }, { format: 'pt' });
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    expect(Array.from(bytes)).toEqual(Array.from(file(padded, EIGHT_BYTES)));
    expect((8 + padded.length) % 8).toBe(0);
  });

  it('round-trips a model bit for bit, in canonical order, with metadata', () => {
    const params = gpt({ vocabSize: 7, contextLength: 4, dModel: 8, layers: 1, heads: 2, mlpHidden: 16 }).init(new Rng(5));
    const special = { odd: Tensor.from(new Float32Array([-0, Infinity, -Infinity, NaN, 1e-45, 3.4e38])), ids: Tensor.from([5, -7], [2, 1], 'int32'), empty: Tensor.zeros([0, 3]) };
    const all = { ...params, ...special };
    const loaded = loadSafetensors(saveSafetensors(all, { step: '12', config: '{"d":8}' }));
    expect(loaded.metadata).toEqual({ step: '12', config: '{"d":8}' });
    expect(Object.keys(loaded.params)).toEqual(Object.keys(all));
    expect(paramsHash(loaded.params)).toBe(paramsHash(all));
    expect(bits(loaded.params.odd.data as Float32Array)).toEqual(bits(special.odd.data as Float32Array));
    expect(hashTensor(loaded.params.ids)).toBe(hashTensor(special.ids));
  });

  it('reads a view into a larger buffer at an odd offset, and a pooled Node Buffer (as readFileSync returns)', () => {
    const bytes = saveSafetensors({ a: Tensor.from([1, -2.5]) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(loadSafetensors(shifted.subarray(3)).params.a.toArray()).toEqual([1, -2.5]);
    const pooled = Buffer.from(bytes);
    expect(pooled.buffer.byteLength).toBeGreaterThan(bytes.length);
    expect(loadSafetensors(pooled).params.a.toArray()).toEqual([1, -2.5]);
  });
});

describe('malformed safetensors files get a named error', () => {
  const expectError = (bytes: Uint8Array, type: abstract new (...args: never[]) => SafetensorsError, message: RegExp) => {
    let caught: unknown;
    try {
      loadSafetensors(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(type);
    expect((caught as Error).message).toMatch(message);
    expect((caught as SafetensorsError).metaMessages.length).toBeGreaterThan(0);
  };

  it('truncated: shorter than the length prefix, the header, or the data', () => {
    expectError(new Uint8Array(5), SafetensorsTruncatedError, /header length.*8 bytes.*has 5/);
    expectError(file({ a: f32() }, EIGHT_BYTES, 500), SafetensorsTruncatedError, /500-byte header/);
    expectError(file({ a: f32() }, EIGHT_BYTES.slice(0, 6)), SafetensorsTruncatedError, /tensor "a"/);
  });

  it('bad header length: beyond the 100 MB cap or the 64-bit high word set', () => {
    expectError(file({}, [], 200_000_000), SafetensorsHeaderError, /exceeds the limit/);
    const bytes = file({ a: f32() }, EIGHT_BYTES);
    new DataView(bytes.buffer).setUint32(4, 1, true);
    expectError(bytes, SafetensorsHeaderError, /exceeds the limit/);
  });

  it('bad JSON, or JSON that is not a header object', () => {
    expectError(file('{"a": {"dtype": "F32", '), SafetensorsHeaderError, /not valid UTF-8 JSON/);
    expectError(file('[1, 2]'), SafetensorsHeaderError, /not a JSON object/);
    expectError(file({ a: 3 }), SafetensorsHeaderError, /"a" is not an object/);
    expectError(file({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, EIGHT_BYTES), SafetensorsHeaderError, /shape/);
    expectError(file({ a: f32('F32', [2], [8, 0]) }, EIGHT_BYTES), SafetensorsHeaderError, /data_offsets/);
    expectError(file({ __metadata__: { n: 1 } }), SafetensorsHeaderError, /__metadata__/);
    expectError(file('{"__proto__":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', EIGHT_BYTES), SafetensorsHeaderError, /__proto__/);
  });

  it('unknown dtype', () => {
    expectError(file({ a: f32('F16', [4], [0, 8]) }, EIGHT_BYTES), SafetensorsDtypeError, /F16; only F32 and I32/);
  });

  it('offsets out of range, overlapping, with a gap, or leaving trailing bytes', () => {
    expectError(file({ a: f32('F32', [2], [8, 16]) }, EIGHT_BYTES), SafetensorsTruncatedError, /8\.\.16/);
    expectError(file({ a: f32('F32', [2], [0, 8]), b: f32('F32', [1], [4, 8]) }, EIGHT_BYTES), SafetensorsLayoutError, /overlap/);
    expectError(file({ a: f32('F32', [1], [4, 8]) }, EIGHT_BYTES), SafetensorsLayoutError, /gap/);
    expectError(file({ a: f32('F32', [1], [0, 4]) }, EIGHT_BYTES), SafetensorsLayoutError, /cover 4 data bytes but the file has 8/);
  });

  it('shape and size disagree', () => {
    expectError(file({ a: f32('F32', [3], [0, 8]) }, EIGHT_BYTES), SafetensorsLayoutError, /needs 12 bytes/);
  });

  it('refuses to write non-string metadata or a tensor named __metadata__', () => {
    expect(() => saveSafetensors({}, { n: 1 } as never)).toThrow(/must be strings/);
    expect(() => saveSafetensors({ __metadata__: Tensor.from([1]) })).toThrow(/reserved/);
  });
});
