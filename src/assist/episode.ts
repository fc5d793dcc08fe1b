/**
 * An episode as it is recorded and stored: the app's grid, who did what in order (the person or the assistant:
 * place, remove, or the assistant's NO-OP), and the state after every step. Stored content-addressed: its name is
 * the SHA-256 of its bytes, so a file changed on disk no longer matches its name and is refused; and its states
 * must follow from its actions, so an episode written wrong is refused too.
 */
import { z } from 'zod';
import { sha256, toHex } from '../platform/sha256.js';
import type { AppSpec } from './app.js';
import { EpisodeCorruptError } from './errors.js';

export const EPISODE_FORMAT = 'mycel.assist.episode.v1';

export type EpisodeStep = {
  who: 'human' | 'assistant';
  kind: 'place' | 'remove' | 'noop';
  /** -1 for a NO-OP. */
  cell: number;
  /** The value placed (0 for remove and NO-OP). */
  value: number;
  /** The game's clock when it happened (the person's and the assistant's moves of one tick share it). */
  tick: number;
};

export type Episode = {
  format: typeof EPISODE_FORMAT;
  app: { grid: [number, number, number]; values: number };
  /** Who played (a name the app chooses; scripted users have theirs). */
  person: string;
  /** The goal's name where the app knows it (the bench does); the training label is the final state. */
  goal?: string;
  steps: EpisodeStep[];
  /** Base64 of the grid's bytes: states[0] before the first step, states[i + 1] after step i. */
  states: string[];
};

const schema = z.object({
  format: z.literal(EPISODE_FORMAT),
  app: z.object({ grid: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]), values: z.number().int().min(2).max(255) }),
  person: z.string().max(200),
  goal: z.string().max(200).optional(),
  steps: z.array(z.object({ who: z.enum(['human', 'assistant']), kind: z.enum(['place', 'remove', 'noop']), cell: z.number().int().min(-1), value: z.number().int().min(0), tick: z.number().int().min(0) })),
  states: z.array(z.string()),
}).strict();

export function gridToBase64(grid: Uint8Array): string {
  let s = '';
  for (const b of grid) s += String.fromCharCode(b);
  return btoa(s);
}

export function gridFromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Records an episode as it is played. */
export class EpisodeRecorder {
  readonly steps: EpisodeStep[] = [];
  readonly states: string[];
  constructor(readonly app: AppSpec, readonly person: string, initial: Uint8Array, readonly goal?: string) {
    this.states = [gridToBase64(initial)];
  }
  /** One step and the state after it. */
  record(step: EpisodeStep, after: Uint8Array): void {
    this.steps.push({ ...step });
    this.states.push(gridToBase64(after));
  }
  episode(): Episode {
    return {
      format: EPISODE_FORMAT,
      app: { grid: [...this.app.grid] as [number, number, number], values: this.app.values },
      person: this.person,
      ...(this.goal === undefined ? {} : { goal: this.goal }),
      steps: this.steps.map((s) => ({ ...s })),
      states: [...this.states],
    };
  }
}

/** The stored bytes (JSON with a fixed key order) and their name, the SHA-256 hex. */
export function encodeEpisode(episode: Episode): { id: string; bytes: Uint8Array } {
  const bytes = new TextEncoder().encode(JSON.stringify(episode));
  return { id: toHex(sha256(bytes)), bytes };
}

/** Checks the bytes against their name, the format, and that every state follows from the step before. */
export function decodeEpisode(id: string, bytes: Uint8Array): Episode {
  const actual = toHex(sha256(bytes));
  if (actual !== id) throw new EpisodeCorruptError(id, `its bytes hash to ${actual}`);
  let parsed: Episode;
  try {
    parsed = schema.parse(JSON.parse(new TextDecoder().decode(bytes))) as Episode;
  } catch (e) {
    throw new EpisodeCorruptError(id, `it is not a ${EPISODE_FORMAT} episode (${(e as Error).message.split('\n')[0]})`);
  }
  checkReplay(id, parsed);
  return parsed;
}

function checkReplay(id: string, ep: Episode): void {
  const cells = ep.app.grid[0] * ep.app.grid[1] * ep.app.grid[2];
  if (ep.states.length !== ep.steps.length + 1) throw new EpisodeCorruptError(id, `it has ${ep.states.length} states for ${ep.steps.length} steps (expected one more state than steps)`);
  let grid = gridFromBase64(ep.states[0]);
  if (grid.length !== cells) throw new EpisodeCorruptError(id, `its first state has ${grid.length} cells, expected ${cells}`);
  ep.steps.forEach((s, i) => {
    const next = grid.slice();
    if (s.kind === 'place') next[s.cell] = s.value;
    if (s.kind === 'remove') next[s.cell] = 0;
    const stored = gridFromBase64(ep.states[i + 1]);
    if (s.kind !== 'noop' && (s.cell < 0 || s.cell >= cells || s.value >= ep.app.values)) throw new EpisodeCorruptError(id, `step ${i} names cell ${s.cell} value ${s.value}, outside the grid`);
    if (stored.length !== cells || stored.some((v, c) => v !== next[c])) throw new EpisodeCorruptError(id, `state ${i + 1} does not follow from step ${i}`);
    grid = next;
  });
}

/** The finished grid: the episode's last state (the label the goal head learns). */
export const finalGrid = (ep: Episode): Uint8Array => gridFromBase64(ep.states[ep.states.length - 1]);
