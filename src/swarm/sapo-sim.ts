/**
 * A whole swarm in one process: the same node code (round.ts) as `mycel swarm start`, with an
 * in-memory transport in place of gossip and the blob protocol. Every rollout still crosses it as
 * codec bytes (versioned, size-limited, schema-checked) and every blob is checked against its CID
 * and state hash, so hostile nodes meet the same checks as over libp2p. For the bench and tests.
 */
import { MalformedMessageError } from '../p2p/errors.js';
import { corrupt, type HostileKind } from './sapo-adversary.js';
import { MAX_ROLLOUT_BYTES, rolloutCodec, type Rollout } from './rollout-message.js';
import { openPolicyBlob, type OpenedPolicy } from './rollout-policy.js';
import type { UsedGroup } from './grpo-step.js';
import { blobKey, finishRound, reexecPlan, startRound, type RoundMetrics, type RoundVerdict, type SapoNode } from './round.js';

export type SimMember = { node: SapoNode; hostile?: HostileKind; previous?: Rollout };

export type SimRound = {
  round: number;
  metrics: RoundMetrics[];
  /** Per member, as metrics: the groups its GRPO step trained on, in batch order. */
  used: UsedGroup[][];
  verdicts: RoundVerdict[];
  /** Rollout bytes every node published (what gossip carries once per receiver). */
  bytes: number;
  seconds: number;
};

/** One round of every member, in lockstep: all publish, then each checks, re-executes and trains. */
export function simRound(members: SimMember[], round: number): { members: SimMember[]; result: SimRound } {
  const started = performance.now();
  const wire: { from: string; bytes: Uint8Array }[] = [];
  // What each node serves, by CID: a blob is fetched from the rollout's author (the provider it names).
  const blobs = new Map<string, Uint8Array>();
  const served = blobKey;
  const next: SimMember[] = members.map((m) => {
    const { node, rollout, blob } = startRound(m.node, round);
    blobs.set(served(node.id, blob.cid), blob.bytes);
    if (!m.hostile) {
      wire.push({ from: node.id, bytes: rolloutCodec.encode('rollout', rollout) });
      return { ...m, node, previous: rollout };
    }
    const out = corrupt(m.hostile, rollout, { key: node.key, blob, previous: m.previous, maxBytes: MAX_ROLLOUT_BYTES, config: node.config, tokenizer: node.program.tokenizer });
    for (const [cid, bytes] of out.blobs ?? []) blobs.set(served(node.id, cid), bytes);
    wire.push({ from: node.id, bytes: out.bytes ?? rolloutCodec.encode('rollout', out.rollout!) });
    return { ...m, node, previous: rollout };
  });
  const metrics: RoundMetrics[] = [];
  const used: UsedGroup[][] = [];
  const verdicts: RoundVerdict[] = [];
  // Every node is handed the same bytes for a claim; opening them is pure, so it runs once per round.
  const openedBy = new Map<Uint8Array, Map<string, OpenedPolicy>>();
  const open: typeof openPolicyBlob = (bytes, claim, tokenizerJson) => {
    const byClaim = openedBy.get(bytes) ?? openedBy.set(bytes, new Map()).get(bytes)!;
    const key = `${claim.hash} ${claim.cid} ${tokenizerJson}`;
    return byClaim.get(key) ?? byClaim.set(key, openPolicyBlob(bytes, claim, tokenizerJson)).get(key)!;
  };
  const after = next.map((m) => {
    const received: { from: string; rollout: Rollout }[] = [];
    for (const w of wire) {
      if (w.from === m.node.id) continue;
      try {
        received.push({ from: w.from, rollout: rolloutCodec.decode(w.bytes).body });
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        verdicts.push({ peer: w.from, round, kind: 'malformed', reason: `malformed message: ${error.shortMessage}` });
      }
    }
    const wanted = new Map(reexecPlan(m.node, received).map((p) => [served(p.peer, p.cid), blobs.get(served(p.peer, p.cid))]));
    const done = finishRound(m.node, { rollouts: received, blobs: wanted, open });
    metrics.push(done.metrics);
    used.push(done.used);
    verdicts.push(...done.verdicts.map((v) => ({ ...v, by: m.node.id })));
    return { ...m, node: done.node };
  });
  const bytes = wire.reduce((n, w) => n + w.bytes.length, 0);
  return { members: after, result: { round, metrics, used, verdicts, bytes, seconds: (performance.now() - started) / 1000 } };
}
