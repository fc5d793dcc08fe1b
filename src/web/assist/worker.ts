/**
 * The assistant in a Web Worker: the same SDK, model and runtime as in Node (the WebAssembly SIMD kernels on one
 * thread, which give the reference bits), so a state gives the same belief and decision here as there. The page
 * sends the model's blob once, then a state per turn; the reply carries the decision, each cell's most believed
 * value and its probability, and the SHA-256 of the belief's bytes (tests compare it with Node's).
 */
import { configureKernels } from '../../tensor/index.js';
import { createAssistant, decodeModel, modelHash, type AssistModel } from '../../assist/index.js';
import type { Decision } from '../../assist/act.js';
import { sha256, toHex } from '../../platform/sha256.js';

export type AssistRequest =
  | { kind: 'model'; bytes: Uint8Array }
  | { kind: 'step'; id: number; act: boolean; grid: number[]; last: number; refused: number[]; assistantCells: number[] };

export type AssistReply =
  | { kind: 'model'; hash: string }
  | ({ kind: 'step'; id: number; topValue: number[]; topP: number[]; beliefHash: string } & Decision)
  | { kind: 'error'; message: string };

const post = (m: AssistReply) => (self as unknown as { postMessage(m: AssistReply): void }).postMessage(m);
let model: AssistModel | undefined;

function handle(req: AssistRequest): void {
  configureKernels({ kernels: 'fast', threads: 1 });
  if (req.kind === 'model') {
    model = decodeModel(req.bytes);
    return post({ kind: 'model', hash: modelHash(model) });
  }
  if (!model) throw new Error('no model yet: send it first');
  const values = model.app.values;
  const assistant = createAssistant({
    model,
    observe: () => ({ grid: req.grid, lastHumanCell: req.last, refused: req.refused, assistantCells: req.assistantCells }),
    act: () => {}, // the page applies the placement it is sent back
    ...(req.act ? {} : { rewards: { help: 0, wrong: 1 } }), // belief only: no placement pays
  });
  const r = assistant.step();
  const cells = req.grid.length;
  const topValue: number[] = [];
  const topP: number[] = [];
  for (let c = 0; c < cells; c++) {
    let best = 1;
    for (let v = 2; v < values; v++) if (r.belief.goal[c * values + v] > r.belief.goal[c * values + best]) best = v;
    topValue.push(best);
    topP.push(r.belief.goal[c * values + best]);
  }
  const bytes = new Uint8Array(r.belief.goal.buffer, r.belief.goal.byteOffset, r.belief.goal.byteLength);
  post({ kind: 'step', id: req.id, action: r.action, confidence: r.confidence, expectedReward: r.expectedReward, topValue, topP, beliefHash: toHex(sha256(bytes)) });
}

self.onmessage = (event: MessageEvent<AssistRequest>) => {
  try {
    handle(event.data);
  } catch (e) {
    post({ kind: 'error', message: String((e as Error).message ?? e).split('\n')[0] });
  }
};
