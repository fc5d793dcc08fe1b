import { keccak256, parseSignature, type Address, type Hex } from 'viem';
import { getBlock, readContract, signTypedData } from 'viem/actions';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { MycelTokenAbi } from '../generated/MycelToken.js';
import { JobSpecMismatchError } from '../errors.js';
import { assertChain, createdId, send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type PostJobParameters = {
  market: Address;
  /** The job spec bytes; its keccak256 is the spec hash. Give the spec, the hash, or both (then they must match). */
  spec?: Uint8Array | Hex;
  specHash?: Hex;
  steps: bigint;
  reward: bigint;
  /** What the solver (and a challenger) must stake. */
  stake: bigint;
  /** The block by which the solver must commit; or give `deadlineIn` blocks from the latest block. */
  deadline?: bigint;
  deadlineIn?: bigint;
  /**
   * Blocks a committed root can be challenged: time for a verifier to re-execute the job (node/window.ts sizes it
   * from the spec). Default: the market's least window, MIN_CHALLENGE_WINDOW.
   */
  challengeWindow?: bigint;
  solversWanted?: number;
  verifiersWanted?: number;
  /**
   * Approve the reward with an EIP-2612 permit signed here instead of a prior approve (one transaction).
   * Needs `token`.
   */
  permit?: { token: Address; validFor?: bigint };
};
export type PostJobReturnType = WriteReturnType & { jobId: bigint; specHash: Hex; deadline: bigint };

/** keccak256 of a spec; throws JobSpecMismatchError when `specHash` is given and differs. */
export function resolveSpecHash(spec: Uint8Array | Hex | undefined, specHash: Hex | undefined, jobId?: bigint): Hex {
  if (spec === undefined) {
    if (specHash === undefined) throw new TypeError('postJob needs spec or specHash');
    return specHash;
  }
  const actual = keccak256(spec);
  if (specHash !== undefined && actual.toLowerCase() !== specHash.toLowerCase()) {
    throw new JobSpecMismatchError({ expected: specHash, actual, ...(jobId === undefined ? {} : { jobId }) });
  }
  return actual;
}

/**
 * Posts a job and escrows its reward: approve the market for `reward` first, or pass `permit`.
 * @throws JobSpecMismatchError (nothing sent) when spec and specHash disagree; InsufficientAllowanceError when the
 * allowance is short.
 * @example const { jobId } = await postJob(walletClient, { market, spec, steps: 1000n, reward, stake, deadlineIn: 300n, challengeWindow: 7_200n })
 */
export async function postJob(client: MycelWalletClient, params: PostJobParameters): Promise<PostJobReturnType> {
  const specHash = resolveSpecHash(params.spec, params.specHash);
  await assertChain(client);
  const block = await getBlock(client);
  const deadline = params.deadline ?? block.number + (params.deadlineIn ?? 300n);
  const challengeWindow = params.challengeWindow ?? (await readContract(client, { address: params.market, abi: JobMarketAbi, functionName: 'MIN_CHALLENGE_WINDOW' }));
  const request = {
    specHash,
    steps: params.steps,
    reward: params.reward,
    stake: params.stake,
    deadline,
    challengeWindow,
    solversWanted: params.solversWanted ?? 1,
    verifiersWanted: params.verifiersWanted ?? 1,
  };
  let sent;
  if (params.permit) {
    const { token } = params.permit;
    const owner = client.account.address;
    const [name, nonce] = await Promise.all([
      readContract(client, { address: token, abi: MycelTokenAbi, functionName: 'name' }),
      readContract(client, { address: token, abi: MycelTokenAbi, functionName: 'nonces', args: [owner] }),
    ]);
    // EIP-2612 permits expire by time, not by block.
    const permitDeadline = block.timestamp + (params.permit.validFor ?? 3600n);
    const signature = await signTypedData(client, {
      account: client.account,
      domain: { name, version: '1', chainId: client.chain.id, verifyingContract: token },
      types: {
        Permit: [
          { name: 'owner', type: 'address' },
          { name: 'spender', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
        ],
      },
      primaryType: 'Permit',
      message: { owner, spender: params.market, value: params.reward, nonce, deadline: permitDeadline },
    });
    const { r, s, v, yParity } = parseSignature(signature);
    sent = await send(client, {
      address: params.market,
      abi: JobMarketAbi,
      functionName: 'postJobWithPermit',
      args: [request, permitDeadline, Number(v ?? BigInt(yParity + 27)), r, s],
    });
  } else {
    sent = await send(client, { address: params.market, abi: JobMarketAbi, functionName: 'postJob', args: [request] });
  }
  const { hash, gasUsed, logs } = sent;
  return { hash, gasUsed, logs, jobId: createdId(logs, { address: params.market, abi: JobMarketAbi, eventName: 'JobPosted', arg: 'jobId' }), specHash, deadline };
}
