/**
 * The one wire codec: a version byte, then CBOR of `{ t: type, d: body }`. Every message is size-checked
 * before it is parsed and schema-checked (zod) before it is used; anything else throws
 * MalformedMessageError, which callers turn into a dropped message and a lower score for the sender.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { z } from 'zod';
import { CODEC_VERSION } from './constants.js';
import { MalformedMessageError } from './errors.js';

export type Schemas = Record<string, z.ZodType>;
export type Message<S extends Schemas> = { [K in keyof S & string]: { type: K; body: z.output<S[K]> } }[keyof S & string];

export type Codec<S extends Schemas> = {
  readonly maxBytes: number;
  encode<K extends keyof S & string>(type: K, body: z.input<S[K]>): Uint8Array;
  /** Throws MalformedMessageError for anything oversized, of another version, not CBOR, of an unknown type or off-schema. */
  decode(bytes: Uint8Array): Message<S>;
};

const ENVELOPE = z.object({ t: z.string().max(64), d: z.unknown() }).strict();

export function createCodec<S extends Schemas>(schemas: S, { maxBytes }: { maxBytes: number }): Codec<S> {
  return {
    maxBytes,
    encode(type, body) {
      const schema = schemas[type];
      if (!schema) throw new TypeError(`unknown message type ${type}`);
      // Encoding checks too: a node must never send what it would itself reject.
      const payload = cborEncode({ t: type, d: schema.parse(body) });
      if (payload.byteLength + 1 > maxBytes) throw new MalformedMessageError(`A ${type} message of ${payload.byteLength + 1} bytes exceeds the ${maxBytes}-byte limit.`);
      const out = new Uint8Array(payload.byteLength + 1);
      out[0] = CODEC_VERSION;
      out.set(payload, 1);
      return out;
    },
    decode(bytes) {
      if (bytes.byteLength > maxBytes) throw new MalformedMessageError(`Message of ${bytes.byteLength} bytes exceeds the ${maxBytes}-byte limit.`);
      if (bytes.byteLength < 2) throw new MalformedMessageError('Message too short.');
      if (bytes[0] !== CODEC_VERSION) throw new MalformedMessageError(`Unsupported message version ${bytes[0]} (this node speaks ${CODEC_VERSION}).`);
      let raw: unknown;
      try {
        // No tags and no undefined: only plain data crosses the wire.
        raw = cborDecode(bytes.subarray(1), { allowUndefined: false, rejectDuplicateMapKeys: true, useMaps: false });
      } catch (error) {
        throw new MalformedMessageError('Message is not valid CBOR.', { cause: error });
      }
      const envelope = ENVELOPE.safeParse(raw);
      if (!envelope.success) throw new MalformedMessageError('Message envelope is off-schema.', { details: envelope.error.message });
      const schema = Object.hasOwn(schemas, envelope.data.t) ? schemas[envelope.data.t] : undefined;
      if (!schema) throw new MalformedMessageError(`Unknown message type "${envelope.data.t}".`);
      const body = schema.safeParse(envelope.data.d);
      if (!body.success) throw new MalformedMessageError(`A "${envelope.data.t}" message is off-schema.`, { details: body.error.message });
      return { type: envelope.data.t, body: body.data } as Message<S>;
    },
  };
}
