/** Limits and names of the mycel p2p layer, in one place so that each can be reasoned about. */

/** Protocol ids: bump the version when the wire format changes incompatibly. */
export const BLOB_PROTOCOL = '/mycel/blob/1.0.0';
export const DHT_PROTOCOL = '/mycel/kad/1.0.0';

/** Version byte of every codec envelope; a message with another version is rejected before decoding. */
export const CODEC_VERSION = 1;
/** Largest gossip message: rollouts and small updates, not blobs (those go over the blob protocol). */
export const MAX_GOSSIP_BYTES = 256 * 1024;
/** Largest control message on a stream (requests, manifests headers). */
export const MAX_CONTROL_BYTES = 64 * 1024;

/** Blob chunk size: 1 MiB keeps per-chunk overhead (a request, a hash) small next to the payload. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;
/** Largest manifest: 32-byte hash per chunk, so ~1 M chunks (1 TiB at 1 MiB chunks). */
export const MAX_MANIFEST_BYTES = 40 * 1024 * 1024;
/** Largest frame on the blob protocol: a chunk plus its header. */
export const MAX_BLOB_FRAME_BYTES = Math.max(BLOB_CHUNK_BYTES, MAX_MANIFEST_BYTES) + 1024;
/** Requests in flight per provider: enough to hide one round trip behind the transfer of the next chunk. */
export const REQUESTS_PER_PROVIDER = 8;
/** A provider that sends nothing for this long is treated as dead for the transfer. */
export const CHUNK_TIMEOUT_MS = 10_000;
/** How long `get` keeps looking for providers before it says that no one provides the CID. */
export const FIND_PROVIDERS_TIMEOUT_MS = 15_000;

/** Per-peer budgets (token buckets): sustained rate per second and burst. */
export const STREAMS_PER_PEER_PER_SECOND = 50;
export const STREAM_BURST_PER_PEER = 200;
export const GOSSIP_PER_PEER_PER_SECOND = 2000;
export const GOSSIP_BURST_PER_PEER = 4000;
/** Inbound blob streams one peer may hold open at once. */
export const MAX_INBOUND_BLOB_STREAMS = 32;

/** Reputation: penalties and the floor below which a peer is disconnected and refused. */
export const PENALTY_MALFORMED = -10;
export const PENALTY_BAD_CHUNK = -50;
export const PENALTY_RATE_LIMIT = -5;
export const BAN_SCORE = -100;
/**
 * Reputation half-life: every score halves in this time. 10 minutes: a peer banned for one bad chunk plus
 * some noise (-150) is readmitted after ~10 min; one at -400 (a flood) after ~20 min; a single rate-limit
 * penalty (-5) is down to -1 after ~23 min and then forgotten.
 */
export const REPUTATION_HALF_LIFE_MS = 10 * 60_000;
/** Scores closer to zero than this are dropped (treated as a fresh peer), which bounds the table's size. */
export const REPUTATION_FORGET_BELOW = 0.5;

/**
 * Circuit relay v2 server limits. A relayed connection is meant to carry signalling and DCUtR hole punching,
 * then be replaced by a direct one; the limits keep a volunteer relay's cost bounded. The library defaults
 * are 15 reservations, 128 KiB and 2 minutes per relayed connection; 15 runs out on a busy swarm.
 */
export const RELAY_MAX_RESERVATIONS = 128;
export const RELAY_DATA_LIMIT_BYTES = 4n * 1024n * 1024n;
export const RELAY_DURATION_LIMIT_MS = 2 * 60_000;
/** How long a relay client waits for a reservation to complete. */
export const RELAY_RESERVATION_TIMEOUT_MS = 10_000;

/** Default ports (0 = any free port). */
export const DEFAULT_TCP_PORT = 4001;
export const DEFAULT_WS_PORT = 4002;
/** The file in the data directory that tells local commands where the running node's control endpoint is. */
export const CONTROL_FILE = 'control.json';
export const KEY_FILE = 'key.secp256k1';
