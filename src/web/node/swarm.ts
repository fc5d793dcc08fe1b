/**
 * The tab in a SAPO swarm round, where the node that served its page runs a swarm (GET /api/served-swarm): it joins
 * the swarm's rollout topic, makes its rollout for the clock's round in its worker (swarm-round.ts: the swarm's own
 * startRound on the starting policy the node serves, checked against its state hash), serves its policy blob over the
 * swarm's blob protocol (the same BlobServer a Node peer runs, from memory), and publishes the signed rollout over
 * gossip once a peer is subscribed. Node peers check it as any peer's, re-executing a seeded share of its completions
 * from the tab's policy blob, token for token.
 *
 * What a tab does not do (yet): finish the round itself (check the peers' rollouts, re-execute theirs from their
 * policy blobs, and take the GRPO step on own and external questions); it takes one round on the starting policy.
 */
import type { CID } from 'multiformats/cid';
import { BLOB_CHUNK_BYTES } from '../../p2p/constants.js';
import { chunkLength, encodeManifest, sha256Bytes, type Manifest } from '../../p2p/blob/manifest.js';
import { BlobServer } from '../../p2p/blob/protocol.js';
import { Reputation } from '../../p2p/reputation.js';
import { toHex } from '../../platform/sha256.js';
import { rolloutCodec, rolloutTopic, type Rollout } from '../../swarm/rollout-message.js';
import type { SapoConfigInput } from '../../swarm/sapo-config.js';
import type { TabHost } from './libp2p.js';
import { describeError } from './market.js';
import type { SwarmRoundRequest, SwarmRoundResult } from './swarm-round.js';

export type SwarmInfo = { config: SapoConfigInput & { swarmId: string }; genesisMs: number; roundMs: number; policy: string };

export type SwarmState = {
  phase: 'joining' | 'generating' | 'publishing' | 'published' | 'failed';
  swarmId: string;
  round?: number;
  /** Mean reward of its completions, and the share of its questions with a correct one. */
  reward?: number;
  accuracy?: number;
  /** Its policy's state hash and blob CID (what Node peers fetch to re-execute its completions). */
  policy?: string;
  cid?: string;
  /** SHA-256 of the encoded rollout it published: the same bits as a Node peer's rollout for its key and round. */
  rolloutDigest?: string;
  /** Peers its publish reached, and the rollouts of the round heard from others. */
  recipients?: number;
  heard: number;
  seconds?: number;
  note?: string;
};

export type SwarmDeps = {
  host: TabHost;
  key: Uint8Array;
  id: string;
  info: SwarmInfo;
  generate(req: SwarmRoundRequest): Promise<SwarmRoundResult>;
  update(s: SwarmState): void;
  signal: AbortSignal;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function takeSwarmRound(d: SwarmDeps): Promise<SwarmState> {
  const { config, genesisMs, roundMs } = d.info;
  const state: SwarmState = { phase: 'joining', swarmId: config.swarmId, heard: 0 };
  const set = (patch: Partial<SwarmState>) => { Object.assign(state, patch); d.update({ ...state }); };
  const pubsub = d.host.services.pubsub;
  const topic = rolloutTopic(config.swarmId);
  try {
    // Subscribed first: a Node peer publishes its own rollout once every peer it expects is subscribed.
    pubsub.subscribe(topic);
    const heard = new Set<string>();
    pubsub.addEventListener('message', (e) => {
      if (e.detail.topic !== topic || state.round === undefined) return;
      try {
        const { body } = rolloutCodec.decode(e.detail.data) as { body: Rollout };
        if (body.round === state.round && body.node !== d.id) heard.add(body.node);
        set({ heard: heard.size });
      } catch {
        // Not a rollout: the Node peers' validators judge what they forward; the tab only counts.
      }
    });
    const policy = new Uint8Array(await (await fetch('/api/swarm-policy', { signal: d.signal })).arrayBuffer());
    while (Date.now() < genesisMs) await sleep(Math.min(1_000, genesisMs - Date.now()));
    const round = Math.floor((Date.now() - genesisMs) / roundMs);
    const end = genesisMs + (round + 1) * roundMs;
    set({ phase: 'generating', round, note: `making its rollout for round ${round} in the worker` });
    const made = await d.generate({ config, policy, policyHash: d.info.policy, key: d.key, id: d.id, round });
    const completions = made.rollout.groups.flatMap((g) => g.completions);
    set({
      reward: completions.reduce((s, c) => s + c.reward, 0) / Math.max(1, completions.length),
      accuracy: made.rollout.groups.filter((g) => g.completions.some((c) => c.reward === 1)).length / Math.max(1, made.rollout.groups.length),
      policy: made.blob.hash,
      cid: made.blob.cid,
      seconds: made.seconds,
    });
    const served = memoryBlob(made.blob.bytes);
    if (served.cid.toString() !== made.blob.cid) throw new Error(`the blob's CID here is ${served.cid}, the swarm computes ${made.blob.cid}`);
    await new BlobServer(d.host as unknown as ConstructorParameters<typeof BlobServer>[0], { store: served.store, reputation: new Reputation() }).start();

    const bytes = rolloutCodec.encode('rollout', made.rollout);
    set({ phase: 'publishing', rolloutDigest: toHex(sha256Bytes(bytes)), note: 'waiting for a swarm peer on the rollout topic' });
    for (;;) {
      d.signal.throwIfAborted();
      if (Date.now() >= end) return (set({ phase: 'failed', note: `round ${round} ended before a swarm peer took its rollout` }), state);
      if (pubsub.getSubscribers(topic).length > 0) {
        const { recipients } = await pubsub.publish(topic, bytes).catch(() => ({ recipients: [] as unknown[] }));
        if (recipients.length > 0) {
          set({ phase: 'published', recipients: recipients.length, note: `published its rollout of round ${round} to ${recipients.length} peer${recipients.length === 1 ? '' : 's'}; serving its policy blob ${made.blob.cid.slice(0, 12)}… for their checks` });
          return state;
        }
      }
      await sleep(250);
    }
  } catch (error) {
    if (d.signal.aborted) return state;
    set({ phase: 'failed', note: describeError(error) });
    return state;
  }
}

/** One blob in memory, in the shape the blob server reads a store: its manifest and its chunks. */
function memoryBlob(bytes: Uint8Array): { cid: CID; store: ConstructorParameters<typeof BlobServer>[1]['store'] } {
  const count = Math.ceil(bytes.length / BLOB_CHUNK_BYTES);
  const hashes = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) hashes.set(sha256Bytes(bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES)), i * 32);
  const manifest: Manifest = { size: bytes.length, chunkSize: BLOB_CHUNK_BYTES, hashes };
  const { bytes: manifestBytes, cid } = encodeManifest(manifest);
  const ours = (c: CID) => c.equals(cid);
  return {
    cid,
    store: {
      manifestBytes: async (c) => (ours(c) ? manifestBytes : undefined),
      manifest: async (c) => (ours(c) ? manifest : undefined),
      readChunk: async (c, m, i) => (ours(c) ? bytes.subarray(i * m.chunkSize, i * m.chunkSize + chunkLength(m, i)) : undefined),
    },
  };
}
