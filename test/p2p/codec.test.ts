import { encode as cborEncode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCodec } from '../../src/p2p/codec.js';
import { MalformedMessageError } from '../../src/p2p/errors.js';
import { PeerRateLimiter } from '../../src/p2p/rate-limit.js';

const codec = createCodec({ ping: z.object({ n: z.number().int() }).strict(), blob: z.object({ data: z.instanceof(Uint8Array) }).strict() }, { maxBytes: 256 });

describe('codec', () => {
  it('round-trips typed messages with a version byte', () => {
    const bytes = codec.encode('ping', { n: 7 });
    expect(bytes[0]).toBe(1);
    expect(codec.decode(bytes)).toEqual({ type: 'ping', body: { n: 7 } });
    expect(codec.decode(codec.encode('blob', { data: Uint8Array.of(1, 2) }))).toEqual({ type: 'blob', body: { data: Uint8Array.of(1, 2) } });
  });

  it.each([
    ['oversized', new Uint8Array(300).fill(1)],
    ['empty', new Uint8Array(0)],
    ['another version', Uint8Array.of(2, ...cborEncode({ t: 'ping', d: { n: 1 } }))],
    ['not CBOR', Uint8Array.of(1, 0xff, 0xff, 0xff)],
    ['off-schema body', Uint8Array.of(1, ...cborEncode({ t: 'ping', d: { n: 1.5 } }))],
    ['extra field', Uint8Array.of(1, ...cborEncode({ t: 'ping', d: { n: 1, evil: true } }))],
    ['unknown type', Uint8Array.of(1, ...cborEncode({ t: 'toString', d: {} }))],
    ['bad envelope', Uint8Array.of(1, ...cborEncode([1, 2, 3]))],
  ])('rejects %s', (_name, bytes) => {
    expect(() => codec.decode(bytes)).toThrow(MalformedMessageError);
  });

  it('will not encode what it would reject', () => {
    expect(() => codec.encode('blob', { data: new Uint8Array(400) })).toThrow(MalformedMessageError);
  });
});

describe('per-peer rate limiter', () => {
  it('allows a burst, then the sustained rate', () => {
    const limiter = new PeerRateLimiter(10, 3);
    const t = 1_000_000;
    expect([1, 2, 3, 4].map(() => limiter.take('p', t))).toEqual([true, true, true, false]);
    expect(limiter.take('other', t)).toBe(true);
    expect(limiter.take('p', t + 100)).toBe(true); // 0.1 s at 10/s refills one token
    expect(limiter.take('p', t + 100)).toBe(false);
  });
});
