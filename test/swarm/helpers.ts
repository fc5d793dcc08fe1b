/** A tiny SAPO swarm for tests: three fixed keys, a one-layer policy, questions it sometimes answers. */
import { identityFromRaw } from '../../src/p2p/identity.js';
import { parseSapoConfig, type SapoConfigInput } from '../../src/swarm/sapo-config.js';
import { createSapoNode, type SapoNode } from '../../src/swarm/round.js';
import { buildProgram, policySpec } from '../../src/swarm/sapo-policy.js';

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

export function testNodes(count: number, config = testConfig(), seed = 1): SapoNode[] {
  const program = buildProgram(policySpec(config, { model: TINY_MODEL, seed }));
  const policy = program.init();
  return Array.from({ length: count }, (_, i) => createSapoNode({ id: peerIdOf(i), key: keyOf(i), config, program, policy }));
}
