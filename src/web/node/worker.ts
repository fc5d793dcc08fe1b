/**
 * The browser node's runtime, in a Web Worker (a page's main thread may not block, and the kernels' threads do): it
 * trains a job spec with the same program, kernels and state hashes as a Node solver (runInMemory), reports each
 * step's loss and speed, then the step hashes and the run commitment (the Merkle root a solver commits on chain), and
 * for a solver its checkpoints, which it serves.
 * Asked for a job's facts, it builds the dispute rules' facts (h_0 and the facts tree) that a solver checks on chain
 * before it stakes: a pass over every step's program, too long for the page's thread. Asked to verify a committed
 * job, it re-executes it and, on a root that is not its own, challenges and plays the dispute; asked to defend the
 * tab's own root, it plays the solver's side (verify-job.ts). Asked
 * for a swarm round, it makes the tab's signed rollout (swarm-round.ts).
 */
import { jobFacts } from '../../chain/dispute-moves.js';
import { buildProgram } from '../../train/program.js';
import { parseJobSpec, type JobSpecInput } from '../../train/spec.js';
import { MemoryStore, runInMemory, type InMemoryRun, type InMemoryStep } from '../../train/run-in-memory.js';
import { configureKernels, matmulKernel } from '../../tensor/index.js';
import { rulesOf } from '../../verify/strategy/rules.js';
import type { BlobFailure } from '../../swarm/round.js';
import { swarmFinish, swarmPlan, swarmRound, type Received, type SwarmFinishResult, type SwarmRoundRequest, type SwarmRoundResult } from './swarm-round.js';
import type { DisputeOutcome } from '../../node/dispute.js';
import { defendJob, verifyJob, type DefendJobRequest, type VerifyJobRequest, type VerifyOutcome, type VerifyReport } from './verify-job.js';

type Kernels = { kernels: 'fast' | 'reference'; threads: number };
export type WorkerRequest = ({ kind: 'run' | 'facts'; spec: JobSpecInput; /** Keep the run's checkpoints and send them back (a solver serves them). */ keep?: boolean } | ({ kind: 'verify' } & VerifyJobRequest) | ({ kind: 'defend' } & DefendJobRequest) | ({ kind: 'swarm-round' } & SwarmRoundRequest) | { kind: 'swarm-plan'; rollouts: Received[] } | { kind: 'swarm-finish'; rollouts: Received[]; blobs: [string, Uint8Array | BlobFailure][] }) & Kernels;
/** The page's answer to a wallet request the worker made (a verifier's transactions signed by the browser's wallet). */
export type WalletReply = { kind: 'wallet-reply'; id: number; result?: unknown; error?: { message: string; code?: number } };
export type JobRulesFacts = { h0: string; root: string; size: bigint };
export type WorkerReply =
  | ({ kind: 'step' } & InMemoryStep)
  | ({ kind: 'done'; matmul: string; /** With `keep`: the encoded checkpoints (steps 0, T and every checkpointEvery), by step. */ checkpoints?: [number, Uint8Array][] } & InMemoryRun)
  | ({ kind: 'facts' } & JobRulesFacts)
  | { kind: 'log'; text: string }
  | { kind: 'tx'; action: string; gas: string }
  | { kind: 'wallet-request'; id: number; method: string; params?: unknown }
  | ({ kind: 'verdict' } & VerifyOutcome)
  | ({ kind: 'ruled' } & DisputeOutcome)
  | ({ kind: 'rollout' } & SwarmRoundResult)
  | { kind: 'plan'; plan: { peer: string; cid: string }[] }
  | ({ kind: 'finished' } & SwarmFinishResult)
  | { kind: 'error'; message: string };

let nextWalletRequest = 0;
const pendingWallet = new Map<number, { ok(result: unknown): void; fail(error: Error): void }>();
const post = (m: WorkerReply) => (self as unknown as { postMessage(m: WorkerReply): void }).postMessage(m);

/** How a job's verifier or defender reports to the page, and reaches the browser's wallet through it. */
const report: VerifyReport = {
  step: (s) => post({ kind: 'step', ...s }),
  log: (text) => post({ kind: 'log', text }),
  tx: (action, gas) => post({ kind: 'tx', action, gas: gas.toString() }),
  wallet: ({ method, params }) => new Promise((ok, fail) => {
    const id = nextWalletRequest++;
    pendingWallet.set(id, { ok, fail });
    post({ kind: 'wallet-request', id, method, params });
  }),
};

async function handle(req: WorkerRequest): Promise<void> {
  configureKernels({ kernels: req.kernels, threads: req.threads });
  if (req.kind === 'verify') return post({ kind: 'verdict', ...(await verifyJob(req, report)) });
  if (req.kind === 'defend') return post({ kind: 'ruled', ...(await defendJob(req, report)) });
  if (req.kind === 'swarm-round') return post({ kind: 'rollout', ...swarmRound(req) });
  if (req.kind === 'swarm-plan') return post({ kind: 'plan', plan: swarmPlan(req.rollouts) });
  if (req.kind === 'swarm-finish') return post({ kind: 'finished', ...swarmFinish(req.rollouts, req.blobs) });
  const program = buildProgram(parseJobSpec(req.spec));
  if (req.kind === 'facts') {
    const { h0, root, size } = jobFacts(rulesOf(program));
    post({ kind: 'facts', h0, root, size });
  } else if (req.keep) {
    const store = new MemoryStore();
    const { record, ...run } = runInMemory(program, (s) => post({ kind: 'step', ...s }), store);
    const checkpoints = await Promise.all(Object.entries(record.checkpoints).map(async ([step, hash]) => [Number(step), await store.getObject(hash)] as [number, Uint8Array]));
    (self as unknown as { postMessage(m: WorkerReply, transfer: Transferable[]): void }).postMessage({ kind: 'done', matmul: matmulKernel().name, ...run, checkpoints }, checkpoints.map(([, b]) => b.buffer as ArrayBuffer));
  } else {
    const run = runInMemory(program, (s) => post({ kind: 'step', ...s }));
    post({ kind: 'done', matmul: matmulKernel().name, ...run });
  }
}

self.onmessage = (event: MessageEvent<WorkerRequest | WalletReply>) => {
  if (event.data.kind === 'wallet-reply') {
    const { id, result, error } = event.data;
    const pending = pendingWallet.get(id);
    pendingWallet.delete(id);
    // The wallet's error code travels with it: viem maps 4001 (rejected by the person) and the like.
    if (error) pending?.fail(Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code }));
    else pending?.ok(result);
    return;
  }
  handle(event.data)
    .catch((error: Error) => post({ kind: 'error', message: describe(error) }))
    .finally(() => configureKernels({ kernels: 'reference', threads: 1 })); // stops the kernel threads
};

/** An error's name and first lines (MycelErrors, viem's too, carry the fix on the lines after the first). */
function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  const lines = String(e?.message ?? error).split('\n').map((l) => l.trim()).filter(Boolean);
  return `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${lines.slice(0, 3).join(' ') || String(error)}`;
}
