/**
 * The data-availability challenge of a swarm claim (docs/swarm-chain.md, "Data availability"), a node's side of it:
 * a checker whose fetch of a peer's policy blob failed asks for the policy on chain (requestSwarmPolicy); the claimer
 * publishes its committed policy's state-tree leaves (publishSwarmPolicy), which the coordinator checks leaf by leaf
 * against the committed policy hash and logs (the coordinator's SwarmAvailability); the checker reads them back from the logs (readPublishedPolicy), rebuilds
 * the state and checks its hash, then re-executes the claim as with a fetched blob.
 * A claimer that does not publish in time loses its claim to whoever calls forfeitSwarmPolicy.
 *
 * The pure part (policyParts, policyBatches, stateOfParts) turns a TrainState into publishable parts and back.
 */
import { bytesToHex, formatUnits, hexToBytes, parseEventLogs, type Address, type Hex } from 'viem';
import { getContractEvents } from 'viem/actions';
import {
  swarmForfeitUnavailable,
  swarmGetAvailability,
  swarmGetRoundAvailability,
  swarmPublishPolicy,
  swarmPublishedParts,
  swarmAvailabilityAddress,
  swarmRequestPolicy,
  type SwarmPolicyPart,
} from '../chain/index.js';
import { SwarmAvailabilityAbi } from '../chain/generated/SwarmAvailability.js';
import { ContractRevertError } from '../chain/errors.js';
import { concatBytes, u64le } from '../platform/bytes.js';
import { DTYPE_CODE, leBytes, Tensor, type DType } from '../tensor/index.js';
import { merkleProof, stateHash, stateLeaves, stateTensors, type TrainState } from '../train/index.js';
import type { Params } from '../nn/index.js';
import type { SwarmChainContext } from './swarm-chain.js';

const hex = (b: Uint8Array): Hex => bytesToHex(b);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const DTYPE_OF: Record<number, DType> = Object.fromEntries(Object.entries(DTYPE_CODE).map(([d, c]) => [c, d as DType]));

/**
 * Every leaf of `state`'s tree as a publishable part, with its path in the tree: the header (step and optimizer step),
 * then each tensor of stateTensors in order.
 */
export function policyParts(state: TrainState): SwarmPolicyPart[] {
  const leaves = stateLeaves(state);
  const path = (i: number) => merkleProof(leaves, i).map(hex);
  const header: SwarmPolicyPart = { index: 0, name: '0x', dtype: 0, shape: [], data: hex(concatBytes([u64le(state.step), u64le(state.opt.step)])), path: path(0) };
  return [
    header,
    ...stateTensors(state).map(([name, t], i): SwarmPolicyPart => ({
      index: i + 1, name: hex(encoder.encode(name)), dtype: DTYPE_CODE[t.dtype], shape: [...t.shape], data: hex(leBytes(t.data)), path: path(i + 1),
    })),
  ];
}

/**
 * Parts grouped into transactions of at most `maxBytes` of tensor data each (a part larger than that goes alone):
 * 64 KiB keeps a transaction near 1.5M gas and under the 128 KiB that RPC nodes' pools accept.
 */
export function policyBatches(parts: readonly SwarmPolicyPart[], maxBytes = 64 * 1024): SwarmPolicyPart[][] {
  const batches: SwarmPolicyPart[][] = [];
  let size = Infinity;
  for (const p of parts) {
    const bytes = (p.data.length - 2) / 2;
    if (size + bytes > maxBytes) {
      batches.push([]);
      size = 0;
    }
    batches.at(-1)!.push(p);
    size += bytes;
  }
  return batches;
}

/**
 * The state that published parts describe (any order; every leaf once), or why they do not make one: a missing or
 * repeated leaf, a name that is not a state tensor's, a dtype not known here. The caller checks its hash.
 */
export function stateOfParts(parts: readonly SwarmPolicyPart[], leafCount: number): TrainState | string {
  const byIndex = new Map<number, SwarmPolicyPart>();
  for (const p of parts) {
    if (byIndex.has(p.index)) return `leaf ${p.index} was published twice`;
    byIndex.set(p.index, p);
  }
  const header = byIndex.get(0);
  if (!header) return 'the header leaf was not published';
  const h = hexToBytes(header.data);
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const params: Params = {};
  const opt: Params = {};
  for (let i = 1; i < leafCount; i++) {
    const p = byIndex.get(i);
    if (!p) return `leaf ${i} was not published`;
    let name: string;
    try {
      name = decoder.decode(hexToBytes(p.name));
    } catch {
      return `leaf ${i}'s name is not UTF-8`;
    }
    const dtype = DTYPE_OF[p.dtype];
    if (!dtype) return `leaf ${i} (${name}) has dtype code ${p.dtype}, which this node does not know`;
    // Copied into an aligned buffer: the words are little-endian, as leBytes wrote them (every platform here is).
    const bytes = hexToBytes(p.data).slice();
    const data = dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
    const tensor = new Tensor(data, p.shape);
    if (name.startsWith('params.')) params[name.slice(7)] = tensor;
    else if (name.startsWith('opt.')) opt[name.slice(4)] = tensor;
    else return `leaf ${i}'s name ${JSON.stringify(name)} is neither a parameter's nor an optimizer tensor's`;
  }
  return { step: Number(view.getBigUint64(0, true)), params, opt: { step: Number(view.getBigUint64(8, true)), tensors: opt } };
}

