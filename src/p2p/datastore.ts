/**
 * The libp2p host's datastore: in memory, as libp2p's default, but every value is kept in a buffer of its own size.
 *
 * libp2p keeps its peer store and the DHT's provider records there. A provider record's value is a varint timestamp
 * of a few bytes that kad-dht encodes with `allocUnsafe`, which in Node is a slice of an 8 KiB shared pool: stored as
 * it came, each record kept its whole 8 KiB pool alive, for the 48 hours a record lives. Every blob a node publishes
 * or fetches is provided, and every peer close to its CID stores a record of it, so a node's ArrayBuffers grew with
 * every job (bench soak, 4 nodes in one process: ~22 records and ~0.18 MB per job, 8 KiB each, in the heap snapshot's
 * retainers `PersistentPeerStore > MemoryDatastore.data`). A copy of a few bytes keeps a few bytes.
 */
import { MemoryDatastore } from 'datastore-core/memory';

/** `bytes` itself when it owns its whole buffer, otherwise a copy that does (never a view of a larger buffer). */
export function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes); // copies into a new ArrayBuffer of exactly byteLength (Buffer#slice would share memory)
}

export class CompactMemoryDatastore extends MemoryDatastore {
  override put(...[key, value, options]: Parameters<MemoryDatastore['put']>): ReturnType<MemoryDatastore['put']> {
    return super.put(key, ownBuffer(value), options);
  }
}
