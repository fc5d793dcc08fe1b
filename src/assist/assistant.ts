/**
 * The SDK's entry point: an assistant bound to an app through two callbacks.
 *
 *   const assistant = createAssistant({ model, observe: () => ({ grid, lastHumanCell }), act: (a) => game.place(a) });
 *   const decision = assistant.step(); // observes, updates its belief, places a block or does nothing
 */
import { readGrid, type AssistAction, type GridInput } from './app.js';
import { decide, DEFAULT_REWARDS, type Decision, type Rewards } from './act.js';
import { believe, type AssistModel, type Belief } from './model.js';

export type Observation = {
  /** The state now: every cell's value (0 = empty), flat row-major or nested [X][Y][Z]. */
  grid: GridInput;
  /** The cell of the person's latest action, if they have acted (the human model conditions on it). */
  lastHumanCell?: number;
  /**
   * Cells where the person removed a block the assistant placed: it will not place there again, and the belief
   * takes them as evidence (a block refused on top of the walls says "no roof" for the rest of that level).
   */
  refused?: Iterable<number>;
  /**
   * Cells holding blocks the assistant placed (and the person has not touched since). The belief reads the grid
   * without them: it is a belief given the person's actions, so one wrong block of the assistant's does not become
   * evidence for more (a brick it put on top would otherwise look like a roof begun, and it would go on roofing).
   */
  assistantCells?: Iterable<number>;
};

export type AssistantOptions = {
  model: AssistModel;
  /** Returns the app's state when the assistant is about to decide. */
  observe: () => Observation;
  /** Carries out a placement (not called for a NO-OP). */
  act: (action: Extract<AssistAction, { kind: 'place' }>) => void;
  /** What a right and a wrong placement are worth; the default acts above 50% belief. */
  rewards?: Rewards;
};

export type StepResult = Decision & { belief: Belief };

export type Assistant = {
  /** Observe, believe, decide; act if the expected reward is positive. */
  step(): StepResult;
  /** The belief about the current state, without acting. */
  belief(): Belief;
  /** Use another model from the next step on (e.g. after fine-tuning, or one fetched and verified). */
  setModel(model: AssistModel): void;
  readonly model: AssistModel;
};

export function createAssistant({ model, observe, act, rewards = DEFAULT_REWARDS }: AssistantOptions): Assistant {
  let current = model;
  const read = () => {
    const o = observe();
    const grid = readGrid(current.app, o.grid);
    const last = o.lastHumanCell ?? -1;
    if (!Number.isInteger(last) || last < -1 || last >= grid.length) throw new RangeError(`observe().lastHumanCell must be a cell index from 0 to ${grid.length - 1}, got ${last}.`);
    const evidence = grid.slice();
    for (const c of o.assistantCells ?? []) if (Number.isInteger(c) && c >= 0 && c < grid.length) evidence[c] = 0;
    const refused = new Set(o.refused ?? []);
    // The refusals are evidence too (features.ts): the belief reads them as a mask over the cells.
    const refusedMask = new Uint8Array(grid.length);
    for (const c of refused) if (Number.isInteger(c) && c >= 0 && c < grid.length) refusedMask[c] = 1;
    return { grid, evidence, last, refused, refusedMask };
  };
  return {
    step() {
      const { grid, evidence, last, refused, refusedMask } = read();
      const belief = believe(current, evidence, last, refusedMask);
      const decision = decide(belief, grid, current.app.values, refused, rewards);
      if (decision.action.kind === 'place') act(decision.action);
      return { ...decision, belief };
    },
    belief() {
      const { evidence, last, refusedMask } = read();
      return believe(current, evidence, last, refusedMask);
    },
    setModel(next) {
      if (next.app.grid.join() !== current.app.grid.join() || next.app.values !== current.app.values) {
        throw new RangeError(`setModel: the new model is for a grid [${next.app.grid.join(', ')}] with ${next.app.values} values; this app has [${current.app.grid.join(', ')}] with ${current.app.values}.`);
      }
      current = next;
    },
    get model() {
      return current;
    },
  };
}
