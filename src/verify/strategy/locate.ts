/**
 * Locating a divergence without a counterparty: given an agreed state t-1 and another party's state t
 * (its checkpoint), the first op (in trace order) that writes a differing state tensor, the first
 * differing element of it, and the first instruction of that element's program whose state cannot
 * lead to the other party's value (as the game would find against a least-forging liar). Also the
 * public choice of sampled steps.
 */
import { createSha256 } from '../../platform/sha256.js';
import type { JobProgram } from '../../train/program.js';
import type { TrainState } from '../../train/state.js';
import type { Tensor } from '../../tensor/index.js';
import { run, stateHashOf } from '../machine/index.js';
import { programAt } from '../game/element-level.js';
import type { Rules } from '../game/types.js';
import { executeStep, stateTensor } from './execute.js';
import { forge } from './party.js';

export type Divergence = {
  t: number;
  op: number;
  opName: string;
  opKind: string;
  tensor: string;
  element: number;
  ours: number;
  theirs: number;
  instruction: number;
  opcode: string;
};

const wordsOf = (t: Tensor) => (t.data instanceof Int32Array ? t.data : new Int32Array(t.data.buffer, t.data.byteOffset, t.data.length));

export function locateDivergence(rules: Rules, program: JobProgram, before: TrainState, theirs: TrainState): Divergence | undefined {
  const exec = executeStep(program, before);
  const s = rules.structure(exec.t);
  const candidates = s.stateOutputs
    .filter((o) => o.source.kind === 'op')
    .map((o) => ({ name: o.name, op: (o.source as { index: number }).index }))
    .sort((a, b) => a.op - b.op);
  for (const { name, op } of candidates) {
    const [a, b] = [wordsOf(exec.ops[op].output), wordsOf(stateTensor(theirs, name))];
    const element = a.findIndex((w, k) => w !== b[k]);
    if (element < 0) continue;
    const program_ = programAt(rules, exec.t, op, element);
    const result = run(program_, exec.ops[op].inputs.map(wordsOf), element, { keepStates: true });
    const states = result.states!;
    const forged = forge(program_[result.final.pc].a, states, b[element]);
    const k = forged.findIndex((st, i) => stateHashOf(st) !== stateHashOf(states[i]));
    const instruction = Math.max(0, k - 1);
    return {
      t: exec.t, op, opName: s.ops[op].name, opKind: s.ops[op].op, tensor: name, element, ours: a[element], theirs: b[element],
      instruction, opcode: program_[states[instruction].pc].op,
    };
  }
  return undefined;
}

/** K distinct steps of 1..T chosen from a public seed (SHA-256 counter mode), ascending. */
export function sampleSteps(seed: string, steps: number, k: number): number[] {
  const chosen = new Set<number>();
  for (let i = 0; chosen.size < Math.min(k, steps); i++) {
    const digest = createSha256().update(new TextEncoder().encode(`${seed}:${i}`)).digest();
    chosen.add((new DataView(digest.buffer, digest.byteOffset).getUint32(0) % steps) + 1);
  }
  return [...chosen].sort((a, b) => a - b);
}
