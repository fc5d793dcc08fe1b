/**
 * A party's strategy: its moves, computed by re-executing from its own checkpoints (replayToStep,
 * then one traced step): it never needs a whole run in memory. The same code plays honest and lying
 * parties: a liar is a party whose program (its step function) or record (its claimed step hashes)
 * is not the job's. Where its own execution cannot back a claim it must make (its value of an element
 * is not what the element program computes; its ops are not the job's), it forges the least it can, as
 * a rational liar would, and the game catches it there. A claimed h_t that is not the hash of the
 * state its own step gives has no state tree to reveal: the party stays silent and loses by timeout.
 */
import { toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import { leafHash, merkleProof, merkleRoot, type Hash } from '../../train/merkle.js';
import { replayToStep } from '../../train/runner.js';
import { stateLeaves } from '../../train/state.js';
import { chunkLeaves, CHUNK_ELEMENTS, tensorCommitment } from '../../train/tensor-commitment.js';
import type { JobProgram } from '../../train/program.js';
import type { CheckpointSource, RunRecord } from '../../train/store.js';
import type { ProgramSpec } from '../../train/spec.js';
import type { Tensor } from '../../tensor/index.js';
import { run, stateHashOf, type MachineState } from '../machine/index.js';
import { batchLeaves } from '../game/commitments.js';
import { frontier } from '../game/descend.js';
import { claimOffsets, programAt } from '../game/element-level.js';
import { expectedMove } from '../game/transition.js';
import { fromMachineState, ZERO, type Move, type Party as Role, type Position, type Rules } from '../game/types.js';
import { executeStep, stateTensor, type StepExecution } from './execute.js';

export type Party = {
  role: Role;
  /** The next move for this position (undefined: the party does not move, and will time out). */
  move(pos: Position, rules: Rules): Promise<Move | undefined>;
  /** What the party computed during the game: steps re-executed, element instructions run. */
  work: { steps: number; instructions: number };
};

export type PartyOptions = {
  role: Role;
  /** The step function this party runs (the job's program for an honest party). */
  program: JobProgram;
  /** The job's program: what a liar falls back on where its own step does not fit the step program. */
  reference: JobProgram;
  store: CheckpointSource;
  record: RunRecord<ProgramSpec>;
};

const wordsOf = (t: Tensor) => (t.data instanceof Int32Array ? t.data : new Int32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const hexes = (hs: readonly Hash[]) => hs.map(toHex);
const runLeaves = (hashes: readonly string[]) => hashes.map((h) => leafHash(fromHex(h)));

export function replayParty(o: PartyOptions): Party {
  const work = { steps: 0, instructions: 0 };
  let exec: StepExecution | undefined;
  let leaves: Hash[] = [];
  /** The state tree of the party's h_t; undefined where its published h_t is not one its own step gives (it cannot open it). */
  let stateTree: Hash[] | undefined;
  let chunks: { op: number; leaves: Hash[]; words: Int32Array } | undefined;
  let element: { key: string; states: MachineState[] } | undefined;
  let ownRunLeaves: Hash[] | undefined;
  const runTree = () => (ownRunLeaves ??= runLeaves(o.record.stepHashes));

  async function stepExecution(rules: Rules, t: number): Promise<StepExecution> {
    if (exec?.t === t) return exec;
    const before = await replayToStep(o.program, o.store, o.record, t - 1);
    const from = Math.max(...Object.keys(o.record.checkpoints).map(Number).filter((s) => s <= t - 1));
    work.steps += t - 1 - from + 1;
    let e = executeStep(o.program, before);
    const own = stateLeaves(e.after);
    stateTree = toHex(merkleRoot(own)) === o.record.stepHashes[t] ? own : undefined;
    // A step that does not even have the job's op structure (a skipped step): claim the job's ops.
    if (e.ops.length !== rules.structure(t).ops.length) {
      e = executeStep(o.reference, before);
      work.steps++;
    }
    exec = e;
    // The party commits to the h_t it published, whatever its step gives.
    leaves = [...e.leaves.slice(0, -1), leafHash(fromHex(o.record.stepHashes[t]))];
    return e;
  }

  function chunkTree(op: number) {
    if (chunks?.op !== op) {
      const out = exec!.ops[op].output;
      chunks = { op, leaves: chunkLeaves(out.data), words: wordsOf(out) };
    }
    return chunks;
  }

  function machineStates(rules: Rules, pos: Position): MachineState[] {
    const key = `${pos.t}/${pos.op}/${pos.element}`;
    if (element?.key === key) return element.states;
    const program = programAt(rules, pos.t, pos.op, pos.element);
    const memory = exec!.ops[pos.op].inputs.map(wordsOf);
    const result = run(program, memory, pos.element, { keepStates: true });
    work.instructions += result.steps;
    let states = result.states!;
    const mine = role === 'solver' ? pos.valueSolver : pos.valueChallenger;
    if (result.result !== mine) states = forge(program[result.final.pc].a, states, mine);
    element = { key, states };
    return states;
  }

  const role = o.role;
  const revealFrontier = (all: Hash[], lo: number, n: number): Move =>
    ({ kind: 'reveal', by: role, nodes: frontier(n).map(({ offset, size }) => toHex(merkleRoot(all.slice(lo + offset, lo + offset + size)))) });

  return {
    role,
    work,
    async move(pos, rules) {
      const expected = expectedMove(pos);
      if (pos.turn !== role && pos.turn !== 'either') return undefined;
      switch (expected) {
        case 'commit-step': {
          await stepExecution(rules, pos.t);
          const hashes = o.record.stepHashes;
          const prev = role === 'solver' ? { hash: hashes[pos.t - 1], proof: hexes(merkleProof(runLeaves(hashes), pos.t - 1)) } : null;
          return { kind: 'commit-step', by: role, root: toHex(merkleRoot(leaves)), proof: hexes(merkleProof(leaves, leaves.length - 1)), h: hashes[pos.t], prev };
        }
        case 'reveal': {
          // The run level descends the party's own run tree: it needs nothing of the opponent's.
          if (pos.level === 'run') return revealFrontier(runTree(), pos.lo, pos.n);
          await stepExecution(rules, pos.t);
          if (pos.level !== 'state') return revealFrontier(pos.level === 'step' ? leaves : chunkTree(pos.op).leaves, pos.lo, pos.n);
          return stateTree && revealFrontier(stateTree, pos.lo, pos.n);
        }
        case 'commit-op':
          await stepExecution(rules, pos.t);
          return { kind: 'commit-op', by: role, chunkRoot: toHex(merkleRoot(chunkTree(pos.op).leaves)) };
        case 'open-chunk': {
          const { words } = chunkTree(pos.op);
          return { kind: 'open-chunk', by: role, words: Array.from(words.subarray(pos.lo * CHUNK_ELEMENTS, (pos.lo + 1) * CHUNK_ELEMENTS)) };
        }
        case 'commit-element': {
          const states = machineStates(rules, pos);
          return { kind: 'commit-element', by: role, final: fromMachineState(states[states.length - 1]) };
        }
        case 'claim': {
          const states = machineStates(rules, pos);
          return { kind: 'claim', by: role, hashes: claimOffsets(pos.n).map((k) => stateHashOf(states[Math.min(pos.lo + k, states.length - 1)])) };
        }
        case 'prove': {
          const states = machineStates(rules, pos);
          const pre = states[Math.min(pos.lo, states.length - 1)];
          return { kind: 'prove', by: role, pre: fromMachineState(pre), opening: openingFor(rules, pos, pre) };
        }
        case 'prove-state': {
          // The correct leaf lo of h_t from the party's own execution (the ops are agreed, so any party's will do).
          const e = await stepExecution(rules, pos.t);
          const before = stateLeaves(e.before);
          if (pos.lo === 0) return { kind: 'prove-state', by: role, optStep: e.before.opt.step, commitment: ZERO, proof: hexes(merkleProof(before, 0)) };
          const { source } = rules.structure(pos.t).stateOutputs[pos.lo - 1];
          const [commitment, proof] =
            source.kind === 'op' ? [toHex(e.commitments[source.index]), merkleProof(leaves, source.index)]
              : source.kind === 'state' ? [toHex(commitmentOfState(e, source.name)), merkleProof(before, source.leaf)]
                : [source.kind === 'constant' ? source.commitment : ZERO, []]; // a state tensor is never a batch tensor
          return { kind: 'prove-state', by: role, optStep: 0, commitment, proof: hexes(proof) };
        }
        default:
          return undefined;
      }
    },
  };

  function openingFor(rules: Rules, pos: Position, pre: MachineState) {
    const program = programAt(rules, pos.t, pos.op, pos.element);
    const ins = program[pre.pc];
    if (ins?.op !== 'load' || pre.halted) return null;
    const e = exec!;
    const tensor = e.ops[pos.op].inputs[ins.b];
    const address = (pre.registers[ins.a] + ins.imm) | 0;
    const chunk = Math.floor(address / CHUNK_ELEMENTS);
    const cl = chunkLeaves(tensor.data);
    const source = rules.structure(pos.t).ops[pos.op].inputs[ins.b].source;
    const sourceProof =
      source.kind === 'op' ? merkleProof(leaves, source.index)
        : source.kind === 'state' ? merkleProof(stateLeaves(e.before), source.leaf)
          : source.kind === 'batch' ? merkleProof(batchLeaves(e.batch), source.leaf) : [];
    return {
      chunkRoot: toHex(merkleRoot(cl)),
      chunk: Array.from(wordsOf(tensor).subarray(chunk * CHUNK_ELEMENTS, (chunk + 1) * CHUNK_ELEMENTS)),
      chunkProof: hexes(merkleProof(cl, chunk)),
      sourceProof: hexes(sourceProof),
    };
  }
}

function commitmentOfState(e: StepExecution, name: string): Hash {
  const t = stateTensor(e.before, name);
  return tensorCommitment(t.dtype, t.shape, t.data);
}

/**
 * A liar's machine states for an element whose value is not the program's: honest up to the last
 * write of the result register, then that register holds its value (the least it can forge).
 */
export function forge(resultRegister: number, states: MachineState[], value: number): MachineState[] {
  let last = 1;
  for (let k = 1; k < states.length; k++) if (states[k].registers[resultRegister] !== states[k - 1].registers[resultRegister]) last = k;
  return states.map((s, k) => {
    if (k < last) return s;
    const registers = s.registers.slice();
    registers[resultRegister] = value;
    return { ...s, registers };
  });
}

