/**
 * The state encoding both networks read: one row of features per cell, the same function at every cell (so a
 * network trained on some houses applies to any house, as a convolution would). Every feature is 0, 1 or a count
 * divided by the cell count, so the encoding is exact and the same on every engine.
 *
 * Per cell (x, y, z), with K values and the grid's height Y:
 * - its 3x3x3 neighbourhood, one-hot over K values plus "outside the grid"        27 (K + 1)
 * - along +x, -x, +z, -z, at its level and the level below: the first non-empty
 *   value met (one-hot, 0 = none met)                                            8 K
 * - straight down and straight up: the first non-empty value met                 2 K
 * - its level, one-hot                                                           Y
 * - how many cells hold each non-empty value, over the cell count                K - 1
 * - next to the person's latest action (within one cell), same level, same row   3
 * - the person's refusals (cells where they removed a block of the assistant's):
 *   at this cell; any in its 3x3x3 neighbourhood, at its level, anywhere (0/1)   4
 *
 * - where it stands in the box around the blocks placed (over x and z): on its first or last
 *   column or row, on the middle column or row (the upper of two), strictly inside,
 *   outside; on the highest level that has a block, on the one above it         10
 *
 * The box is where doors and windows are (the middle of a wall) and where a roof would go: the ray features alone
 * cannot tell the middle of a wall from any other cell of it, so the goal head guessed wall at the window and door.
 * The refusals are evidence about the goal as much as the person's own blocks are: a brick the person took off the
 * top of the walls says "no roof" for every cell of that level. Without them the belief after an undo is the belief
 * before it, and the assistant offers the same wrong guess at the next cell, and the next, until all are refused. They are 0/1 (is
 * there one), not counts over the cells: one refused block out of a level's 49 was too faint a signal (1/49) for the
 * goal head to act on once fine-tuning on a person moved its belief in roofs.
 */
import type { AppSpec } from './app.js';

export function featureCount(app: AppSpec): number {
  const K = app.values;
  return 27 * (K + 1) + 8 * K + 2 * K + app.grid[1] + (K - 1) + 3 + 4 + 10;
}

/**
 * Features of `grid` [cells, F] as a Float32Array, row per cell; lastCell = -1 when the person has not acted;
 * refused[c] = 1 where the person removed a block of the assistant's (undefined: none).
 */
export function encodeState(app: AppSpec, grid: Uint8Array, lastCell: number, refused?: Uint8Array, out = new Float32Array(grid.length * featureCount(app))): Float32Array {
  const [X, Y, Z] = app.grid;
  const K = app.values;
  const F = featureCount(app);
  const cells = X * Y * Z;
  const at = (x: number, y: number, z: number) => (x < 0 || y < 0 || z < 0 || x >= X || y >= Y || z >= Z ? -1 : grid[(x * Y + y) * Z + z]);
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < cells; i++) counts[grid[i]]++;
  // The box around the blocks placed (x0 > x1 when there is none), and the highest level with a block (-1: none).
  let [x0, x1, z0, z1, top] = [X, -1, Z, -1, -1];
  for (let i = 0; i < cells; i++) {
    if (grid[i] === 0) continue;
    const [x, y, z] = [Math.floor(i / (Y * Z)), Math.floor(i / Z) % Y, i % Z];
    [x0, x1, z0, z1, top] = [Math.min(x0, x), Math.max(x1, x), Math.min(z0, z), Math.max(z1, z), Math.max(top, y)];
  }
  const boxed = x0 <= x1;
  const [midX, midZ] = [x0 + ((x1 - x0 + 1) >> 1), z0 + ((z1 - z0 + 1) >> 1)];
  const no = (x: number, y: number, z: number) => (refused && x >= 0 && y >= 0 && z >= 0 && x < X && y < Y && z < Z && refused[(x * Y + y) * Z + z] ? 1 : 0);
  const refusedAtLevel = new Array<number>(Y).fill(0);
  let refusedAll = 0;
  if (refused) for (let i = 0; i < cells; i++) if (refused[i]) { refusedAtLevel[Math.floor(i / Z) % Y]++; refusedAll++; }
  const [lx, ly, lz] = lastCell < 0 ? [-9, -9, -9] : [Math.floor(lastCell / (Y * Z)), Math.floor(lastCell / Z) % Y, lastCell % Z];
  // First non-empty value from (x, y, z) stepping by (dx, dy, dz), the start excluded; 0 if none.
  const ray = (x: number, y: number, z: number, dx: number, dy: number, dz: number) => {
    for (let s = 1; ; s++) {
      const v = at(x + s * dx, y + s * dy, z + s * dz);
      if (v !== 0) return v < 0 ? 0 : v;
    }
  };
  out.fill(0, 0, cells * F);
  for (let x = 0; x < X; x++) {
    for (let y = 0; y < Y; y++) {
      for (let z = 0; z < Z; z++) {
        const row = ((x * Y + y) * Z + z) * F;
        let f = row;
        for (let dx = -1; dx <= 1; dx++) {
          for (let dy = -1; dy <= 1; dy++) {
            for (let dz = -1; dz <= 1; dz++) {
              const v = at(x + dx, y + dy, z + dz);
              out[f + (v < 0 ? K : v)] = 1;
              f += K + 1;
            }
          }
        }
        for (const level of [y, y - 1]) {
          for (const [dx, dz] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
            if (level >= 0) out[f + ray(x, level, z, dx, 0, dz)] = 1;
            f += K;
          }
        }
        out[f + ray(x, y, z, 0, -1, 0)] = 1;
        f += K;
        out[f + ray(x, y, z, 0, 1, 0)] = 1;
        f += K;
        out[f + y] = 1;
        f += Y;
        for (let v = 1; v < K; v++) out[f++] = counts[v] / cells;
        out[f++] = Math.abs(x - lx) <= 1 && Math.abs(y - ly) <= 1 && Math.abs(z - lz) <= 1 ? 1 : 0;
        out[f++] = y === ly ? 1 : 0;
        out[f++] = y === ly && (x === lx || z === lz) ? 1 : 0;
        let near = 0;
        for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) near += no(x + dx, y + dy, z + dz);
        out[f++] = no(x, y, z);
        out[f++] = near > 0 ? 1 : 0;
        out[f++] = refusedAtLevel[y] > 0 ? 1 : 0;
        out[f++] = refusedAll > 0 ? 1 : 0;
        if (boxed) {
          const inX = x >= x0 && x <= x1;
          const inZ = z >= z0 && z <= z1;
          out[f] = x === x0 && inZ ? 1 : 0;
          out[f + 1] = x === x1 && inZ ? 1 : 0;
          out[f + 2] = z === z0 && inX ? 1 : 0;
          out[f + 3] = z === z1 && inX ? 1 : 0;
          out[f + 4] = x === midX && inZ ? 1 : 0;
          out[f + 5] = z === midZ && inX ? 1 : 0;
          out[f + 6] = x > x0 && x < x1 && z > z0 && z < z1 ? 1 : 0;
          out[f + 7] = inX && inZ ? 0 : 1;
          out[f + 8] = y === top ? 1 : 0;
          out[f + 9] = y === top + 1 ? 1 : 0;
        }
        f += 10;
      }
    }
  }
  return out;
}
