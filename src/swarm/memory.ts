/**
 * What a swarm round needs in memory, estimated before a node joins (train/memory.ts counts a training step), so a
 * node with too little memory says so with the figures instead of dying mid-round, as `--max-memory` does for a role
 * node's jobs. A SAPO round trains one GRPO step on (own + external) questions x completions rows, generates with a
 * KV cache bounded by generate.ts (64 MiB at most), and holds a peer's policy while it re-executes its generations.
 * A DiLoCo / NoLoCo worker trains its inner steps and holds the outer state: the round's starting parameters, the
 * outer momentum, its own pseudo-gradient and, as a round's closer, every worker's.
 */
import { MycelError } from '../platform/errors.js';
import { estimateMemory, type JobSpec, type MemoryEstimate } from '../train/index.js';
import type { SapoConfig } from './sapo-config.js';

/** generate.ts's bound on a batch's KV cache (CACHE_FLOATS float32s). */
const KV_CACHE_BYTES = 64 * 2 ** 20;

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export function sapoRoundMemory(spec: JobSpec, vocabSize: number, config: Pick<SapoConfig, 'own' | 'external' | 'completions'>): MemoryEstimate {
  const rows = (config.own + config.external) * config.completions;
  const step = estimateMemory({ ...spec, batchSize: rows }, vocabSize);
  const { contextLength: T, dModel: C, layers: L } = spec.model;
  const cache = Math.min(KV_CACHE_BYTES, 4 * rows * 2 * L * T * C);
  const peer = 4 * step.params;
  return {
    bytes: step.bytes + cache + peer,
    floorBytes: step.floorBytes + cache + peer,
    params: step.params,
    breakdown: `GRPO step on ${rows} rows: ${step.breakdown}; KV cache ${mib(cache)}; a peer's policy ${mib(peer)}`,
  };
}

export function dilocoWorkerMemory(spec: JobSpec, vocabSize: number, slots: number): MemoryEstimate {
  const inner = estimateMemory(spec, vocabSize);
  // Round start, outer momentum, own delta, and up to one delta per slot when it closes the round.
  const outer = 4 * inner.params * (3 + slots);
  return {
    bytes: inner.bytes + outer,
    floorBytes: inner.floorBytes + outer,
    params: inner.params,
    breakdown: `inner steps: ${inner.breakdown}; outer state and ${slots} workers' pseudo-gradients ${mib(outer)}`,
  };
}

export class SwarmMemoryError extends MycelError {
  override name = 'SwarmMemoryError';
  constructor(what: string, estimate: MemoryEstimate, limitBytes: number, fix: string) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    super(`${what} needs about ${gib(estimate.bytes)} of memory, above this node's limit of ${gib(limitBytes)}: not joining.`, {
      details: estimate.breakdown,
      metaMessages: [`${fix}, or raise the limit with --max-memory GIB (default: 80% of RAM).`],
    });
  }
}

/** Throws SwarmMemoryError, before the node joins, when the estimate is above the limit. */
export function checkSwarmMemory(what: string, estimate: MemoryEstimate, limitBytes: number, fix: string): void {
  if (estimate.bytes > limitBytes) throw new SwarmMemoryError(what, estimate, limitBytes, fix);
}
