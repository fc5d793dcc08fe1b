/**
 * The tab in a SAPO swarm round, where the node that served its page runs a swarm (GET /api/served-swarm): it joins
 * the swarm's rollout topic, makes its rollout for the clock's round in its worker (swarm-round.ts: the swarm's own
 * startRound on the starting policy the node serves, checked against its state hash), serves its policy blob over the
 * swarm's blob protocol (the same BlobServer a Node peer runs, from memory), and publishes the signed rollout over
 * gossip once a peer is subscribed. Node peers check it as any peer's, re-executing a seeded share of its completions
 * from the tab's policy blob, token for token.
 *
 * Then it finishes the round as a Node peer does (sapo-node.ts): it collects the round's peer rollouts from the
 * topic, fetches the policy blobs the round re-executes from over the blob protocol (each chunk checked against the
 * manifest, the manifest against the CID), and in its worker checks every rollout and takes the GRPO step on its
 * own and the peers' questions (swarm/round.ts finishRound). Its next round starts from the policy that step gave.
 */
import { sha256Bytes } from '../../p2p/blob/manifest.js';
import { toHex } from '../../platform/sha256.js';
import { rolloutCodec, rolloutTopic, type Rollout } from '../../swarm/rollout-message.js';
import type { SapoConfigInput } from '../../swarm/sapo-config.js';
import { fetchBlobFrom, serveBytes, unserve } from './blobs.js';
import type { TabHost } from './libp2p.js';
import { describeError } from './market.js';
import { blobKey, type BlobFailure, type RoundMetrics } from '../../swarm/round.js';
import { MAX_PEER_MODEL } from '../../swarm/rollout-policy.js';
import type { Received, SwarmFinishResult, SwarmRoundRequest, SwarmRoundResult } from './swarm-round.js';

export type SwarmInfo = { config: SapoConfigInput & { swarmId: string }; genesisMs: number; roundMs: number; policy: string };

export type SwarmState = {
  phase: 'joining' | 'generating' | 'publishing' | 'collecting' | 'checking' | 'finished' | 'failed';
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
  /** The round as finishRound saw it: peers' questions accepted and re-executed, rejections, the GRPO step, the new policy. */
  metrics?: RoundMetrics;
  /** Why each rejected peer rollout was rejected. */
  rejections?: string[];
  /** The rounds it took so far, oldest first. */
  history: RoundTaken[];
  note?: string;
};

/** The tab's swarm node, in its worker: the round's rollout, the blobs it re-executes from, the round's end. */
export type SwarmWorker = {
  start(req: SwarmRoundRequest): Promise<SwarmRoundResult>;
  plan(rollouts: Received[]): Promise<{ peer: string; cid: string }[]>;
  finish(rollouts: Received[], blobs: [string, Uint8Array | BlobFailure][]): Promise<SwarmFinishResult>;
};

