/**
 * A SAPO node on libp2p: the edges around the pure round (round.ts). Rollouts travel on a gossip topic
 * whose validator runs the cheap checks (a rejected rollout is not forwarded, lowers its sender's gossip
 * score and our reputation of it, and is logged); policy blobs are served and fetched by CID over the
 * blob protocol; metrics and the reward plot go to the data dir.
 *
 * The clock: round r may start at genesis + r * roundMs. A node starts its next round as soon as it has
 * finished the last one, and collects a round's peer rollouts until it has `expectPeers` of them or the
 * round's time is up. A node that fell behind (or joins late) starts at the clock's current round.
 *
 * With `expectPeers` the swarm is paced by its peers and the clock is only the bound: after a round in
 * which every expected peer was heard, the node goes on to the next round even when the clock is
 * further on (rounds that take longer than roundMs are not a reason to skip: everyone is there), and
 * it waits for its peers at least roundMs from when it is ready to publish. After a round in which
 * someone was missing, the clock decides again (a node that stalled or joined late skips to the
 * clock's round, where the others, waiting on the clock for the missing peer, meet it).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBlobCid } from '../p2p/blob/manifest.js';
import { MycelError } from '../platform/errors.js';
import type { GossipTopic } from '../p2p/gossip.js';
import type { MycelNode } from '../p2p/node.js';
import { checkRollout } from './rollout-check.js';
import { MAX_ROLLOUT_BYTES, ROLLOUT_SCHEMAS, rolloutCodec, rolloutSignatureValid, rolloutTopic, type Rollout } from './rollout-message.js';
import { blobKey, dropPeer, type BlobFailure, finishRound, publishedGroupsOf, reexecPlan, type PublishedGroup, startRound, type RoundMetrics, type RoundVerdict, type SapoNode } from './round.js';
import type { UsedGroup } from './grpo-step.js';
import { appendMetrics, readMetrics, writePlot } from './sapo-metrics.js';
import { corrupt, type HostileKind } from './sapo-adversary.js';
import type { TrainState } from '../train/state.js';
import type { Gpt } from '../nn/index.js';

/** What a failed re-execution or a forged rollout costs a peer in our reputation (gossip scores it too). */
export const PENALTY_ROLLOUT = -30;
/** How long a node waits for a peer's policy blob before it calls the policy unknown. */
const BLOB_FETCH_TIMEOUT_MS = 10_000;
const POLL_MS = 50;
/** How many of a peer's rounds a replay of is caught and blamed; a replay of an older one is ignored as late (harmless). */
const REPLAY_MEMORY = 32;
const WAIT_REPORT_MS = 10_000;

/**
 * When a peer's rollout of `round` may be taken, from the rounds alone: `node` is this node's round, `clock` the clock's,
 * `sent` the rounds of the peer's earlier rollouts that reached this check, whatever became of them. An honest node
 * sends one rollout a round, so a second one of a round is a replay (the peer is dropped); a round this node has
 * finished is late (ignored without blame). An older round that arrives after a newer one is not a replay: gossip may
 * bring a peer's rounds out of order over two paths. A node behind the clock (stalled, suspended, just joined) hears
 * the rounds it is about to skip to: its peers' honest work, kept for when it gets there; only a round ahead of the
 * clock too is wrong.
 */
export function judgeRound(round: number, { node, clock, sent }: { node: number; clock: number; sent: ReadonlySet<number> | undefined }): { reject?: string; drop?: string; ignore?: string } {
  if (sent?.has(round)) {
    const reason = `replay: a second rollout of round ${round} from this peer`;
    return { reject: reason, drop: reason };
  }
  if (round < node) return { ignore: `late: rollout of round ${round}, this node is in round ${node}` };
  const newest = Math.max(node, clock) + 1;
  if (round > newest) return { reject: `wrong-round: rollout of round ${round}, this node is in round ${node} and the clock in round ${clock}` };
  return {};
}

/**
 * The policy blobs a node no longer needs after finishing `round`: those last used (published, or
 * fetched to re-execute) two rounds ago or earlier. Peers fetch a policy to check the rollout it made
 * while that round is open, and a peer one round behind the node is still checking the previous round,
 * so the blobs of the round just finished and of the one before stay.
 */
