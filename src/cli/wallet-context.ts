/**
 * What every `mycel wallet` command resolves first: the chain (--rpc), the deployment (--contracts FILE or --market
 * ADDR) and the account (--key-file, or --address for reading only).
 */
import { formatUnits, getAddress, isAddress, parseUnits, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlockNumber } from 'viem/actions';
import { connect, type MycelWalletClient } from '../chain/index.js';
import { contractsFromFile, contractsOfMarket } from '../node/join.js';
import type { Contracts } from '../node/context.js';
import { UsageError } from '../platform/errors.js';
import type { FlagSpec, Flags } from './command.js';
import { readKeyFile } from './commands/chain-deploy.js';

export const WALLET_FLAGS: Record<string, FlagSpec> = {
  rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL of the chain (a devnet\'s anvil, a testnet, an L2)' },
  contracts: { type: 'string', value: 'FILE', description: 'deployment JSON (mycel chain deploy --json or mycel devnet --json)' },
  market: { type: 'string', value: 'ADDR', description: 'the JobMarket address (the other contracts are read from it)' },
  'key-file': { type: 'string', value: 'FILE', description: 'the account\'s private key (0x-hex, mode 600), as `mycel node run` takes it' },
};

export type WalletContext = { publicClient: PublicClient; contracts: Contracts; address: Address; chainId: number; wallet?: MycelWalletClient; privateKey?: Hex };

/** `write`: a key is needed (the command sends transactions); otherwise --address may name any account. */
export async function walletContext(flags: Flags, { write }: { write: boolean }): Promise<WalletContext> {
  if (typeof flags.rpc !== 'string') throw new UsageError('mycel wallet needs --rpc URL: the chain the contracts are on.', { metaMessages: ['A local chain: `mycel chain deploy --json > deployment.json` prints the contracts of an embedded anvil; `mycel devnet` prints its RPC URL.'] });
  checkContractsFlags(flags);
  const keyFile = typeof flags['key-file'] === 'string' ? flags['key-file'] : undefined;
  const named = typeof flags.address === 'string' ? flags.address : undefined;
  if (write && !keyFile) throw new UsageError('This wallet command sends a transaction: pass --key-file FILE (the account\'s key, mode 600).');
  if (!keyFile && !named) throw new UsageError('Name the account: --key-file FILE (yours) or --address ADDR (any, read only).');
  if (named !== undefined && !isAddress(named)) throw new UsageError(`--address must be a 0x address, got "${named}".`);
  const privateKey = keyFile ? await readKeyFile(keyFile) : undefined;
  const account = privateKey ? privateKeyToAccount(privateKey) : undefined;
  const clients = await connect({ rpcUrl: flags.rpc, ...(account ? { account } : {}) });
  const publicClient = clients.publicClient as PublicClient;
  const contracts = typeof flags.contracts === 'string' ? await contractsFromFile(flags.contracts) : await contractsOfMarket(publicClient, getAddress(flags.market as Address));
  return {
    publicClient,
    contracts,
    address: named !== undefined && !account ? getAddress(named) : account!.address,
    chainId: clients.chainId,
    ...(account ? { wallet: clients.walletClient as MycelWalletClient, privateKey } : {}),
  };
}

/** The contracts are named one way only: --contracts FILE or --market ADDR (a 0x address). */
export function checkContractsFlags(flags: Flags): void {
  if ((flags.contracts === undefined) === (flags.market === undefined)) throw new UsageError('Give the contracts with --contracts FILE or --market ADDR (one of them).');
  if (typeof flags.market === 'string' && !isAddress(flags.market)) throw new UsageError(`--market must be a 0x address, got "${flags.market}".`);
}

/** A role's amount flag (--reward, --stake): tokens as typed, or the fallback, in base units (18 decimals); 0 is allowed. */
export function tokenFlag(flags: Flags, name: string, fallback: string): bigint {
  const v = flags[name] ?? fallback;
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${name} must be an amount of tokens such as ${fallback}, got "${String(v)}".`);
  return parseUnits(v, 18);
}

/** An amount of tokens as typed ("25", "0.5"), in base units (18 decimals). */
export function tokenAmount(value: string | undefined, what: string): bigint {
  if (value === undefined || !/^\d+(\.\d{1,18})?$/.test(value)) throw new UsageError(`${what} must be an amount of tokens such as 25 or 0.5, got "${value ?? ''}".`);
  const amount = parseUnits(value, 18);
  if (amount === 0n) throw new UsageError(`${what} must be more than 0.`);
  return amount;
}

export const myc = (v: bigint) => formatUnits(v, 18);

export const headBlock = (ctx: WalletContext) => getBlockNumber(ctx.publicClient, { cacheTime: 0 });
