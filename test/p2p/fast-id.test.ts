// Gossipsub's fast message id (gossip.ts fastMessageId): a copy equal byte for byte to a checked message is dropped
// without checking its signature again, so the id must tell apart any two messages that differ in any field, however
// the bytes are split between fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastMessageId, type RawGossipMessage } from '../../src/p2p/gossip.js';

const bytes = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined });
const message = fc.record({ from: bytes, data: bytes, seqno: bytes, topic: fc.string({ maxLength: 12 }), signature: bytes, key: bytes });
const canonical = (m: RawGossipMessage) => JSON.stringify([m.from, m.seqno, m.topic, m.data, m.signature, m.key].map((f) => (f instanceof Uint8Array ? [...f] : (f ?? []))));

describe('fastMessageId', () => {
  it('is the same for equal messages and differs when any field differs', () => {
    fc.assert(fc.property(message, message, (a, b) => {
      expect(fastMessageId(a)).toBe(fastMessageId({ ...a }));
      if (canonical(a) !== canonical(b)) expect(fastMessageId(a)).not.toBe(fastMessageId(b));
    }));
  });

  it('moving bytes from one field to the next changes it', () => {
    const a = { topic: 't', data: Uint8Array.of(1, 2, 3), signature: Uint8Array.of(4) };
    const b = { topic: 't', data: Uint8Array.of(1, 2), signature: Uint8Array.of(3, 4) };
    expect(fastMessageId(a)).not.toBe(fastMessageId(b));
  });
});
