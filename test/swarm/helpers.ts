/** A tiny SAPO swarm for tests: three fixed keys, a one-layer policy, questions it sometimes answers. */
import { identityFromRaw } from '../../src/p2p/identity.js';
import { parseSapoConfig, type SapoConfigInput } from '../../src/swarm/sapo-config.js';
import { createSapoNode, startRound, type SapoNode } from '../../src/swarm/round.js';
import { simRound, type SimMember } from '../../src/swarm/sapo-sim.js';
import { buildProgram, policySpec, pretrainPolicy } from '../../src/swarm/sapo-policy.js';

export const TINY_MODEL = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };

export function testConfig(overrides: Partial<SapoConfigInput> = {}) {
  return parseSapoConfig({ swarmId: 'test', tasks: [{ name: 'modular', config: { modulus: 3 } }], own: 2, external: 2, completions: 4, maxTokens: 3, reexecFraction: 1, ...overrides });
}

export function keyOf(i: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, b) => (b === 31 ? i + 1 : 7));
}

export function peerIdOf(i: number): string {
  return identityFromRaw(keyOf(i)).peerId.toString();
}

/** `count` nodes from one starting policy (`pretrain` supervised steps from the seed's init). */
export function testNodes(count: number, config = testConfig(), seed = 1, pretrain = 0): SapoNode[] {
  const program = buildProgram(policySpec(config, { model: TINY_MODEL, seed, batchSize: 16, lr: 3e-2, steps: pretrain }));
  const policy = pretrainPolicy(program, pretrain);
  return Array.from({ length: count }, (_, i) => createSapoNode({ id: peerIdOf(i), key: keyOf(i), config, program, policy }));
}

/**
 * What must be the same bits everywhere: each round's rollouts (tokens, claimed rewards, signature)
 * and each node's policy hash after its GRPO step, over two rounds of a 2-node swarm.
 */
export function sapoFingerprint(): string {
  const config = testConfig({ tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 2, external: 2, maxTokens: 2, temperature: 0.7 });
  let members: SimMember[] = testNodes(2, config, 1, 20).map((node) => ({ node }));
  const out: string[] = [];
  for (const round of [0, 1]) {
    const sent = members.map((m) => startRound(m.node, round).rollout);
    out.push(sent.map((r) => `${r.groups.map((g) => g.completions.map((c) => `${c.tokens.join('.')}:${c.reward}`).join('/')).join('|')}#${Buffer.from(r.sig).toString('hex').slice(0, 16)}`).join(' '));
    const { members: next, result } = simRound(members, round);
    members = next;
    out.push(result.metrics.map((m) => `${m.policy.slice(0, 16)}:${m.trainedOwn}+${m.trainedExternal}`).join(' '));
  }
  return out.join('\n');
}
