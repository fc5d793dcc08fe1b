/**
 * A SAPO node on libp2p: the edges around the pure round (round.ts). Rollouts travel on a gossip topic
 * whose validator runs the cheap checks (a rejected rollout is not forwarded, lowers its sender's gossip
 * score and our reputation of it, and is logged); policy blobs are served and fetched by CID over the
 * blob protocol; metrics and the reward plot go to the data dir.
 *
 * The clock: round r may start at genesis + r * roundMs. A node starts its next round as soon as it has
 * finished the last one and the clock allows it, and collects a round's peer rollouts until it has
 * `expectPeers` of them or the round's time is up. A node that fell behind (or joins late) starts at the
 * clock's current round.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBlobCid } from '../p2p/blob/manifest.js';
import type { GossipTopic } from '../p2p/gossip.js';
import type { MycelNode } from '../p2p/node.js';
import { checkRollout } from './rollout-check.js';
import { MAX_ROLLOUT_BYTES, ROLLOUT_SCHEMAS, rolloutCodec, rolloutTopic, type Rollout } from './rollout-message.js';
import { blobKey, dropPeer, finishRound, reexecPlan, startRound, type RoundMetrics, type RoundVerdict, type SapoNode } from './round.js';
import { appendMetrics, readMetrics, writePlot } from './sapo-metrics.js';
import { corrupt, type HostileKind } from './sapo-adversary.js';

/** What a failed re-execution or a forged rollout costs a peer in our reputation (gossip scores it too). */
export const PENALTY_ROLLOUT = -30;
/** How long a node waits for a peer's policy blob before it calls the policy unknown. */
const BLOB_FETCH_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

export type SapoEvent =
  | { type: 'round'; metrics: RoundMetrics; seconds: number }
  | { type: 'reject'; peer: string; round: number; kind: string; reason: string }
  | { type: 'skip'; from: number; to: number }
  | { type: 'log'; message: string };

export type SapoRunOptions = {
  p2p: MycelNode;
  node: SapoNode;
  dataDir: string;
  genesisMs: number;
  roundMs: number;
  /** Stop before this round (undefined: run until the signal). */
  rounds?: number;
  /** Finish collecting a round as soon as this many peers' rollouts are in (default: wait for the round's end). */
  expectPeers?: number;
  signal: AbortSignal;
  onEvent: (event: SapoEvent) => void;
  /** For tests of the swarm's defences: this node sends this kind of hostile rollout. */
  hostile?: HostileKind;
  now?: () => number;
};

