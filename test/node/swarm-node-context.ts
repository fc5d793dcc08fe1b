/**
 * Swarm node functions against the coordinator on anvil (test/node/swarm-*-chain tests): one chain for a test file,
 * a data dir for its nodes, and each node's SwarmChainContext (its own wallet, its data under the dir, its log lines
 * gathered with its name).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MycelWalletClient } from '../../src/chain/index.js';
import type { SwarmChainContext } from '../../src/node/swarm-chain.js';
import { setupSwarmChain, type SwarmChain } from '../chain/coordinator-fixture.js';

export type SwarmNodes = { c: SwarmChain; logs: string[]; contextOf(name: string, wallet: MycelWalletClient): SwarmChainContext; stop(): Promise<void> };

/** A chain with `nodes` funded, registered nodes, a temporary data dir named after `prefix`, and the nodes' contexts. */
export async function swarmNodes(prefix: string, nodes: number): Promise<SwarmNodes> {
  const c = await setupSwarmChain({ nodes });
  const dir = await mkdtemp(join(tmpdir(), `mycel-${prefix}-`));
  const logs: string[] = [];
  return {
    c,
    logs,
    contextOf: (name, wallet) => ({
      publicClient: c.publicClient,
      wallet,
      address: wallet.account.address,
      confirmations: 0,
      contracts: { disputeGame: c.game, coordinator: c.coordinator },
      dataDir: join(dir, name),
      log: (text) => logs.push(`${name}: ${text}`),
      tx: () => undefined,
    }),
    async stop() {
      await c.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
