/**
 * Joining a deployed network: the contract addresses (from a deployment file, or read from the market alone) and the
 * on-chain setup a role needs before it acts (a solver or verifier is registered with a bond; every role lets the
 * market take its stakes and rewards).
 */
import { readFile } from 'node:fs/promises';
import { getAddress, isAddress, maxUint256, type Address, type PublicClient } from 'viem';
import { readContract } from 'viem/actions';
import { approve, getNode, register } from '../chain/index.js';
import { publicKeyOf } from '../chain/actions/register.js';
import { JobMarketAbi } from '../chain/generated/JobMarket.js';
import { NodeRegistryAbi } from '../chain/generated/NodeRegistry.js';
import { MycelError } from '../platform/errors.js';
import type { Contracts, NodeContext } from './context.js';

/** Dev chains (anvil, hardhat) mine only when a transaction comes, and do not reorg. */
const DEV_CLIENT = /anvil|hardhat|ganache/i;

export async function isDevChain(client: PublicClient): Promise<boolean> {
  return DEV_CLIENT.test(await client.request({ method: 'web3_clientVersion' }).catch(() => ''));
}

/** A deployment file that does not name the contracts. */
export class DeploymentFileError extends MycelError {
  override name = 'DeploymentFileError';
  constructor(path: string, problem: string, cause?: unknown) {
    super(`Cannot read the contract addresses from ${path}: ${problem}.`, {
      cause,
      metaMessages: ['Pass the JSON that `mycel chain deploy --json` (or `mycel devnet --json`) printed, or --market ADDR alone.'],
    });
  }
}

/** The contracts of a market, read from the market itself (its token, registry and dispute resolver). */
export async function contractsOfMarket(client: PublicClient, market: Address): Promise<Contracts> {
  const read = (functionName: 'TOKEN' | 'REGISTRY' | 'RESOLVER') => readContract(client, { address: market, abi: JobMarketAbi, functionName }) as Promise<Address>;
  try {
    const [token, registry, disputeGame] = await Promise.all([read('TOKEN'), read('REGISTRY'), read('RESOLVER')]);
    return { token, registry, market, disputeGame };
  } catch (cause) {
    throw new MycelError(`${market} does not answer as a mycel JobMarket on this chain.`, {
      cause,
      metaMessages: ['Check the address and the --rpc URL (is it the chain it was deployed on?).'],
    });
  }
}

/** The addresses in a deployment file: `mycel chain deploy --json` output ({token, registry, market, dispute_game}) or a devnet summary ({contracts}). */
export async function contractsFromFile(path: string): Promise<Contracts> {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DeploymentFileError(path, (error as NodeJS.ErrnoException).code ?? (error as Error).message, error);
  }
  const c = (typeof doc.contracts === 'object' && doc.contracts !== null ? doc.contracts : doc) as Record<string, unknown>;
  const pick = (...names: string[]): Address => {
    const v = names.map((n) => c[n]).find((x) => typeof x === 'string');
    if (typeof v !== 'string' || !isAddress(v)) throw new DeploymentFileError(path, `it has no ${names[0]} address`);
    return getAddress(v);
  };
  return { token: pick('token'), registry: pick('registry'), market: pick('market'), disputeGame: pick('dispute_game', 'disputeGame') };
}

/** Registers a solver or verifier (bond: the registry's minimum) unless it is already, and lets the market take stakes. */
export async function prepareRole(ctx: NodeContext, role: 'submitter' | 'solver' | 'verifier'): Promise<void> {
  const { token, registry, market } = ctx.contracts;
  if (role !== 'submitter' && !(await getNode(ctx.publicClient, { registry, node: ctx.address })).registered) {
    const stake = (await readContract(ctx.publicClient, { address: registry, abi: NodeRegistryAbi, functionName: 'MIN_STAKE' })) as bigint;
    ctx.tx('approve', (await approve(ctx.wallet, { token, spender: registry, amount: stake })).gasUsed);
    ctx.tx('register', (await register(ctx.wallet, { registry, stake, publicKey: publicKeyOf(ctx.privateKey) })).gasUsed);
    ctx.log(`registered ${ctx.address} with a bond of ${stake} base units`);
  }
  ctx.tx('approve', (await approve(ctx.wallet, { token, spender: market, amount: maxUint256 })).gasUsed);
}
