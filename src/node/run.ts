/**
 * A node's network side, started and stopped as one: its libp2p node (its Ethereum key as its libp2p identity) and
 * the market's announcement topic, with the chain clients of its NodeContext. Used by `mycel node run`, by the
 * devnet's node processes (child.ts) and by the devnet's in-process submitter.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { PublicClient } from 'viem';
import { checkDeployment } from '../chain/code.js';
import { createClients } from '../chain/clients.js';
import { Announcements } from './announce.js';
import { nodeContext, type Emit, type NodeConfig, type NodeContext } from './context.js';
import { startP2p, type P2pOptions } from './p2p.js';

export type RunningNode = NodeContext & { stop(): Promise<void> };

/**
 * How often a node with no connection at all dials its bootstrap peers again: a first dial to a busy or still
 * starting peer can fail, and without a peer a node hears no announcement.
 */
const REDIAL_BOOTSTRAP_MS = 2_000;

/**
 * Starts a node once the deployment's code is this build's (chain/code.ts checkDeployment): a node never acts on a
 * market whose contracts it has not checked.
 * @throws ContractCodeMismatchError, ContractWiringError
 */
export async function startNode(config: NodeConfig, emit: Emit, listen: P2pOptions = {}): Promise<RunningNode> {
  await checkDeployment(createClients({ rpcUrl: config.rpcUrl, chainId: config.chainId }).publicClient as PublicClient, config.contracts);
  const p2p = await startP2p({ privateKey: config.privateKey, dataDir: config.dataDir, bootstrap: config.bootstrap, ...listen });
  const announcements = Announcements.open(p2p, config.chainId, config.contracts.market);
  const ctx = nodeContext(config, emit, { p2p, announcements });
  const redial = setInterval(() => {
    if (p2p.host.getConnections().length > 0) return;
    for (const addr of config.bootstrap) void p2p.host.dial(multiaddr(addr)).catch(() => undefined);
  }, REDIAL_BOOTSTRAP_MS);
  redial.unref();
  return {
    ...ctx,
    async stop() {
      clearInterval(redial);
      announcements.close();
      await p2p.stop().catch(() => undefined);
    },
  };
}
