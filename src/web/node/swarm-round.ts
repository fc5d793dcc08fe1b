/**
 * A tab's part in one SAPO swarm round, in its worker: the swarm's own pure round (swarm/round.ts startRound) on the
 * policy the serving node gave it, checked as a peer's policy blob is (openPolicyBlob: its state hash, the swarm
 * tokenizer, a model this runtime can afford). The rollout it returns is signed with the tab's key (its PeerId's), so
 * Node swarm peers check it as any peer's: the questions and answers regenerated from the round's beacon, the rewards
 * recomputed, and a seeded share of the completions regenerated from the tab's policy blob, token for token.
 */
import { createSapoNode, startRound, swarmTokenizer } from '../../swarm/round.js';
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

export function swarmRound(req: SwarmRoundRequest): SwarmRoundResult {
  const started = performance.now();
  const config = parseSapoConfig(req.config);
  const opened = openPolicyBlob(req.policy, { hash: req.policyHash, cid: blobCidOf(req.policy) }, JSON.stringify(swarmTokenizer().toJSON()));
  if (!opened.ok) throw new Error(`the node's swarm policy cannot be used: ${opened.reason}`);
  const node = createSapoNode({ id: req.id, key: req.key, config, program: opened.policy.program, policy: opened.policy.state, round: req.round });
  const { rollout, blob } = startRound(node, req.round);
  return { rollout, blob, seconds: (performance.now() - started) / 1000 };
}
