/**
 * When to act. Placing value v at an empty cell c earns `help` if the finished grid has v there (the person is
 * spared that action) and costs `wrong` otherwise (the person must undo it), so its expected reward is
 *   p(c, v) * help - (1 - p(c, v)) * wrong,
 * positive exactly when p(c, v) > wrong / (help + wrong). With help = wrong = 1 (the default) that is
 * AssistanceZero's rule: place a block only where the belief that it belongs exceeds 50%. The assistant takes the
 * placement of highest expected reward if it is positive, and otherwise does nothing (NO-OP). Among equal expected
 * rewards it prefers the cell the human model expects the person to work on next (then the lowest index), so the
 * choice is a pure function of the belief and the bits are the same everywhere.
 */
import type { AssistAction } from './app.js';
import type { Belief } from './model.js';

export type Rewards = { help: number; wrong: number };
export const DEFAULT_REWARDS: Rewards = { help: 1, wrong: 1 };

export type Decision = {
  action: AssistAction;
  /** The belief that the chosen value belongs at the chosen cell (for a NO-OP, of the best candidate; 0 if none). */
  confidence: number;
  /** The expected reward of the chosen placement (for a NO-OP, of the best candidate it declined). */
  expectedReward: number;
};

/**
 * The act rule over a belief. `grid` is the state now (a cell with a value is never overwritten: removing is the
 * person's), `refused` the cells where the person removed an assistant's block this episode (never placed again).
 */
export function decide(belief: Belief, grid: Uint8Array, values: number, refused: ReadonlySet<number> = new Set(), rewards: Rewards = DEFAULT_REWARDS): Decision {
  let best: { cell: number; value: number; p: number; er: number } | undefined;
  for (let c = 0; c < grid.length; c++) {
    if (grid[c] !== 0 || refused.has(c)) continue;
    let value = 1;
    for (let v = 2; v < values; v++) if (belief.goal[c * values + v] > belief.goal[c * values + value]) value = v;
    const p = belief.goal[c * values + value];
    const er = p * rewards.help - (1 - p) * rewards.wrong;
    if (!best || er > best.er || (er === best.er && belief.human[c] > belief.human[best.cell])) best = { cell: c, value, p, er };
  }
  if (!best) return { action: { kind: 'noop' }, confidence: 0, expectedReward: 0 };
  if (best.er <= 0) return { action: { kind: 'noop' }, confidence: best.p, expectedReward: best.er };
  return { action: { kind: 'place', cell: best.cell, value: best.value }, confidence: best.p, expectedReward: best.er };
}
