/**
 * Scripted users: goal-directed builders with noise. Each knows its goal and, at each action, takes a cell that
 * differs from it (a wrong block to remove, or a missing one to place) in its own order: layer by layer around the
 * walls, wall by wall, or nearest to its last action; now and then it takes the second cell in that order instead,
 * and a few percent of its placements are the wrong material (which it removes and places again later). People
 * differ in speed (actions per tick) and in taste: which houses they tend to build.
 */
import { Rng } from '../../tensor/index.js';
import { cellXYZ } from '../app.js';
import { AIR, BLOCKS_APP, MATERIALS } from './world.js';
import type { House } from './houses.js';

export type Person = {
  name: string;
  order: 'layers' | 'walls' | 'nearest';
  /** Probability that a placement is the wrong material (the 5-10%). */
  wrong: number;
  /** Probability of taking the second cell of its order instead of the first. */
  swap: number;
  /** Actions per tick (a fraction: some ticks pass with no action). */
  speed: number;
  /** The houses this person tends to build: a weight for a house (uniform when absent). */
  taste?: (h: House) => number;
};

export type HumanMove = { kind: 'place' | 'remove'; cell: number; value: number };

/** A float in [0, 1) from the counter RNG (24 bits, exact). */
export const draw = (rng: Rng): number => (rng.words(1)[0] >>> 8) / 2 ** 24;

/** The order key of a cell for a person building `goal` (smaller first), given its last action's cell. */
function orderKey(person: Person, goal: Uint8Array, cell: number, last: number): number {
  const [x, y, z] = cellXYZ(BLOCKS_APP, cell);
  if (person.order === 'nearest') {
    if (last < 0) return y * 1000 + cell;
    const [lx, ly, lz] = cellXYZ(BLOCKS_APP, last);
    return (Math.abs(x - lx) + Math.abs(z - lz) + 3 * Math.abs(y - ly)) * 1000 + cell;
  }
  // Around the footprint's perimeter: the side (front, right, back, left) and the position along it.
  const b = bounds(goal);
  const side = z === b.z0 ? 0 : x === b.x1 ? 1 : z === b.z1 ? 2 : x === b.x0 ? 3 : 4;
  const along = side === 0 ? x - b.x0 : side === 1 ? z - b.z0 : side === 2 ? b.x1 - x : side === 3 ? b.z1 - z : x * 7 + z;
  return person.order === 'layers' ? (y * 5 + side) * 100 + along : (side * 5 + y) * 100 + along;
}

type Bounds = { x0: number; x1: number; z0: number; z1: number };
const boundsCache = new WeakMap<Uint8Array, Bounds>();
function bounds(goal: Uint8Array): Bounds {
  let b = boundsCache.get(goal);
  if (b) return b;
  b = { x0: 99, x1: -1, z0: 99, z1: -1 };
  for (let c = 0; c < goal.length; c++) {
    if (goal[c] === AIR) continue;
    const [x, , z] = cellXYZ(BLOCKS_APP, c);
    b = { x0: Math.min(b.x0, x), x1: Math.max(b.x1, x), z0: Math.min(b.z0, z), z1: Math.max(b.z1, z) };
  }
  boundsCache.set(goal, b);
  return b;
}

/** The person's next action towards `goal`, or undefined when the grid is the goal. */
export function humanMove(person: Person, goal: Uint8Array, grid: Uint8Array, last: number, rng: Rng): HumanMove | undefined {
  const todo: number[] = [];
  for (let c = 0; c < grid.length; c++) if (grid[c] !== goal[c]) todo.push(c);
  if (todo.length === 0) return undefined;
  // Wrong blocks first among equals: a cell holding the wrong material is removed before anything is placed on it.
  todo.sort((a, b) => orderKey(person, goal, a, last) - orderKey(person, goal, b, last) || a - b);
  const cell = todo.length > 1 && draw(rng) < person.swap ? todo[1] : todo[0];
  if (grid[cell] !== AIR) return { kind: 'remove', cell, value: 0 };
  let value = goal[cell];
  if (draw(rng) < person.wrong) value = 1 + ((value - 1 + 1 + Math.floor(draw(rng) * (MATERIALS.length - 2))) % (MATERIALS.length - 1));
  return { kind: 'place', cell, value };
}

/** The scripted people of the bench and the tests. The first three have tastes; the crowd builds anything. */
export const PEOPLE: Person[] = [
  { name: 'ada', order: 'layers', wrong: 0.05, swap: 0.2, speed: 1, taste: (h) => (h.material === 'stone' ? 9 : 1) * (h.roof === 'flat' ? 9 : 1) * (h.windows === 'side' ? 4 : 1) },
  { name: 'ben', order: 'walls', wrong: 0.08, swap: 0.15, speed: 1.5, taste: (h) => (h.material === 'wood' ? 9 : 1) * (h.roof === 'none' ? 9 : 1) * (h.windows === 'all' ? 4 : 1) },
  { name: 'cy', order: 'nearest', wrong: 0.1, swap: 0.25, speed: 0.75, taste: (h) => (h.height === 3 ? 9 : 1) * (h.windows === 'none' ? 9 : 1) * (h.w === h.d ? 4 : 1) },
];

export const CROWD: Person[] = [
  { name: 'crowd-layers', order: 'layers', wrong: 0.07, swap: 0.2, speed: 1 },
  { name: 'crowd-walls', order: 'walls', wrong: 0.07, swap: 0.2, speed: 1 },
  { name: 'crowd-nearest', order: 'nearest', wrong: 0.07, swap: 0.2, speed: 1 },
];

/** `count` houses from `houses` drawn by the person's taste (with replacement). */
export function pickHouses(person: Person, houses: readonly House[], count: number, rng: Rng): House[] {
  const weights = houses.map((h) => person.taste?.(h) ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: House[] = [];
  for (let i = 0; i < count; i++) {
    let r = draw(rng) * total;
    let k = 0;
    while (k < houses.length - 1 && r >= weights[k]) r -= weights[k++];
    out.push(houses[k]);
  }
  return out;
}
