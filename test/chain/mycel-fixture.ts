/**
 * One anvil with the mycel contracts deployed (token, registry, market, and MockResolver as the dispute game), ten
 * funded wallets, and helpers to move time and expect decoded reverts. Shared by the chain tests; each test file
 * starts its own anvil once.
 */
import { expect } from 'vitest';
import { getAddress, parseUnits, type Abi, type Address, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { deployMycel, type DeployMycelReturnType } from '../../src/chain/deploy.js';
import { ContractRevertError } from '../../src/chain/errors.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { setRules } from '../../src/chain/actions/setRules.js';
import { MockResolverAbi, MockResolverBytecode } from '../../src/chain/generated/MockResolver.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';

export const T = (n: number | string) => parseUnits(String(n), 18);
export const MIN_STAKE = T(100);
export const UNBONDING_DELAY = 1_000n;
/** The market's least challenge window, in blocks (jobs the tests post ask for it: postJob's default). */
export const CHALLENGE_WINDOW = 600n;
/** Tokens each of wallets 1..8 receives from the deployer. */
export const FUNDING = T(10_000);

export type Fixture = DeployMycelReturnType & {
  anvil: Anvil;
  wallets: MycelWalletClient[];
  publicClient: PublicClient;
  resolver: Address;
  /** Token balance of `who`. */
  balance(who: Address): Promise<bigint>;
  totalSupply(): Promise<bigint>;
  /** The latest block's time (only permits, an ERC-2612 standard, have deadlines in seconds). */
  now(): Promise<bigint>;
  /** Mines `blocks` blocks (every deadline of the market, the game and the registry is a block number); returns the new block number. */
  mine(blocks: bigint): Promise<bigint>;
  block(): Promise<bigint>;
  stop(): Promise<void>;
};

export async function setupMycel(): Promise<Fixture> {
  const anvil = await startAnvil();
  const clients = anvil.accounts.map((a) =>
    createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }),
  );
  const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
  const { publicClient, testClient } = clients[0];
  const resolver = getAddress((await deployContract(wallets[0], { abi: MockResolverAbi, bytecode: MockResolverBytecode })).address);
  const deployed = await deployMycel(wallets[0], {
    resolver,
    minStake: MIN_STAKE,
    unbondingDelay: UNBONDING_DELAY,
    minChallengeWindow: CHALLENGE_WINDOW,
  });
  for (const w of wallets.slice(1, 9)) {
    await send(wallets[0], { address: deployed.token, abi: MycelTokenAbi, functionName: 'transfer', args: [w.account.address, FUNDING] });
  }
  const now = async () => (await publicClient.getBlock()).timestamp;
  return {
    ...deployed,
    anvil,
    wallets,
    publicClient: publicClient as PublicClient,
    resolver,
    balance: (who) => readContract(publicClient, { address: deployed.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] }),
    totalSupply: () => readContract(publicClient, { address: deployed.token, abi: MycelTokenAbi, functionName: 'totalSupply' }),
    now,
    async mine(blocks) {
      await testClient.mine({ blocks: Number(blocks) });
      return publicClient.getBlockNumber({ cacheTime: 0 });
    },
    block: () => publicClient.getBlockNumber({ cacheTime: 0 }),
    stop: () => anvil.stop(),
  };
}

/** Awaits `p` and expects a decoded custom error `errorName` (with `args`, when given). */
export async function expectRevert(p: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<ContractRevertError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error(`expected a revert with ${errorName}, but the call succeeded`);
  if (!(error instanceof ContractRevertError)) throw error;
  expect(error.errorName).toBe(errorName);
  if (args) expect(error.args).toEqual(args);
  return error;
}

/** A plain write through the shared send path (simulate, send, receipt). */
export function call(wallet: MycelWalletClient, address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []) {
  return send<unknown>(wallet, { address, abi, functionName, args });
}

/**
 * Sets placeholder dispute rules on a job (the market lets nobody claim a job without rules): with MockResolver as
 * the game nothing reads them; the real game's tests set their job's facts instead.
 */
export function setPlaceholderRules(submitter: MycelWalletClient, market: Address, jobId: bigint) {
  return setRules(submitter, { market, jobId, h0: `0x${'00'.repeat(32)}`, factsRoot: `0x${'00'.repeat(32)}`, factsSize: 1n });
}