export async function runSapoNode(o: SapoRunOptions): Promise<SapoNode> {
  const now = o.now ?? Date.now;
  let state = o.node;
  const { config } = state;
  const tokenizer = state.program.tokenizer;
  const inbox = new Map<number, Map<string, { from: string; rollout: Rollout }>>();
  /** Per round, the peers heard from, accepted or rejected: a round need not wait for a peer already judged. */
  const heard = new Map<number, Set<string>>();
  const hear = (round: number, peer: string) => {
    let set = heard.get(round);
    if (!set) heard.set(round, (set = new Set()));
    set.add(peer);
  };
  const reject = (v: RoundVerdict) => {
    o.p2p.reputation.penalise(v.peer, PENALTY_ROLLOUT, `${v.kind}: ${v.reason}`);
    o.onEvent({ type: 'reject', peer: v.peer, round: v.round, kind: v.kind, reason: v.reason });
  };
  const topic = o.p2p.topic(rolloutTopic(config.swarmId), ROLLOUT_SCHEMAS, {
    maxBytes: MAX_ROLLOUT_BYTES,
    check: ({ body }, origin) => {
      hear(body.round, origin);
      const dropped = state.dropped.get(origin);
      if (dropped !== undefined) return `dropped-peer: dropped earlier (${dropped})`;
      // One round of slack either way: peers finish rounds at their own pace.
      if (body.round + 1 < state.round || body.round > state.round + 1) return `wrong-round: rollout of round ${body.round}, this node is in round ${state.round}`;
      const verdict = checkRollout(config, tokenizer, body, { round: body.round, from: origin });
      if (verdict.ok) return undefined;
      state = dropPeer(state, origin, `${verdict.kind}: ${verdict.reason}`);
      return `${verdict.kind}: ${verdict.reason}`;
    },
    onReject: (origin, reason) => o.onEvent({ type: 'reject', peer: origin, round: state.round, kind: reason.split(':')[0], reason }),
  });
  const unsubscribe = topic.subscribe(({ body, from }) => {
    if (body.round < state.round) return;
    let round = inbox.get(body.round);
    if (!round) inbox.set(body.round, (round = new Map()));
    if (!round.has(body.node)) round.set(body.node, { from, rollout: body });
  });
  const policyDir = join(o.dataDir, 'policies');
  await mkdir(policyDir, { recursive: true });
  const published = new Set<string>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const waitUntil = async (done: () => boolean, until: number) => {
    while (!done() && now() < until && !o.signal.aborted) await sleep(POLL_MS);
  };
  const clockRound = () => Math.max(0, Math.floor((now() - o.genesisMs) / o.roundMs));
  let previous: Rollout | undefined;

  try {
    await waitUntil(() => false, o.genesisMs);
    while (!o.signal.aborted) {
      const round = Math.max(state.round, clockRound());
      if (o.rounds !== undefined && round >= o.rounds) break;
      if (round > state.round) o.onEvent({ type: 'skip', from: state.round, to: round });
      const t0 = now();
      const started = startRound(state, round);
      state = started.node;
      if (!published.has(started.blob.cid)) {
        const file = join(policyDir, `${started.blob.hash}.safetensors`);
        await writeFile(file, started.blob.bytes);
        const { cid } = await o.p2p.putFile(file);
        if (cid !== started.blob.cid) throw new Error(`the blob store gave the policy CID ${cid}, the swarm computes ${started.blob.cid}`);
        published.add(cid);
      }
      let rollout = started.rollout;
      let bytes: Uint8Array | undefined;
      if (o.hostile) {
        const out = corrupt(o.hostile, rollout, { key: state.key, blob: started.blob, previous, maxBytes: MAX_ROLLOUT_BYTES });
        if (out.rollout) rollout = out.rollout;
        bytes = out.bytes;
      }
      previous = started.rollout;
      const end = o.genesisMs + (round + 1) * o.roundMs;
      await publish(topic, bytes ?? rolloutCodec.encode('rollout', rollout), end, now, sleep, o.signal);
      await waitUntil(() => (heard.get(round)?.size ?? 0) >= (o.expectPeers ?? Infinity), end);
      const received = [...(inbox.get(round)?.values() ?? [])];
      const blobs = new Map<string, Uint8Array | undefined>();
      for (const plan of reexecPlan(state, received)) blobs.set(blobKey(plan.peer, plan.cid), await fetchPolicy(o.p2p, plan.cid, plan.peer));
      const done = finishRound(state, { rollouts: received, blobs });
      state = done.node;
      for (const v of done.verdicts) if (v.kind !== 'dropped-peer') reject(v);
      for (const r of [...inbox.keys()]) if (r <= round) inbox.delete(r);
      for (const r of [...heard.keys()]) if (r <= round) heard.delete(r);
      await appendMetrics(o.dataDir, done.metrics);
      await writePlot(o.dataDir, (await readMetrics(o.dataDir)).filter((m) => m.node === state.id), `SAPO reward per round, node …${state.id.slice(-6)}`);
      o.onEvent({ type: 'round', metrics: done.metrics, seconds: (now() - t0) / 1000 });
    }
  } finally {
    unsubscribe();
  }
  return state;
}

/** Publishes, retrying while no peer is subscribed yet (the mesh forms within a heartbeat or two). */
async function publish(topic: GossipTopic<typeof ROLLOUT_SCHEMAS>, bytes: Uint8Array, until: number, now: () => number, sleep: (ms: number) => Promise<unknown>, signal: AbortSignal): Promise<void> {
  for (;;) {
    try {
      if ((await topic.publishRaw(bytes)) > 0 || now() >= until || signal.aborted) return;
    } catch {
      if (now() >= until || signal.aborted) return;
    }
    await sleep(250);
  }
}

async function fetchPolicy(p2p: MycelNode, cid: string, provider: string): Promise<Uint8Array | undefined> {
  try {
    await p2p.fetch(cid, { providers: [provider], timeoutMs: BLOB_FETCH_TIMEOUT_MS });
    return await readFile(p2p.store.paths(parseBlobCid(cid)).data);
  } catch {
    return undefined;
  }
}