export type SwarmDeps = {
  host: TabHost;
  key: Uint8Array;
  id: string;
  info: SwarmInfo;
  worker: SwarmWorker;
  update(s: SwarmState): void;
  signal: AbortSignal;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One round's outcome, kept in the tab's history of the rounds it took. */
export type RoundTaken = { round: number; phase: 'finished' | 'failed'; reward?: number; accuracy?: number; loss?: number; rolloutsIn?: number; rejected?: number; note?: string };

/**
 * Takes rounds until `rounds` are done, `stopping()` says so (asked after each round) or the tab goes. As a Node peer
 * does (sapo-node.ts), the next round starts as soon as the last is finished, or at the clock's round if the clock is
 * further on; the worker's policy moves with each GRPO step. A failed round (no peer took the rollout in time) is
 * recorded and the next is tried.
 */
export async function takeSwarmRounds(d: SwarmDeps, o: { rounds?: number; stopping(): boolean }): Promise<SwarmState> {
  const { config, genesisMs, roundMs } = d.info;
  const state: SwarmState = { phase: 'joining', swarmId: config.swarmId, heard: 0, history: [] };
  const set = (patch: Partial<SwarmState>) => { Object.assign(state, patch); d.update({ ...state, history: [...state.history] }); };
  const pubsub = d.host.services.pubsub;
  const topic = rolloutTopic(config.swarmId);
  // Subscribed first: a Node peer publishes its own rollout once every peer it expects is subscribed.
  pubsub.subscribe(topic);
  // The rounds' peer rollouts, the first of each peer (finishRound checks each; a malformed one is not kept).
  const inbox = new Map<number, Map<string, Received>>();
  const onMessage = (e: CustomEvent<{ topic: string; data: Uint8Array }>) => {
    if (e.detail.topic !== topic) return;
    try {
      const { body } = rolloutCodec.decode(e.detail.data) as { body: Rollout };
      if (body.node === d.id) return;
      let round = inbox.get(body.round);
      if (!round) inbox.set(body.round, (round = new Map()));
      const from = (e.detail as { from?: { toString(): string } }).from?.toString();
      if (!round.has(body.node)) round.set(body.node, { ...(from ? { from } : {}), rollout: body });
      if (body.round === state.round) set({ heard: round.size });
    } catch {
      // Not a rollout: not kept (the Node peers' validators penalise its sender).
    }
  };
  pubsub.addEventListener('message', onMessage as never);
  // The swarm's starting policy: the worker makes the tab's node from it once, and keeps its own from then on.
  let policy = new Uint8Array(0);
  try {
    policy = new Uint8Array(await (await fetch('/api/swarm-policy', { signal: d.signal })).arrayBuffer());
    while (Date.now() < genesisMs) await sleep(Math.min(1_000, genesisMs - Date.now()));
    let last: number | undefined;
    while (state.history.length < (o.rounds ?? Infinity)) {
      const round = Math.max(Math.floor((Date.now() - genesisMs) / roundMs), last === undefined ? 0 : last + 1);
      for (const r of inbox.keys()) if (r < round) inbox.delete(r); // rounds gone by
      await takeRound(round);
      last = round;
      const m = state.metrics;
      state.history.push({ round, phase: state.phase === 'finished' ? 'finished' : 'failed', ...(state.reward === undefined ? {} : { reward: state.reward, accuracy: state.accuracy }), ...(m && state.phase === 'finished' ? { loss: m.loss, rolloutsIn: m.rolloutsIn, rejected: m.rejected } : {}), ...(state.note ? { note: state.note } : {}) });
      set({});
      if (d.signal.aborted || o.stopping()) break;
    }
    return state;
  } catch (error) {
    if (d.signal.aborted) return state;
    set({ phase: 'failed', note: describeError(error) });
    return state;
  } finally {
    pubsub.removeEventListener('message', onMessage as never);
  }

  /** One round: its rollout made and published, the peers' collected, checked and trained on. */
  async function takeRound(round: number): Promise<void> {
    const end = Math.max(genesisMs + (round + 1) * roundMs, Date.now() + roundMs);
    set({ phase: 'generating', round, heard: inbox.get(round)?.size ?? 0, metrics: undefined, rejections: undefined, recipients: undefined, note: `making its rollout for round ${round} in the worker` });
    const made = await d.worker.start({ config, policy, policyHash: d.info.policy, key: d.key, id: d.id, round });
    const completions = made.rollout.groups.flatMap((g) => g.completions);
    set({
      reward: completions.reduce((s, c) => s + c.reward, 0) / Math.max(1, completions.length),
      accuracy: made.rollout.groups.filter((g) => g.completions.some((c) => c.reward === 1)).length / Math.max(1, made.rollout.groups.length),
      policy: made.blob.hash,
      cid: made.blob.cid,
      seconds: made.seconds,
    });
    await serveBlob(d.host, made.blob, round);

    const bytes = rolloutCodec.encode('rollout', made.rollout);
    set({ phase: 'publishing', rolloutDigest: toHex(sha256Bytes(bytes)), note: 'waiting for a swarm peer on the rollout topic' });
    for (;;) {
      d.signal.throwIfAborted();
      if (Date.now() >= end) return set({ phase: 'failed', note: `round ${round} ended before a swarm peer took its rollout` });
      if (pubsub.getSubscribers(topic).length > 0) {
        const { recipients } = await pubsub.publish(topic, bytes).catch(() => ({ recipients: [] as unknown[] }));
        if (recipients.length > 0) {
          set({ phase: 'collecting', recipients: recipients.length, note: `published its rollout of round ${round} to ${recipients.length} peer${recipients.length === 1 ? '' : 's'}; serving its policy blob ${made.blob.cid.slice(0, 12)}… for their checks; collecting theirs` });
          break;
        }
      }
      await sleep(250);
    }
    // Every peer on the topic heard from, or the round's time is up.
    const inRound = () => inbox.get(round) ?? new Map<string, Received>();
    while (Date.now() < end && inRound().size < pubsub.getSubscribers(topic).length) {
      d.signal.throwIfAborted();
      await sleep(100);
    }
    const received = [...inRound().values()];
    set({ phase: 'checking', note: `checking ${received.length} peer rollout${received.length === 1 ? '' : 's'} and taking the GRPO step in the worker` });
    const plan = await d.worker.plan(received);
    const blobs = await Promise.all(plan.map((p) => fetchPolicyBlob(d.host, p.peer, p.cid)));
    const done = await d.worker.finish(received, plan.map((p, i) => [blobKey(p.peer, p.cid), blobs[i]]));
    await serveBlob(d.host, done.blob, round + 1);
    const m = done.metrics;
    set({
      phase: 'finished',
      metrics: m,
      rejections: done.verdicts.map((v) => `${v.peer.slice(-8)}: ${v.kind}: ${v.reason}`),
      note: `round ${round}: ${m.rolloutsIn} peer question${m.rolloutsIn === 1 ? '' : 's'} accepted (${m.reexecuted} re-executed), ${m.rejected} rejected; GRPO step on ${m.trainedOwn} own + ${m.trainedExternal} peers' questions${m.loss === undefined ? '' : `, loss ${m.loss.toFixed(4)}`}; policy ${m.policy.slice(0, 12)}…`,
    });
  }
}

/** A policy blob is at most this large: a checkpoint of the largest model the tab re-executes is well under it. */
const MAX_POLICY_BYTES = 64 * 2 ** 20;
const FETCH_MS = 10_000;

/**
 * A peer's policy blob from the peer, over the blob protocol (blobs.ts checks it against its CID); finishRound then
 * checks the blob against the rollout's claimed state hash.
 */
async function fetchPolicyBlob(host: TabHost, peer: string, cid: string): Promise<Uint8Array | BlobFailure> {
  const got = await fetchBlobFrom(host, peer, cid, { maxBytes: MAX_POLICY_BYTES, timeoutMs: FETCH_MS });
  if (got instanceof Uint8Array) return got;
  if (got.kind === 'bad') return { kind: 'bad-policy-blob', reason: `${got.reason} (a policy blob of the largest model a tab re-executes, ${JSON.stringify(MAX_PEER_MODEL)}, is far smaller)` };
  return { kind: 'unknown-policy', reason: `the author: ${got.reason}` };
}

/** The round each served policy blob was last used in (published with a rollout, or the start of the next round). */
const lastUsed = new Map<string, number>();

/**
 * Serves the tab's policy blob for `round`; its CID must be the one the swarm's code computed for it. Blobs no peer
 * can still need (last used before the round before) are no longer served, as a Node peer drops them.
 */
async function serveBlob(host: TabHost, blob: { cid: string; bytes: Uint8Array }, round: number): Promise<void> {
  const cid = await serveBytes(host, blob.bytes);
  if (cid !== blob.cid) throw new Error(`the blob's CID here is ${cid}, the swarm computes ${blob.cid}`);
  lastUsed.set(cid, Math.max(round, lastUsed.get(cid) ?? round));
  // sapo-node.ts stalePolicies' rule (that module is Node-only: it keeps its blobs on disk).
  for (const [stale, used] of lastUsed) {
    if (used >= round - 1) continue;
    lastUsed.delete(stale);
    unserve(stale);
  }
}
