/**
 * A tab's part in SAPO swarm rounds, in its worker, with the swarm's own pure round (swarm/round.ts): the node is
 * made once from the policy the serving node gave it, checked as a peer's policy blob is (openPolicyBlob: its state
 * hash, the swarm tokenizer, a model this runtime can afford), and kept across rounds. startRound makes the tab's
 * rollout, signed with its key (its PeerId's), so Node peers check it as any peer's: questions and answers
 * regenerated from the round's beacon, rewards recomputed, and a seeded share of the completions regenerated from
 * the tab's policy blob, token for token. reexecPlan names the peers' policy blobs the round re-executes from (the
 * page fetches them over libp2p), and finishRound checks the peers' rollouts and takes the GRPO step.
 */
import { createSapoNode, finishRound, reexecPlan, startRound, swarmTokenizer, type BlobFailure, type RoundMetrics, type RoundVerdict, type SapoNode } from '../../swarm/round.js';
import type { Rollout } from '../../swarm/rollout-message.js';
import { blobCidOf, openPolicyBlob, type PolicyBlob } from '../../swarm/rollout-policy.js';
import { parseSapoConfig, type SapoConfigInput } from '../../swarm/sapo-config.js';

export type SwarmRoundRequest = {
  config: SapoConfigInput;
  /** The starting policy's checkpoint, as the serving node gave it, and the state hash it says it holds. */
  policy: Uint8Array;
  policyHash: string;
  /** The tab's key (its PeerId's): it signs the rollout. */
  key: Uint8Array;
  id: string;
  round: number;
};

export type SwarmRoundResult = { rollout: Rollout; blob: PolicyBlob; seconds: number };
export type Received = { from?: string; rollout: Rollout };
export type SwarmFinishResult = { metrics: RoundMetrics; verdicts: RoundVerdict[]; blob: PolicyBlob; seconds: number };

/** The tab's swarm node, kept in the worker between its rounds (its policy moves with each GRPO step). */
let node: SapoNode | undefined;

export function swarmRound(req: SwarmRoundRequest): SwarmRoundResult {
  const started = performance.now();
  if (!node) {
    const config = parseSapoConfig(req.config);
    const opened = openPolicyBlob(req.policy, { hash: req.policyHash, cid: blobCidOf(req.policy) }, JSON.stringify(swarmTokenizer().toJSON()));
    if (!opened.ok) throw new Error(`the node's swarm policy cannot be used: ${opened.reason}`);
    node = createSapoNode({ id: req.id, key: req.key, config, program: opened.policy.program, policy: opened.policy.state, round: req.round });
  }
  const made = startRound(node, Math.max(req.round, node.round));
  node = made.node;
  return { rollout: made.rollout, blob: made.blob, seconds: (performance.now() - started) / 1000 };
}

/** The peers' policy blobs this round re-executes from: (peer, CID) pairs for the page to fetch. */
export function swarmPlan(rollouts: Received[]): { peer: string; cid: string }[] {
  if (!node) throw new Error('no swarm round started in this worker');
  return reexecPlan(node, rollouts).map(({ peer, cid }) => ({ peer, cid }));
}

export function swarmFinish(rollouts: Received[], blobs: [string, Uint8Array | BlobFailure][]): SwarmFinishResult {
  if (!node) throw new Error('no swarm round started in this worker');
  const started = performance.now();
  const done = finishRound(node, { rollouts, blobs: new Map(blobs) });
  node = done.node;
  return { metrics: done.metrics, verdicts: done.verdicts, blob: done.node.blob, seconds: (performance.now() - started) / 1000 };
}
