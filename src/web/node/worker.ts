/**
 * The browser node's runtime, in a Web Worker (a page's main thread may not block, and the kernels' threads do): it
 * trains a job spec with the same program, kernels and state hashes as a Node solver (runInMemory), reports each
 * step's loss and speed, then the step hashes and the run commitment (the Merkle root a solver commits on chain).
 */
import { buildProgram } from '../../train/program.js';
import { parseJobSpec, type JobSpecInput } from '../../train/spec.js';
import { runInMemory, type InMemoryRun, type InMemoryStep } from '../../train/run-in-memory.js';
import { configureKernels } from '../../tensor/index.js';

export type WorkerRequest = { kind: 'run'; spec: JobSpecInput; kernels: 'fast' | 'reference'; threads: number };
export type WorkerReply = ({ kind: 'step' } & InMemoryStep) | ({ kind: 'done' } & InMemoryRun) | { kind: 'error'; message: string };

const post = (m: WorkerReply) => (self as unknown as { postMessage(m: WorkerReply): void }).postMessage(m);

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  try {
    configureKernels({ kernels: req.kernels, threads: req.threads });
    const run = runInMemory(buildProgram(parseJobSpec(req.spec)), (s) => post({ kind: 'step', ...s }));
    post({ kind: 'done', ...run });
  } catch (error) {
    post({ kind: 'error', message: (error as Error).message });
  } finally {
    configureKernels({ kernels: 'reference', threads: 1 }); // stops the kernel threads
  }
};
