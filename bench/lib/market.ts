/**
 * A market on a fresh anvil for the long-running simulations (bench soak, bench scale and their tests): the contracts
 * with the real DisputeGame, role accounts funded, approved and (solvers, verifiers) registered, a block a second so
 * that challenge windows close, and a small job spec whose seed varies per job (every job is a distinct spec, as on a
 * real market, so a cache keyed by spec cannot hide a leak).
 */
import { parseUnits, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients } from '../../src/chain/clients.js';
import { deployMycel } from '../../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { approve, register } from '../../src/chain/index.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import type { Contracts, NodeConfig } from '../../src/node/context.js';
import { parseJobSpec, type JobSpec } from '../../src/train/index.js';

export const TOKENS = (n: number | string) => parseUnits(String(n), 18);
export const REWARD = TOKENS(10);
export const STAKE = TOKENS(5);
/** The market's least challenge window, in blocks (a block a second): long enough for a verifier of the tiny job. */
export const WINDOW_BLOCKS = 15n;

export type Market = {
  anvil: Anvil;
  contracts: Contracts;
  publicClient: PublicClient;
  /** Role account keys (anvil accounts 1..9); the first `roles` funded with MYC, approved for the market, registered. */
  keys: Hex[];
  /** The config of a node on this market (fromBlock: where it starts reading market events). */
  config(o: { name: string; privateKey: Hex; dataDir: string; bootstrap: string[]; fromBlock: bigint }): NodeConfig;
  stop(): Promise<void>;
};

/** `roles`: how many role accounts to fund, approve and register (default all 9; a run without jobs needs none). */
export async function startMarket({ roles = 9 }: { roles?: number } = {}): Promise<Market> {
  const anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  try {
    const clients = anvil.accounts.map((a) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }));
    const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
    const { publicClient, testClient } = clients[0];
    const d = await deployMycel(wallets[0], { disputeGame: { clock: 300 }, minStake: TOKENS(100), unbondingDelay: 1_000n, minChallengeWindow: WINDOW_BLOCKS });
    const contracts: Contracts = { token: d.token, registry: d.registry, market: d.market, disputeGame: d.disputeGame! };
    for (const w of wallets.slice(1, 1 + roles)) {
      await send(wallets[0], { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [w.account.address, TOKENS(1_000_000)] });
      await approve(w, { token: d.token, spender: d.registry, amount: TOKENS(100) });
      await approve(w, { token: d.token, spender: d.market, amount: TOKENS(1_000_000) });
      await register(w, { registry: d.registry, stake: TOKENS(100) });
    }
    // The dev chain mines on transactions only: a block a second moves its clock on (windows close, deadlines pass).
    const ticker = setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), 1_000);
    return {
      anvil,
      contracts,
      publicClient: publicClient as PublicClient,
      keys: anvil.accounts.slice(1).map((a) => a.privateKey),
      config: (o) => ({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, contracts, confirmations: 0, ...o }),
      async stop() {
        clearInterval(ticker);
        await anvil.stop();
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

/** A tiny GPT job (a few seconds to train and to re-execute on a loaded machine); `seed` makes each job its own spec. */
export function tinySpec(seed: number, steps = 4): JobSpec {
  return parseJobSpec({
    version: 1,
    model: { kind: 'gpt', contextLength: 10, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 },
    optimizer: { kind: 'adamw', lr: 0.01, clip: 1, schedule: { kind: 'warmup-cosine', warmup: 2, floor: 0.1 } },
    data: { kind: 'task', task: 'addition', config: { digits: 2 } },
    steps,
    batchSize: 4,
    seed,
    checkpointEvery: 2,
  });
}

/** Least-squares slope of y over x (NaN with fewer than two distinct x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/**
 * Theil-Sen slope of y over x: the median of the slopes between every two points (NaN with fewer than two distinct
 * x). A soak's samples catch a job's live tensors now and then (tens of MB for a sample): one such sample near the end
 * of a run moves the least-squares slope by as much as a leak would, the median of pairwise slopes hardly at all.
 */
export function medianSlope(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  if (slopes.length === 0) return NaN;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
}

/** The p-th percentile (0..100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
