/**
 * The devnet's dashboard: an observer fed by the devnet's events, watching its chain from the moment the contracts
 * are deployed (with the submitter's libp2p node for peers), and reading the chain a last time before the devnet
 * stops it, so that the final jobs, dispute and balances stay on view afterwards.
 */
import { randomBytes } from 'node:crypto';
import { keccak256, type PublicClient } from 'viem';
import { canonicalJson } from '../../train/index.js';
import type { DevnetOptions } from '../devnet.js';
import { jobOf } from '../roles.js';
import { Observer } from './observer.js';
import { serveDashboard, type DashboardServer } from './server.js';

export type DevnetDashboard = {
  observer: Observer;
  server: DashboardServer;
  /** To pass to runDevnet (they call `onEvent` too). */
  hooks: Required<Pick<DevnetOptions, 'onEvent' | 'onReady' | 'onEnd'>>;
  close(): Promise<void>;
};

export async function devnetDashboard(o: { port?: number; onEvent?: DevnetOptions['onEvent'] } = {}): Promise<DevnetDashboard> {
  const observer = new Observer('devnet', 'starting the chain and deploying the contracts');
  const token = randomBytes(24).toString('hex');
  const server = await serveDashboard(observer, { token, ...(o.port === undefined ? {} : { port: o.port }), tokenHint: 'The devnet prints its dashboard URL, with the token, when it starts (stderr); a new devnet has a new token.' });
  return {
    observer,
    server,
    hooks: {
      onEvent: (e) => {
        observer.record(e);
        o.onEvent?.(e);
      },
      onReady: (net) => {
        const specBytes = new TextEncoder().encode(canonicalJson(net.spec));
        const specHash = keccak256(specBytes);
        observer.attachP2p(net.submitter.p2p);
        observer.attachChain({
          rpcUrl: net.rpcUrl,
          chainId: net.chainId,
          publicClient: net.submitter.publicClient as PublicClient,
          contracts: net.contracts,
          fromBlock: 0n,
          accounts: net.accounts,
          // Every devnet job has the devnet's spec; a job whose spec hash differs is not replayed.
          rulesOf: (_jobId, hash) => (hash.toLowerCase() === specHash.toLowerCase() ? jobOf(net.spec).rules : undefined),
        });
        // Browser nodes opened from this dashboard work on the devnet's chain through it (an account the page names
        // needs ETH and MYC first).
        server.setChain({ rpcUrl: net.rpcUrl, chainId: net.chainId, contracts: net.contracts, confirmations: net.submitter.confirmations, spec: async (hash) => (hash.toLowerCase() === specHash.toLowerCase() ? specBytes : undefined) });
        observer.setStatus('running the devnet scenario');
      },
      onEnd: async () => {
        server.setChain(undefined);
        await observer.detachChain();
        observer.setStatus('the scenario is over and its chain stopped: this is its final state');
      },
    },
    async close() {
      observer.close();
      await server.close();
    },
  };
}
