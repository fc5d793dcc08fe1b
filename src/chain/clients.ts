/**
 * viem clients for one EVM JSON-RPC URL (the embedded anvil, an OP Stack L2, a testnet) and a typed deploy
 * action. HTTP transports use retryCount: 0 so that a refused or unsupported call fails at once instead of
 * looking like a hang.
 *
 * ```ts
 * const { publicClient, walletClient } = createClients({ rpcUrl, chainId, account: privateKeyToAccount(key) });
 * const { address, gasUsed } = await deployContract(walletClient, { abi: F32HarnessAbi, bytecode: F32HarnessBytecode });
 * ```
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractConstructorArgs,
  type Hash,
  type Hex,
  type HttpTransport,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { deployContract as viemDeployContract, getChainId, waitForTransactionReceipt } from 'viem/actions';
import { MycelError } from '../platform/errors.js';

/** How long one JSON-RPC request may take before it fails. */
export const RPC_TIMEOUT_MS = 30_000;

/** The RPC URL is not an http(s) URL. */
export class InvalidRpcUrlError extends MycelError {
  override name = 'InvalidRpcUrlError';
  constructor({ rpcUrl }: { rpcUrl: string }) {
    super(`"${rpcUrl}" is not an http(s) JSON-RPC URL.`, {
      metaMessages: ['Pass a URL such as http://127.0.0.1:8545. For a local chain: `mycel chain deploy` without --rpc starts an embedded anvil, and `mycel devnet` runs a whole local network.'],
    });
  }
}

/** Nothing answers eth_chainId at the RPC URL. */
export class ChainUnreachableError extends MycelError {
  override name = 'ChainUnreachableError';
  constructor({ rpcUrl, cause }: { rpcUrl: string; cause: unknown }) {
    const reason = (cause as { shortMessage?: string; message?: string })?.shortMessage ?? String((cause as Error)?.message ?? cause);
    super(`No EVM JSON-RPC node answers at ${rpcUrl}.`, {
      metaMessages: ['Check the URL and that the chain node is running. For a local chain: `mycel chain deploy` without --rpc starts an embedded anvil, and `mycel devnet` runs a whole local network.'],
      details: reason,
      cause,
    });
  }
}

/** The deploy transaction was mined but reverted, or created no contract. */
export class ContractDeployError extends MycelError {
  override name = 'ContractDeployError';
  constructor({ hash, status }: { hash: Hash; status: string }) {
    super(`Contract deployment ${hash} failed (${status}).`, {
      metaMessages: ['The constructor reverted or ran out of gas; check its arguments.'],
    });
  }
}

export type ClientsParameters = {
  rpcUrl: string;
  /** Default: 31337 (anvil). Use {@link connect} to read it from the node. */
  chainId?: number;
  /** The signer of the wallet client (e.g. privateKeyToAccount(anvil.accounts[0].privateKey)). */
  account?: Account;
  /** Block/receipt polling; default 100 ms on loopback, viem's default elsewhere. */
  pollingInterval?: number;
};

export type Clients<account extends Account | undefined = Account | undefined> = {
  chain: Chain;
  publicClient: PublicClient<HttpTransport, Chain>;
  walletClient: WalletClient<HttpTransport, Chain, account>;
  /** anvil's cheat methods (mine, setBalance, snapshot...); only anvil answers them. */
  testClient: TestClient<'anvil', HttpTransport, Chain>;
};

function checkRpcUrl(rpcUrl: string): void {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    throw new InvalidRpcUrlError({ rpcUrl });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidRpcUrlError({ rpcUrl });
}

function isLoopback(rpcUrl: string): boolean {
  const host = new URL(rpcUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** A viem chain for a JSON-RPC URL. */
export function chainFor(rpcUrl: string, chainId: number): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? 'anvil' : `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/** Public, wallet and test clients for one RPC URL (http, retryCount: 0). */
export function createClients<account extends Account | undefined = undefined>(
  params: ClientsParameters & { account?: account },
): Clients<account> {
  checkRpcUrl(params.rpcUrl);
  const chain = chainFor(params.rpcUrl, params.chainId ?? 31337);
  const transport = http(params.rpcUrl, { retryCount: 0, timeout: RPC_TIMEOUT_MS });
  const pollingInterval = params.pollingInterval ?? (isLoopback(params.rpcUrl) ? 100 : undefined);
  const common = { chain, transport, ...(pollingInterval === undefined ? {} : { pollingInterval }) };
  return {
    chain,
    publicClient: createPublicClient(common) as PublicClient<HttpTransport, Chain>,
    walletClient: createWalletClient({ ...common, account: params.account as account }) as WalletClient<
      HttpTransport,
      Chain,
      account
    >,
    testClient: createTestClient({ ...common, mode: 'anvil' }) as TestClient<'anvil', HttpTransport, Chain>,
  };
}

/**
 * Checks that a node answers at `rpcUrl` and returns clients for its chain id.
 * @throws InvalidRpcUrlError, ChainUnreachableError
 */
export async function connect<account extends Account | undefined = undefined>(
  params: Omit<ClientsParameters, 'chainId'> & { account?: account },
): Promise<Clients<account> & { chainId: number }> {
  const probe = createClients({ rpcUrl: params.rpcUrl });
  let chainId: number;
  try {
    chainId = await getChainId(probe.publicClient);
  } catch (cause) {
    throw new ChainUnreachableError({ rpcUrl: params.rpcUrl, cause });
  }
  return { ...createClients<account>({ ...params, chainId }), chainId };
}

export type DeployContractParameters<abi extends Abi | readonly unknown[]> = {
  abi: abi;
  bytecode: Hex;
  args?: ContractConstructorArgs<abi>;
  value?: bigint;
};

export type DeployContractReturnType = { address: Address; gasUsed: bigint; transactionHash: Hash };

/**
 * Deploys a contract from the wallet client's account, waits for the receipt and returns the address and gas.
 * @throws ContractDeployError when the deployment reverted
 */
export async function deployContract<const abi extends Abi | readonly unknown[]>(
  walletClient: WalletClient<Transport, Chain, Account>,
  params: DeployContractParameters<abi>,
): Promise<DeployContractReturnType> {
  const hash = await viemDeployContract(walletClient, {
    abi: params.abi as Abi,
    bytecode: params.bytecode,
    args: (params.args ?? []) as readonly unknown[],
    account: walletClient.account,
    chain: walletClient.chain,
    ...(params.value === undefined ? {} : { value: params.value }),
  } as Parameters<typeof viemDeployContract>[1]);
  const receipt = await waitForTransactionReceipt(walletClient, { hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new ContractDeployError({ hash, status: receipt.status });
  }
  return { address: receipt.contractAddress, gasUsed: receipt.gasUsed, transactionHash: hash };
}
