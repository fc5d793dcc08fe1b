/**
 * The browser node's runtime, in a Web Worker (a page's main thread may not block, and the kernels' threads do): it
 * trains a job spec with the same program, kernels and state hashes as a Node solver (runInMemory), reports each
 * step's loss and speed, then the step hashes and the run commitment (the Merkle root a solver commits on chain).
 * Asked for a job's facts, it builds the dispute rules' facts (h_0 and the facts tree) that a solver checks on chain
 * before it stakes: a pass over every step's program, too long for the page's thread.
 */
import { jobFacts } from '../../chain/dispute-moves.js';
import { buildProgram } from '../../train/program.js';
import { parseJobSpec, type JobSpecInput } from '../../train/spec.js';
import { runInMemory, type InMemoryRun, type InMemoryStep } from '../../train/run-in-memory.js';
import { configureKernels, matmulKernel } from '../../tensor/index.js';
import { rulesOf } from '../../verify/strategy/rules.js';

export type WorkerRequest = { kind: 'run' | 'facts'; spec: JobSpecInput; kernels: 'fast' | 'reference'; threads: number };
export type JobRulesFacts = { h0: string; root: string; size: bigint };
export type WorkerReply =
  | ({ kind: 'step' } & InMemoryStep)
  | ({ kind: 'done'; matmul: string } & InMemoryRun)
  | ({ kind: 'facts' } & JobRulesFacts)
  | { kind: 'error'; message: string };

const post = (m: WorkerReply) => (self as unknown as { postMessage(m: WorkerReply): void }).postMessage(m);

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  try {
    configureKernels({ kernels: req.kernels, threads: req.threads });
    const program = buildProgram(parseJobSpec(req.spec));
    if (req.kind === 'facts') {
      const { h0, root, size } = jobFacts(rulesOf(program));
      post({ kind: 'facts', h0, root, size });
    } else {
      const run = runInMemory(program, (s) => post({ kind: 'step', ...s }));
      post({ kind: 'done', matmul: matmulKernel().name, ...run });
    }
  } catch (error) {
    post({ kind: 'error', message: (error as Error).message });
  } finally {
    configureKernels({ kernels: 'reference', threads: 1 }); // stops the kernel threads
  }
};
