/**
 * Worker threads, started the same way in Node and in browsers. The worker's code is a source string, so
 * it runs unchanged from TypeScript sources (vitest, tsx), from dist/, and from a browser bundle; and
 * node:worker_threads is looked up at run time, so a browser bundle never imports it.
 */

/** A running worker thread. */
export type Thread = { terminate(): void };

type NodeWorker = { unref(): void; terminate(): Promise<number> };
type NodeWorkerThreads = {
  Worker: new (code: string, options: { eval: true; workerData: unknown }) => NodeWorker;
};

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return process?.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
}

/** Whether shared memory exists here (a browser page needs the COOP and COEP headers for it). */
export function hasSharedMemory(): boolean {
  return typeof SharedArrayBuffer !== 'undefined';
}

/**
 * Whether this thread may block in Atomics.wait: Node's main thread and all workers may, a browser
 * page's main thread may not.
 */
export function canBlock(): boolean {
  if (nodeWorkerThreads()) return true;
  const scope = (globalThis as { WorkerGlobalScope?: new () => unknown }).WorkerGlobalScope;
  return scope !== undefined && globalThis instanceof scope;
}

/**
 * Starts a thread that calls `body`, the source of a self-contained function expression `(data) => void`,
 * with a structured clone of `data` (SharedArrayBuffers, shared WebAssembly.Memory and WebAssembly.Module
 * are shared, not copied). The thread never keeps a Node process alive.
 */
export function startThread(body: string, data: unknown): Thread {
  const threads = nodeWorkerThreads();
  if (threads) {
    const worker = new threads.Worker(`(${body})(require('node:worker_threads').workerData);`, { eval: true, workerData: data });
    worker.unref();
    return { terminate: () => void worker.terminate() };
  }
  const url = URL.createObjectURL(
    new Blob([`onmessage = (event) => { onmessage = null; (${body})(event.data); };`], { type: 'text/javascript' }),
  );
  const worker = new Worker(url);
  worker.postMessage(data);
  return {
    terminate: () => {
      worker.terminate();
      URL.revokeObjectURL(url);
    },
  };
}
