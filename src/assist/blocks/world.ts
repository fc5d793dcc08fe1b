/** The block game's world: a 7 x 4 x 7 grid (axis 1 up) of air and four materials. */
import { defineApp } from '../app.js';

export const MATERIALS = ['air', 'wood', 'stone', 'glass', 'brick'] as const;
export type Material = (typeof MATERIALS)[number];
export const AIR = 0;
export const WOOD = 1;
export const STONE = 2;
export const GLASS = 3;
export const BRICK = 4;

export const BLOCKS_APP = defineApp({ grid: [7, 4, 7], values: MATERIALS.length, names: MATERIALS });

/** How many of the goal's blocks (its non-air cells) the grid has right, over how many it has. */
export function completion(grid: Uint8Array, goal: Uint8Array): number {
  let want = 0;
  let have = 0;
  for (let c = 0; c < goal.length; c++) {
    if (goal[c] === AIR) continue;
    want++;
    if (grid[c] === goal[c]) have++;
  }
  return want === 0 ? 1 : have / want;
}

export const sameGrid = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
