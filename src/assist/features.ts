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
 */
import type { AppSpec } from './app.js';

export function featureCount(app: AppSpec): number {
  const K = app.values;
  return 27 * (K + 1) + 8 * K + 2 * K + app.grid[1] + (K - 1) + 3;
}

/** Features of `grid` [cells, F] as a Float32Array, row per cell; lastCell = -1 when the person has not acted. */
export function encodeState(app: AppSpec, grid: Uint8Array, lastCell: number, out = new Float32Array(grid.length * featureCount(app))): Float32Array {
  const [X, Y, Z] = app.grid;
  const K = app.values;
  const F = featureCount(app);
  const cells = X * Y * Z;
  const at = (x: number, y: number, z: number) => (x < 0 || y < 0 || z < 0 || x >= X || y >= Y || z >= Z ? -1 : grid[(x * Y + y) * Z + z]);
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < cells; i++) counts[grid[i]]++;
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
      }
    }
  }
  return out;
}