/** Asks for `node`'s committed policy of round `round` (its blob could not be fetched); returns the publish deadline. */
export async function requestSwarmPolicy(ctx: SwarmChainContext, o: { round: bigint; node: Address; why: string }): Promise<bigint> {
  const { gasUsed, deadline } = await swarmRequestPolicy(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node });
  ctx.tx('swarm requestPolicy', gasUsed);
  ctx.log(`round ${o.round}: ${o.node}'s policy could not be fetched (${o.why}): requested it on chain, to be published before block ${deadline}`);
  return deadline;
}

/**
 * Publishes the node's committed policy of round `round` for the request open against it: the leaves not yet
 * published, in batches sent at once (the send queue orders their nonces, so they can land in one block).
 */
export async function publishSwarmPolicy(ctx: SwarmChainContext, o: { round: bigint; state: TrainState }): Promise<{ gas: bigint; transactions: number }> {
  const parts = policyParts(o.state);
  const batches = policyBatches(parts);
  // A retry after a partial failure: the batches are the same, and one already on chain is refused as a whole.
  const sendBatch = (b: SwarmPolicyPart[]) =>
    swarmPublishPolicy(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: o.round, parts: b }).catch((error: unknown) => {
      if (error instanceof ContractRevertError && error.errorName === 'SwarmLeafAlreadyPublished') return { gasUsed: 0n };
      throw error;
    });
  const sent = await Promise.all(batches.map(sendBatch));
  const gas = sent.reduce((s, t) => s + t.gasUsed, 0n);
  for (const t of sent) ctx.tx('swarm publishPolicy', t.gasUsed);
  const bytes = parts.reduce((s, p) => s + (p.data.length - 2) / 2, 0);
  ctx.log(`round ${o.round}: published my policy on chain (${parts.length} leaves, ${bytes} bytes, ${batches.length} transactions, ${gas} gas) for the request against my claim`);
  return { gas, transactions: batches.length };
}

/**
 * `node`'s policy of round `round` as published on chain for a request, rebuilt from the SwarmAvailability's
 * PolicyLeafPublished logs and checked against the committed hash; or why it is not (yet) there.
 */
export async function readPublishedPolicy(ctx: SwarmChainContext, o: { round: bigint; node: Address; policyHash: Hex; leafCount: number; fromBlock: bigint }): Promise<{ state: TrainState } | { failure: string }> {
  const parts = await swarmPublishedParts(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node, fromBlock: o.fromBlock });
  const state = stateOfParts(parts, o.leafCount);
  if (typeof state === 'string') return { failure: state };
  const hash = `0x${stateHash(state)}`;
  if (hash !== o.policyHash.toLowerCase()) return { failure: `the published policy hashes to ${hash.slice(0, 10)}…, not the committed ${o.policyHash.slice(0, 10)}…` };
  return { state };
}

/** Ends the unanswered request against `node`'s claim of round `round` after its deadline: the claim is refuted. */
export async function forfeitSwarmPolicy(ctx: SwarmChainContext, o: { round: bigint; node: Address }): Promise<{ prize: bigint; burned: bigint }> {
  const { gasUsed, prize, burned } = await swarmForfeitUnavailable(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node });
  ctx.tx('swarm forfeitUnavailable', gasUsed);
  const requester = (await swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node })).requester;
  ctx.log(`round ${o.round}: ${o.node} did not publish its policy in time: its claim is refuted (${formatUnits(prize, 18)} MYC to the requester ${requester}, ${formatUnits(burned, 18)} burned)`);
  return { prize, burned };
}

/**
 * Whether round `round`'s availability requests are all settled and any late challenge window is over at `block`
 * (collect's conditions). A request left open past its deadline holds every payout of the round: the node ends it
 * itself (forfeitUnavailable, by anyone; the requester is paid whoever calls it), found from the round's
 * PolicyRequested events from `fromBlock` on.
 */
export async function availabilitySettled(ctx: SwarmChainContext, o: { round: bigint; block: bigint; fromBlock: bigint }): Promise<boolean> {
  const r = await swarmGetRoundAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round });
  if (o.block < r.challengeEnd) return false;
  if (r.openRequests === 0) return true;
  const logs = await getContractEvents(ctx.publicClient, { address: swarmAvailabilityAddress(ctx.contracts.coordinator), abi: SwarmAvailabilityAbi, eventName: 'PolicyRequested', args: { round: o.round }, fromBlock: o.fromBlock });
  for (const log of parseEventLogs({ abi: SwarmAvailabilityAbi, logs, eventName: 'PolicyRequested' })) {
    const { node, deadline } = log.args;
    if (o.block < deadline) continue;
    const a = await swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node });
    // (Someone else may end it first: SwarmNoRequest then.)
    if (a.open) await forfeitSwarmPolicy(ctx, { round: o.round, node }).catch((error: unknown) => {
      if (!(error instanceof ContractRevertError && error.errorName === 'SwarmNoRequest')) throw error;
    });
  }
  return false;
}
