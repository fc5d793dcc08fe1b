/**
 * What every mycel write action does: check the node's chain id once per client, simulate (so a revert is decoded
 * into a MycelError and nothing is sent), send, wait for the receipt, and check its status. Reads go through
 * {@link read} for the same error decoding.
 */
import { parseEventLogs, type Abi, type Account, type Address, type Chain, type Client, type Hash, type Log, type Transport, type WalletClient } from 'viem';
import { getChainId, getTransaction, readContract, simulateContract, waitForTransactionReceipt, writeContract } from 'viem/actions';
import { MYCEL_ERRORS_ABI, TransactionRevertedError, WrongChainError, toMycelError } from '../errors.js';
import { ChainUnreachableError } from '../clients.js';

/** A wallet client with an account and a chain: what every write action takes. */
export type MycelWalletClient = WalletClient<Transport, Chain, Account>;

/** What every write action returns besides its own result. */
export type WriteReturnType = { hash: Hash; gasUsed: bigint; logs: Log[] };

const checked = new WeakMap<Client, true>();

/**
 * The last submission of each account (by chain and address), as a queue. viem takes a transaction's nonce from the
 * RPC node's count of the account's transactions (`pending`), so two sends of one account that overlap (a verifier
 * challenging two jobs, a submitter posting from two tasks) would sign with the same nonce and one would fail. Each
 * send waits for the previous one of its account to be accepted by the node (not mined) before it takes its nonce.
 * Chosen over viem's nonceManager, which counts nonces in memory per process from the first it read: a transaction
 * that the node then refuses leaves a gap that stalls every later one until the count is reset.
 */
const submitting = new Map<string, Promise<unknown>>();

async function inTurn<T>(client: MycelWalletClient, submit: () => Promise<T>): Promise<T> {
  const key = `${client.chain.id}:${client.account.address.toLowerCase()}`;
  const previous = submitting.get(key) ?? Promise.resolve();
  const mine = previous.then(submit, submit);
  const settled = mine.then(() => undefined, () => undefined);
  submitting.set(key, settled);
  // The queue forgets an account once its last send is through (a node with many accounts does not keep them all).
  void settled.then(() => submitting.get(key) === settled && submitting.delete(key));
  return mine;
}

export function rpcUrlOf(client: Client): string {
  return (client.transport as { url?: string }).url ?? client.chain?.rpcUrls.default.http[0] ?? 'the RPC URL';
}

/**
 * Throws ChainUnreachableError when no node answers, WrongChainError when it is on another chain than the client's.
 */
export async function assertChain(client: Client): Promise<void> {
  if (checked.has(client) || !client.chain) return;
  const rpcUrl = rpcUrlOf(client);
  let actual: number;
  try {
    actual = await getChainId(client);
  } catch (cause) {
    throw new ChainUnreachableError({ rpcUrl, cause });
  }
  if (actual !== client.chain.id) throw new WrongChainError({ expected: client.chain.id, actual, rpcUrl });
  checked.set(client, true);
}

/** Every contract ABI used for a call also gets every mycel error, so bubbled-up reverts decode too. */
function withErrors(abi: Abi): Abi {
  return [...abi, ...MYCEL_ERRORS_ABI.filter((e) => !abi.some((x) => x.type === 'error' && x.name === e.name))] as Abi;
}

export async function send<R = unknown>(
  client: MycelWalletClient,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<WriteReturnType & { result: R }> {
  const ctx = { functionName: call.functionName, rpcUrl: rpcUrlOf(client), account: client.account.address };
  await assertChain(client);
  let request: unknown;
  let result: R;
  try {
    const simulated = await simulateContract(client, { ...call, abi: withErrors(call.abi), account: client.account } as never);
    request = (simulated as { request: unknown }).request;
    result = (simulated as { result: R }).result;
  } catch (error) {
    throw toMycelError(error, ctx);
  }
  let hash: Hash;
  try {
    hash = await inTurn(client, () => writeContract(client, request as never));
  } catch (error) {
    throw toMycelError(error, ctx);
  }
  const receipt = await waitForTransactionReceipt(client, { hash });
  if (receipt.status !== 'success') {
    // A revert leaves gas unspent; running out of gas spends the whole limit: the two need different retries.
    const limit = await getTransaction(client, { hash }).then((t) => t.gas, () => undefined);
    throw new TransactionRevertedError({ hash, functionName: call.functionName, ...(limit !== undefined && receipt.gasUsed >= limit ? { outOfGas: { limit } } : {}) });
  }
  return { hash, gasUsed: receipt.gasUsed, logs: receipt.logs, result };
}

export async function read<R>(
  client: Client<Transport, Chain | undefined>,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<R> {
  await assertChain(client);
  try {
    return (await readContract(client, { ...call, abi: withErrors(call.abi) } as never)) as R;
  } catch (error) {
    throw toMycelError(error, { functionName: call.functionName, rpcUrl: rpcUrlOf(client) });
  }
}

/**
 * The id a write created (a dispute, a job), argument `arg` of the event `eventName` that `address` logged in its
 * receipt. Not the simulation's return value: a contract numbers them in the order transactions are mined, so a write
 * mined after another that came first in the block gets the next id, not the one its simulation saw.
 */
export function createdId(logs: Log[], o: { address: Address; abi: Abi; eventName: string; arg: string }): bigint {
  const event = parseEventLogs({ abi: o.abi, logs, eventName: o.eventName }).find((l) => l.address.toLowerCase() === o.address.toLowerCase());
  if (!event) throw new RangeError(`the transaction's receipt holds no ${o.eventName} event of ${o.address}`);
  return (event.args as Record<string, bigint>)[o.arg]!;
}
