/**
 * The safetensors format (https://huggingface.co/docs/safetensors), float32 and int32 only:
 *   8 bytes   N, the header length, unsigned 64-bit little-endian
 *   N bytes   a UTF-8 JSON object: {"__metadata__"?: {string: string}, "<name>": {"dtype": "F32" | "I32",
 *             "shape": [...], "data_offsets": [begin, end]}, ...}, padded with spaces
 *   the rest  the tensors' little-endian bytes; offsets are relative to the start of this part
 * Reading is as strict as the reference (Rust) implementation: the tensors must tile the data part
 * exactly, with no gap, overlap or trailing bytes. Pure byte functions; file I/O is the caller's.
 */
import { Tensor, type DType } from '../tensor/index.js';
import {
  SafetensorsDtypeError,
  SafetensorsError,
  SafetensorsHeaderError,
  SafetensorsLayoutError,
  SafetensorsTruncatedError,
} from './errors.js';
import type { Params } from './params.js';

export type Metadata = Record<string, string>;

const DTYPE_NAMES: Record<DType, string> = { float32: 'F32', int32: 'I32' };
const DTYPES_BY_NAME: Record<string, DType> = { F32: 'float32', I32: 'int32' };
const BYTES_PER_ELEMENT = 4;
/** The reference implementation's cap, which keeps a hostile header from exhausting memory. */
const MAX_HEADER_BYTES = 100_000_000;
/** Writers pad the header so the data starts 8-byte aligned (as the reference writer does). */
const DATA_ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';
/** Would set an object's prototype instead of naming a tensor. */
const FORBIDDEN_NAME = '__proto__';
const CANONICAL_NAN = 0x7fc00000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Serialises tensors in canonical (insertion) order, with optional string metadata. */
export function saveSafetensors(params: Params, metadata?: Metadata): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new SafetensorsError(`safetensors: metadata "${key}" is a ${typeof value}; metadata values must be strings.`, { metaMessages: ['Convert it first, e.g. String(value) or JSON.stringify(value).'] });
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, t] of Object.entries(params)) {
    if (name === METADATA_KEY || name === FORBIDDEN_NAME) throw new SafetensorsError(`safetensors: "${name}" is reserved and cannot name a tensor.`, { metaMessages: ['Rename that parameter.'] });
    const end = offset + t.size * BYTES_PER_ELEMENT;
    header[name] = { dtype: DTYPE_NAMES[t.dtype], shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil((8 + json.length) / DATA_ALIGNMENT) * DATA_ALIGNMENT - 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of Object.values(params)) {
    out.set(littleEndianBytes(t.data), at);
    at += t.size * BYTES_PER_ELEMENT;
  }
  return out;
}

/**
 * Parses a safetensors file. Params come in the order of their data offsets (for files written here,
 * the canonical order they were saved in). Any NaN is stored as the canonical quiet NaN, as the
 * runtime requires. Throws a SafetensorsError subclass naming what is wrong.
 */
export function loadSafetensors(bytes: Uint8Array): { params: Params; metadata: Metadata } {
  if (bytes.length < 8) throw new SafetensorsTruncatedError('the 8-byte header length', 8, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [low, high] = [view.getUint32(0, true), view.getUint32(4, true)];
  if (high !== 0 || low > MAX_HEADER_BYTES) {
    throw new SafetensorsHeaderError(`header length ${high * 2 ** 32 + low} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (8 + low > bytes.length) throw new SafetensorsTruncatedError(`the ${low}-byte header`, 8 + low, bytes.length);
  const entries = parseHeader(bytes.subarray(8, 8 + low));
  const data = bytes.subarray(8 + low);
  const { metadata, tensors } = entries;
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  const params: Params = {};
  for (const { name, dtype, shape, begin, end } of tensors) {
    if (end > data.length) throw new SafetensorsTruncatedError(`tensor "${name}" (data bytes ${begin}..${end})`, 8 + low + end, bytes.length);
    if (begin < expected) throw new SafetensorsLayoutError(name, `data_offsets [${begin}, ${end}] overlap the previous tensor, which ends at ${expected}`);
    if (begin > expected) throw new SafetensorsLayoutError(name, `data_offsets start at ${begin}, leaving a gap after byte ${expected}`);
    const size = shape.reduce((n, d) => n * d, 1);
    if (end - begin !== size * BYTES_PER_ELEMENT) {
      throw new SafetensorsLayoutError(name, `shape [${shape.join(', ')}] needs ${size * BYTES_PER_ELEMENT} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    params[name] = new Tensor(fromLittleEndian(data.subarray(begin, end), dtype), shape);
    expected = end;
  }
  if (expected !== data.length) {
    throw new SafetensorsLayoutError(tensors.at(-1)?.name ?? '(none)', `the tensors cover ${expected} data bytes but the file has ${data.length}`);
  }
  return { params, metadata };
}

type Entry = { name: string; dtype: DType; shape: number[]; begin: number; end: number };

function parseHeader(raw: Uint8Array): { metadata: Metadata; tensors: Entry[] } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (cause) {
    throw new SafetensorsHeaderError('the header is not valid UTF-8 JSON', { cause });
  }
  if (!isObject(header)) throw new SafetensorsHeaderError('the header is not a JSON object');
  const metadata: Metadata = {};
  const tensors: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isObject(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        throw new SafetensorsHeaderError(`"${METADATA_KEY}" must map strings to strings`);
      }
      Object.assign(metadata, info);
      continue;
    }
    if (name === FORBIDDEN_NAME) throw new SafetensorsHeaderError(`"${FORBIDDEN_NAME}" cannot name a tensor`);
    if (!isObject(info)) throw new SafetensorsHeaderError(`the entry for "${name}" is not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw new SafetensorsHeaderError(`tensor "${name}" has no dtype string`);
    if (!(dtype in DTYPES_BY_NAME)) throw new SafetensorsDtypeError(name, dtype);
    if (!isCountList(shape)) throw new SafetensorsHeaderError(`tensor "${name}" has a shape that is not a list of whole numbers >= 0`);
    if (!isCountList(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) {
      throw new SafetensorsHeaderError(`tensor "${name}" has data_offsets that are not [begin, end] with 0 <= begin <= end`);
    }
    tensors.push({ name, dtype: DTYPES_BY_NAME[dtype], shape, begin: offsets[0], end: offsets[1] });
  }
  return { metadata, tensors };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCountList = (x: unknown): x is number[] => Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);

/** A typed array's elements as little-endian bytes (a copy, so the result owns its buffer). */
function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (!LITTLE_ENDIAN) swapWords(bytes);
  return bytes;
}

function fromLittleEndian(bytes: Uint8Array, dtype: DType): Float32Array | Int32Array {
  const copy = new Uint8Array(bytes); // a fresh, aligned buffer (a Node Buffer's slice() would be a view into its pool)
  if (!LITTLE_ENDIAN) swapWords(copy);
  if (dtype === 'int32') return new Int32Array(copy.buffer);
  const words = new Uint32Array(copy.buffer);
  for (let i = 0; i < words.length; i++) {
    if ((words[i] & 0x7f800000) === 0x7f800000 && (words[i] & 0x7fffff) !== 0) words[i] = CANONICAL_NAN;
  }
  return new Float32Array(copy.buffer);
}

function swapWords(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 4) {
    [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]] = [bytes[i + 3], bytes[i + 2], bytes[i + 1], bytes[i]];
  }
}
