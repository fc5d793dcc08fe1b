/**
 * What an app tells the SDK: its state (a grid of whole numbers, one per cell, 0 meaning empty), its actions
 * (place a value in a cell, or do nothing) and its goal space (a target value for every cell: the finished grid).
 */
import { AppSpecError, StateShapeError } from './errors.js';

export type GridShape = readonly [number, number, number];

export type AppSpec = {
  /** The state's one field: [X, Y, Z] cells, axis 1 pointing up; cell (x, y, z) is index (x * Y + y) * Z + z. */
  grid: GridShape;
  /** How many values a cell takes, 0 (empty) included: for a block game, air and the materials. */
  values: number;
  /** Names of the values, for pages and logs (values[0] is the empty one). */
  names?: readonly string[];
};

/** A grid as the app gives it: flat (row-major) or nested [x][y][z]. */
export type GridInput = ArrayLike<number> | readonly (readonly (readonly number[])[])[];

/** The assistant's moves: one block placed, or nothing. (A person may also remove; see episode.ts.) */
export type AssistAction = { kind: 'place'; cell: number; value: number } | { kind: 'noop' };

export function defineApp(spec: AppSpec): AppSpec & { cells: number } {
  const { grid, values } = spec;
  if (grid.length !== 3 || !grid.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) {
    throw new AppSpecError(`An app's grid must be three whole numbers from 1 to 64 ([X, Y, Z]), got [${grid.join(', ')}].`);
  }
  if (!Number.isInteger(values) || values < 2 || values > 255) throw new AppSpecError(`An app's values must be a whole number from 2 to 255 (empty included), got ${values}.`);
  if (spec.names && spec.names.length !== values) throw new AppSpecError(`An app's names must name all ${values} values, got ${spec.names.length}.`);
  return { ...spec, cells: grid[0] * grid[1] * grid[2] };
}

export const cellCount = (app: AppSpec): number => app.grid[0] * app.grid[1] * app.grid[2];

/** The shape of a nested array ([] for a number), or undefined if its rows are ragged. */
function nestedShape(v: unknown): number[] | undefined {
  if (typeof v === 'number') return [];
  if (!Array.isArray(v)) return undefined;
  if (v.length === 0) return [0];
  const inner = nestedShape(v[0]);
  if (!inner) return undefined;
  for (const row of v) {
    const s = nestedShape(row);
    if (!s || s.length !== inner.length || s.some((d, i) => d !== inner[i])) return undefined;
  }
  return [v.length, ...inner];
}

/**
 * The grid as bytes, checked against the app: the right shape (flat with every cell, or nested [X][Y][Z]) and
 * whole values in 0..values-1. The error names the field, the expected shape and what came.
 */
export function readGrid(app: AppSpec, grid: GridInput, field = 'grid'): Uint8Array {
  const cells = cellCount(app);
  const expected = `shape [${app.grid.join(', ')}] (${cells} whole numbers from 0 to ${app.values - 1}, flat or nested)`;
  if (grid === null || typeof grid !== 'object') throw new StateShapeError(field, expected, typeof grid);
  const isNested = Array.isArray(grid) && grid.length > 0 && Array.isArray(grid[0]);
  let flat: ArrayLike<number>;
  if (isNested) {
    const shape = nestedShape(grid);
    if (!shape) throw new StateShapeError(field, expected, 'nested arrays with rows of different lengths');
    if (shape.length !== 3 || shape.some((d, i) => d !== app.grid[i])) throw new StateShapeError(field, expected, `shape [${shape.join(', ')}]`);
    flat = (grid as number[][][]).flat(2);
  } else {
    flat = grid as ArrayLike<number>;
    if (flat.length !== cells) throw new StateShapeError(field, expected, `shape [${flat.length}]`);
  }
  const out = new Uint8Array(cells);
  for (let i = 0; i < cells; i++) {
    const v = flat[i];
    if (!Number.isInteger(v) || v < 0 || v >= app.values) throw new StateShapeError(field, expected, `${String(v)} at index ${i}`);
    out[i] = v;
  }
  return out;
}

/** [x, y, z] of a cell index. */
export function cellXYZ(app: AppSpec, cell: number): [number, number, number] {
  const [, Y, Z] = app.grid;
  return [Math.floor(cell / (Y * Z)), Math.floor(cell / Z) % Y, cell % Z];
}

export function cellIndex(app: AppSpec, x: number, y: number, z: number): number {
  const [, Y, Z] = app.grid;
  return (x * Y + y) * Z + z;
}
