/**
 * One episode of the block game between a scripted person and, optionally, the assistant: each tick the person
 * acts (speed permitting), then the assistant decides once (place or NO-OP). The person removes any wrong block it
 * meets, the assistant's included (an undo). Ends when the grid is the goal (with the assistant: and it does nothing
 * more) or at maxTicks. For a person of speed 1 these are the app's turns: each action of the person, then the
 * assistant's decision.
 */
import { Rng } from '../../tensor/index.js';
import { createAssistant } from '../assistant.js';
import { EpisodeRecorder, type Episode } from '../episode.js';
import type { AssistModel } from '../model.js';
import type { Rewards } from '../act.js';
import { AIR, BLOCKS_APP, completion, sameGrid } from './world.js';
import { cellXYZ, type AssistAction } from '../app.js';
import type { House } from './houses.js';
import { humanMove, type Person } from './users.js';

export type SessionMetrics = {
  humanActions: number;
  assistantPlaced: number;
  assistantCorrect: number;
  assistantNoops: number;
  /** The person's removals of blocks the assistant placed. */
  undone: number;
  /** Share of the goal's blocks in place at the horizon. */
  completionAtHorizon: number;
  done: boolean;
  ticks: number;
};

/**
 * oracle: instead of a model, an assistant that knows the goal: each turn it places one missing block of it (the
 * lowest level first), never a wrong one, and does nothing once the house is done. The best any assistant that
 * places one block a turn can do: what learning could reach at most (the bench's oracle_over_base).
 */
export type SessionOptions = { house: House; person: Person; model?: AssistModel; oracle?: boolean; seed: number; horizon: number; maxTicks?: number; rewards?: Rewards };

/** Cells from the ground up (level, then index): the oracle's order. */
const BOTTOM_UP = Array.from({ length: BLOCKS_APP.cells }, (_, c) => c).sort((a, b) => cellXYZ(BLOCKS_APP, a)[1] - cellXYZ(BLOCKS_APP, b)[1] || a - b);

export function playSession({ house, person, model, oracle, seed, horizon, maxTicks = 400, rewards }: SessionOptions): { episode: Episode; metrics: SessionMetrics } {
  const goal = house.grid;
  const grid = new Uint8Array(goal.length);
  const rng = new Rng(seed, 3);
  const rec = new EpisodeRecorder(BLOCKS_APP, person.name, grid, house.name);
  const byAssistant = new Set<number>();
  const refused = new Set<number>();
  const m: SessionMetrics = { humanActions: 0, assistantPlaced: 0, assistantCorrect: 0, assistantNoops: 0, undone: 0, completionAtHorizon: 0, done: false, ticks: 0 };
  let last = -1;
  let budget = 0;
  const act = ({ cell, value }: { cell: number; value: number }) => {
    grid[cell] = value;
    byAssistant.add(cell);
    m.assistantPlaced++;
    if (goal[cell] === value) m.assistantCorrect++;
  };
  const knowing = {
    step(): { action: AssistAction } {
      const cell = BOTTOM_UP.find((c) => grid[c] === AIR && goal[c] !== AIR);
      if (cell === undefined) return { action: { kind: 'noop' } };
      act({ cell, value: goal[cell] });
      return { action: { kind: 'place', cell, value: goal[cell] } };
    },
  };
  const assistant = oracle ? knowing : model && createAssistant({ model, rewards, observe: () => ({ grid, lastHumanCell: last, refused, assistantCells: byAssistant }), act });
  let tick = 0;
  for (; tick < maxTicks; tick++) {
    if (tick === horizon) m.completionAtHorizon = completion(grid, goal);
    budget += person.speed;
    for (; budget >= 1; budget--) {
      const move = humanMove(person, goal, grid, last, rng);
      if (!move) break;
      if (move.kind === 'remove' && byAssistant.has(move.cell)) {
        m.undone++;
        refused.add(move.cell);
      }
      byAssistant.delete(move.cell);
      grid[move.cell] = move.value;
      last = move.cell;
      m.humanActions++;
      rec.record({ who: 'human', kind: move.kind, cell: move.cell, value: move.value, tick }, grid);
    }
    if (!assistant) {
      if (sameGrid(grid, goal)) break;
      continue;
    }
    // The assistant does not know the house is finished: it takes its turn after the person's last block too, as in
    // the app, and a block it adds then is one more for the person to remove. The episode ends at its first NO-OP on
    // the finished house.
    const d = assistant.step();
    if (d.action.kind === 'place') rec.record({ who: 'assistant', kind: 'place', cell: d.action.cell, value: d.action.value, tick }, grid);
    else {
      m.assistantNoops++;
      rec.record({ who: 'assistant', kind: 'noop', cell: -1, value: 0, tick }, grid);
      if (sameGrid(grid, goal)) break;
    }
  }
  if (tick < maxTicks) tick++; // the tick of the break counts
  m.done = sameGrid(grid, goal);
  if (tick <= horizon) m.completionAtHorizon = completion(grid, goal);
  m.ticks = tick;
  return { episode: rec.episode(), metrics: m };
}
