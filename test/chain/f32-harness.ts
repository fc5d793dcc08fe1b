/**
 * Runs F32Harness batches over eth_call (shared by test/chain/f32.test.ts and bench/f32.ts): operands go in chunks
 * so one call stays well under anvil's gas cap and request size, and each batch returns its results and the gas
 * spent inside F32.
 */
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, PublicClient } from 'viem';
import type { Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { F32HarnessAbi, F32HarnessBytecode } from '../../src/chain/generated/F32Harness.js';
import { BINARY_OPS, COMPARE_OPS, type BinaryOp, type CompareOp } from './f32-cases.js';

/** Operand pairs per eth_call: ~330 KB of calldata, a few million gas. */
export const CHUNK = 5000;
/** The block gas limit the harness's anvil runs with, so that large batches fit one eth_call. */
export const HARNESS_GAS_LIMIT = 2_000_000_000n;

export type Harness = { publicClient: PublicClient; address: Address; deployGas: bigint };

export async function deployHarness(anvil: Anvil): Promise<Harness> {
  const account = privateKeyToAccount(anvil.accounts[0].privateKey);
  const { publicClient, walletClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account });
  const { address, gasUsed } = await deployContract(walletClient, { abi: F32HarnessAbi, bytecode: F32HarnessBytecode });
  return { publicClient: publicClient as PublicClient, address, deployGas: gasUsed };
}

type Batch<T> = { results: T[]; gas: bigint };

async function chunked<I, T>(items: I[], run: (chunk: I[]) => Promise<readonly [readonly T[], bigint]>): Promise<Batch<T>> {
  const results: T[] = [];
  let gas = 0n;
  for (let i = 0; i < items.length; i += CHUNK) {
    const [out, used] = await run(items.slice(i, i + CHUNK));
    results.push(...out);
    gas += used;
  }
  return { results, gas };
}

export function runBinary(h: Harness, op: BinaryOp, pairs: [number, number][]): Promise<Batch<number>> {
  return chunked(pairs, (chunk) =>
    h.publicClient.readContract({
      address: h.address,
      abi: F32HarnessAbi,
      functionName: 'binaryBatch',
      args: [BINARY_OPS.indexOf(op), chunk.map((p) => p[0]), chunk.map((p) => p[1])],
    }),
  );
}

export function runCompare(h: Harness, op: CompareOp, pairs: [number, number][]): Promise<Batch<boolean>> {
  return chunked(pairs, (chunk) =>
    h.publicClient.readContract({
      address: h.address,
      abi: F32HarnessAbi,
      functionName: 'compareBatch',
      args: [COMPARE_OPS.indexOf(op), chunk.map((p) => p[0]), chunk.map((p) => p[1])],
    }),
  );
}

export function runUnary(h: Harness, op: 'sqrt' | 'toInt32' | 'fromInt32', values: number[]): Promise<Batch<number>> {
  const functionName = `${op}Batch` as const;
  return chunked(values, (chunk) =>
    h.publicClient.readContract({ address: h.address, abi: F32HarnessAbi, functionName, args: [chunk] }),
  );
}

export function runFma(h: Harness, triples: [number, number, number][]): Promise<Batch<number>> {
  return chunked(triples, (chunk) =>
    h.publicClient.readContract({
      address: h.address,
      abi: F32HarnessAbi,
      functionName: 'fmaBatch',
      args: [chunk.map((t) => t[0]), chunk.map((t) => t[1]), chunk.map((t) => t[2])],
    }),
  );
}