export function stalePolicies(lastUsed: ReadonlyMap<string, number>, round: number): string[] {
  return [...lastUsed].filter(([, r]) => r < round - 1).map(([cid]) => cid);
}

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
  /**
   * The round's commitment inputs, once its rollout is published (a node driving the swarm coordinator commits them:
   * node/swarm-node-chain.ts): the rollout as sent, its published groups (publishedGroupsOf: the leaves of its
   * rollouts root) and the policy that generated it.
   */
  onPublished?: (p: { round: number; rollout: Rollout; groups: readonly PublishedGroup[]; policy: TrainState; model: Gpt }) => void;
  /**
   * The round's end: the peers' rollouts received, the authors of the external questions its GRPO step trained on,
   * the groups it trained on in batch order (the used groups of its next commitment), and the signed rollouts it
   * refused (dropped peers', or failing the checks), which its chain side may still dispute.
   */
  onFinished?: (f: { round: number; received: readonly Rollout[]; refused: readonly Rollout[]; trainedFrom: readonly string[]; used: readonly UsedGroup[] }) => void;
};

export async function runSapoNode(o: SapoRunOptions): Promise<SapoNode> {
  const now = o.now ?? Date.now;
  const clockRound = () => Math.max(0, Math.floor((now() - o.genesisMs) / o.roundMs));
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
    o.p2p.penalise(v.peer, PENALTY_ROLLOUT, `${v.kind}: ${v.reason}`);
    o.onEvent({ type: 'reject', peer: v.peer, round: v.round, kind: v.kind, reason: v.reason });
  };
  /** Per peer, the rounds of its rollouts judged so far (the newest REPLAY_MEMORY): a second rollout of one is a replay. */
  const sentRounds = new Map<string, Set<number>>();
  const sent = (peer: string, round: number) => {
    let rounds = sentRounds.get(peer);
    if (!rounds) sentRounds.set(peer, (rounds = new Set()));
    rounds.add(round);
    if (rounds.size > REPLAY_MEMORY) rounds.delete(Math.min(...rounds));
  };
  const drop = (peer: string, reason: string) => {
    state = dropPeer(state, peer, reason);
  };
  /**
   * Per round, the signed rollouts refused (a dropped peer's, or one that failed the checks), one per author: not
   * trained on, but what their authors committed on chain can still be disputed (onFinished's `refused`).
   */
  const refused = new Map<number, Map<string, Rollout>>();
  const keepRefused = (body: Rollout) => {
    if (body.round < state.round || body.round > clockRound() + 1 || refused.get(body.round)?.has(body.node) || !rolloutSignatureValid(body)) return;
    if (!refused.has(body.round)) refused.set(body.round, new Map());
    refused.get(body.round)!.set(body.node, body);
  };
  const topic = o.p2p.topic(rolloutTopic(config.swarmId), ROLLOUT_SCHEMAS, {
    maxBytes: MAX_ROLLOUT_BYTES,
    check: ({ body }, origin) => {
      const dropped = state.dropped.get(origin);
      if (dropped !== undefined) {
        keepRefused(body);
        return `dropped-peer: dropped earlier (${dropped})`;
      }
      const timing = judgeRound(body.round, { node: state.round, clock: clockRound(), sent: sentRounds.get(origin) });
      sent(origin, body.round);
      if (timing.drop) drop(origin, timing.drop);
      if (timing.reject) return timing.reject;
      if (timing.ignore) return { ignore: timing.ignore };
      const verdict = checkRollout(config, tokenizer, body, { round: body.round, from: origin });
      if (!verdict.ok) {
        drop(origin, `${verdict.kind}: ${verdict.reason}`);
        keepRefused(body);
        return `${verdict.kind}: ${verdict.reason}`;
      }
      hear(body.round, origin);
      return undefined;
    },
    onReject: (origin, reason) => {
      // A message that does not decode (oversized, garbage) is the origin's doing: drop it like any cheat.
      // (gossipsub need not count it against the origin's score itself: the behaviour penalty does.)
      if (reason.startsWith('malformed')) {
        drop(origin, reason);
        o.p2p.penalise(origin, PENALTY_ROLLOUT, reason);
      }
      o.onEvent({ type: 'reject', peer: origin, round: state.round, kind: reason.split(':')[0], reason });
    },
  });
  /** Whether every peer we expect is accounted for this round: heard from, or dropped. */
  const allIn = (round: number) => new Set([...(heard.get(round) ?? []), ...state.dropped.keys()]).size >= (o.expectPeers ?? Infinity);
  /** Whether every peer we expect is subscribed (or dropped), so a publish reaches them all. */
  const allSubscribed = () => new Set([...topic.subscribers(), ...state.dropped.keys()]).size >= (o.expectPeers ?? 0);
  const unsubscribe = topic.subscribe(({ body, from }) => {
    if (body.round < state.round) return;
    let round = inbox.get(body.round);
    if (!round) inbox.set(body.round, (round = new Map()));
    if (!round.has(body.node)) round.set(body.node, { from, rollout: body });
  });
  const policyDir = join(o.dataDir, 'policies');
  await mkdir(policyDir, { recursive: true });
  const published = new Map<string, string>(); // CID -> the policy file it was published from
  /** Per policy blob (by CID), the last round that used it: published by this node or fetched to re-execute. */
  const lastUsed = new Map<string, number>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Polls `done` until the deadline, saying every WAIT_REPORT_MS what it still waits for. */
  const waitUntil = async (done: () => boolean, until: number, what?: () => string) => {
    let report = now() + WAIT_REPORT_MS;
    while (!done() && now() < until && !o.signal.aborted) {
      await sleep(POLL_MS);
      if (what && now() >= report) {
        o.onEvent({ type: 'log', message: what() });
        report = now() + WAIT_REPORT_MS;
      }
    }
  };
  const expected = () => `${o.p2p.peers().length} connected, expecting ${o.expectPeers ?? 'any number of'} peers`;
  let previous: Rollout | undefined;
  /** Whether the last round finished heard every expected peer (then the peers, not the clock, pace the next). */
  let heardAll = false;
  /** The round just finished: the policy blob our rollout claims, and the peers whose rollouts we took (they check ours). */
  let finished: { round: number; end: number; cid: string; checkers: string[] } | undefined;

  try {
    await waitUntil(() => false, o.genesisMs);
    while (!o.signal.aborted) {
      const round = o.expectPeers !== undefined && heardAll ? state.round : Math.max(state.round, clockRound());
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
        published.set(cid, file);
      }
      lastUsed.set(started.blob.cid, round);
      let rollout = started.rollout;
      let bytes: Uint8Array | undefined;
      if (o.hostile) {
        const out = corrupt(o.hostile, rollout, { key: state.key, blob: started.blob, previous, maxBytes: MAX_ROLLOUT_BYTES, config, tokenizer });
        if (out.rollout) rollout = out.rollout;
        bytes = out.bytes;
        // Serves other bytes under the CID: the store's copy is overwritten in place (same size).
        for (const [cid, tampered] of out.blobs ?? []) await writeFile(o.p2p.store.paths(parseBlobCid(cid)).data, tampered);
      }
      previous = started.rollout;
      o.onPublished?.({ round, rollout, groups: publishedGroupsOf(state, rollout), policy: state.policy, model: state.program.model });
      // The round's bound: its end on the clock; with expectPeers, also at least roundMs from now, so a node behind
      // the clock (its peers too) still waits for them instead of finishing with nothing.
      const ready = now();
      const end = Math.max(o.genesisMs + (round + 1) * o.roundMs, o.expectPeers === undefined ? 0 : ready + o.roundMs);
      // A peer that never subscribes must not cost the round: waiting for it until the end left no time to
      // collect the rollouts the others published at that same end. Publish by half-way at the latest.
      await waitUntil(allSubscribed, ready + (end - ready) / 2, () => `round ${round}: waiting to publish until every peer subscribed: ${topic.subscribers().length} subscribed, ${state.dropped.size} dropped, ${expected()}`);
      await publish(topic, bytes ?? rolloutCodec.encode('rollout', rollout), end, now, sleep, o.signal);
      await waitUntil(() => allIn(round), end, () => `round ${round}: waiting for rollouts: ${heard.get(round)?.size ?? 0} peers heard, ${state.dropped.size} dropped, ${expected()}`);
      heardAll = allIn(round);
      const received = [...(inbox.get(round)?.values() ?? [])];
      const blobs = new Map<string, Uint8Array | BlobFailure | undefined>();
      const plans = reexecPlan(state, received);
      const fetched = await Promise.all(plans.map((plan) => fetchPolicy(o.p2p, plan.cid, plan.peer)));
      plans.forEach((plan, i) => blobs.set(blobKey(plan.peer, plan.cid), fetched[i]));
      for (const plan of plans) lastUsed.set(plan.cid, round);
      const done = finishRound(state, { rollouts: received, blobs });
      state = done.node;
      const rejected = new Set(done.verdicts.map((v) => v.peer));
      // (A peer whose policy is ours, the same CID, holds the blob already.)
      const checkers = received.filter((r) => r.rollout.cid !== started.blob.cid && !rejected.has(r.rollout.node) && !state.dropped.has(r.rollout.node));
      finished = { round, end, cid: started.blob.cid, checkers: checkers.map((r) => r.rollout.node) };
      o.onFinished?.({ round, received: received.map((r) => r.rollout), refused: [...(refused.get(round)?.values() ?? [])], trainedFrom: done.metrics.externalFrom, used: done.used });
      for (const v of done.verdicts) if (v.kind !== 'dropped-peer') reject(v);
      for (const r of [...inbox.keys()]) if (r <= round) inbox.delete(r);
      for (const r of [...heard.keys()]) if (r <= round) heard.delete(r);
      for (const r of [...refused.keys()]) if (r <= round) refused.delete(r);
      // Old policy blobs go (a policy file per round would fill the disk): the store's copy, and our file of it.
      for (const cid of stalePolicies(lastUsed, round)) {
        lastUsed.delete(cid);
        await o.p2p.removeBlob(cid);
        const file = published.get(cid);
        published.delete(cid);
        if (file) await rm(file, { force: true });
      }
      await appendMetrics(o.dataDir, done.metrics);
      await writePlot(o.dataDir, (await readMetrics(o.dataDir)).filter((m) => m.node === state.id), `SAPO reward per round, node …${state.id.slice(-6)}`);
      o.onEvent({ type: 'round', metrics: done.metrics, seconds: (now() - t0) / 1000 });
    }
    // Stopping after the last round: peers still checking it re-execute from our policy blob, so it is served
    // until each peer whose rollout we took has fetched it, or the round's time is up (a peer that sampled
    // none of our questions never fetches it).
    if (finished && config.reexecFraction > 0 && !o.signal.aborted) {
      const { round, end, cid, checkers } = finished;
      const fetched = () => checkers.filter((p) => o.p2p.peersServed(cid).has(p)).length;
      await waitUntil(() => fetched() === checkers.length, end, () => `round ${round} done: serving our policy blob until our peers have fetched it: ${fetched()} of ${checkers.length}`);
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

/** The policy blob from its author (or whoever has it), or why none came: a provider whose chunks did not hash to the CID is named. */
export async function fetchPolicy(p2p: MycelNode, cid: string, provider: string): Promise<Uint8Array | BlobFailure> {
  try {
    await p2p.fetch(cid, { providers: [provider], timeoutMs: BLOB_FETCH_TIMEOUT_MS });
    return await readFile(p2p.store.paths(parseBlobCid(cid)).data);
  } catch (error) {
    const details = error instanceof MycelError ? (error.details ?? '') : '';
    if (/bad chunk/.test(details)) return { kind: 'bad-policy-blob', reason: `the policy blob ${cid} served by its author does not hash to its CID (${details})` };
    return { kind: 'unknown-policy', reason: `no peer served the policy blob ${cid} (${(error as Error).message.split('\n')[0]})` };
  }
}
