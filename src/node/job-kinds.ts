/**
 * The kinds of job a node takes from the market: a GPT job (train/spec.ts) and an assistant-training job
 * (assist/job.ts), told apart by the spec's `kind` (a GPT spec has none). A GPT job's program is a function of its
 * spec alone; an assistant job's also needs the blobs its spec names by CID (the person's dataset, a base model),
 * which a node fetches over libp2p before it builds the program (roles.ts loadJob), and which the program checks.
 */
import { assistJobBlobs, buildAssistJob, estimateAssistMemory, isAssistJobSpec, parseAssistJobSpec, type AssistJobSpec } from '../assist/job.js';
import { buildProgram, estimateMemory, parseJobSpec, type JobProgram, type JobSpec } from '../train/index.js';

export type MarketSpec = JobSpec | AssistJobSpec;

export const isAssistSpec = (spec: MarketSpec): spec is AssistJobSpec => isAssistJobSpec(spec);

/** Validates a spec of either kind; the error lists every problem by field. */
export function parseMarketSpec(input: unknown): MarketSpec {
  return isAssistJobSpec(input) ? parseAssistJobSpec(input) : parseJobSpec(input);
}

/** The CIDs of the blobs the job's program is built from (none for a GPT job). */
export const blobsOf = (spec: MarketSpec): string[] => (isAssistSpec(spec) ? assistJobBlobs(spec) : []);

/** The job's program; `blobs` holds the bytes of blobsOf(spec), received by those CIDs. */
export function programOf(spec: MarketSpec, blobs: ReadonlyMap<string, Uint8Array> = new Map()): JobProgram {
  return isAssistSpec(spec) ? buildAssistJob(spec, blobs) : buildProgram(spec);
}

/** What a run of the job needs at its peak; a GPT job's estimate needs its vocabulary size (`vocab()`, built on demand). */
export function memoryOf(spec: MarketSpec, vocab: () => number): { bytes: number; breakdown: string } {
  return isAssistSpec(spec) ? estimateAssistMemory(spec) : estimateMemory(spec, vocab());
}
