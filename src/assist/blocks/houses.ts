/**
 * Houses from a small procedural grammar: a rectangular footprint somewhere on the ground, walls of one material
 * and height, a door in the front or back wall, glass windows (none, in the side walls, or also in the wall opposite
 * the door), and a flat brick roof or none. 6,912 houses; a fifth of them, chosen by the hash of their name, are
 * held out: the base model never trains on them, and the bench measures on them.
 */
import { sha256 } from '../../platform/sha256.js';
import { cellIndex } from '../app.js';
import { AIR, BLOCKS_APP, BRICK, GLASS, STONE, WOOD } from './world.js';

export type HouseParams = {
  w: number; d: number; ox: number; oz: number;
  material: 'wood' | 'stone';
  height: 2 | 3;
  door: 'front' | 'back';
  windows: 'none' | 'side' | 'all';
  roof: 'none' | 'flat';
};

export type House = HouseParams & { name: string; grid: Uint8Array; split: 'train' | 'test' };

export function houseName(p: HouseParams): string {
  return `house-${p.w}x${p.d}-at${p.ox},${p.oz}-${p.material}-h${p.height}-door-${p.door}-win-${p.windows}-roof-${p.roof}`;
}

export function houseGrid(p: HouseParams): Uint8Array {
  const grid = new Uint8Array(BLOCKS_APP.cells);
  const set = (x: number, y: number, z: number, v: number) => { grid[cellIndex(BLOCKS_APP, x, y, z)] = v; };
  const [x0, x1, z0, z1] = [p.ox, p.ox + p.w - 1, p.oz, p.oz + p.d - 1];
  const wall = p.material === 'wood' ? WOOD : STONE;
  for (let y = 0; y < p.height; y++) {
    for (let x = x0; x <= x1; x++) for (let z = z0; z <= z1; z++) if (x === x0 || x === x1 || z === z0 || z === z1) set(x, y, z, wall);
  }
  const midX = p.ox + Math.floor(p.w / 2);
  const midZ = p.oz + Math.floor(p.d / 2);
  const doorZ = p.door === 'front' ? z0 : z1;
  if (p.windows !== 'none') {
    set(x0, 1, midZ, GLASS);
    set(x1, 1, midZ, GLASS);
    if (p.windows === 'all') set(midX, 1, p.door === 'front' ? z1 : z0, GLASS);
  }
  set(midX, 0, doorZ, AIR);
  set(midX, 1, doorZ, AIR);
  if (p.roof === 'flat') for (let x = x0; x <= x1; x++) for (let z = z0; z <= z1; z++) set(x, p.height, z, BRICK);
  return grid;
}

/** Held out when the first byte of SHA-256(name) is below 52 (about a fifth). */
export const splitOf = (name: string): 'train' | 'test' => (sha256(new TextEncoder().encode(name))[0] < 52 ? 'test' : 'train');

let all: House[] | undefined;

/** Every house of the grammar, in a fixed order. */
export function allHouses(): House[] {
  if (all) return all;
  all = [];
  for (const w of [3, 4, 5]) for (const d of [3, 4, 5]) for (let ox = 0; ox + w <= 7; ox++) for (let oz = 0; oz + d <= 7; oz++) {
    for (const material of ['wood', 'stone'] as const) for (const height of [2, 3] as const) for (const door of ['front', 'back'] as const) {
      for (const windows of ['none', 'side', 'all'] as const) for (const roof of ['none', 'flat'] as const) {
        const p: HouseParams = { w, d, ox, oz, material, height, door, windows, roof };
        const name = houseName(p);
        all.push({ ...p, name, grid: houseGrid(p), split: splitOf(name) });
      }
    }
  }
  return all;
}

export const housesOf = (split: 'train' | 'test'): House[] => allHouses().filter((h) => h.split === split);
