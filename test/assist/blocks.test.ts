import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEpisode, encodeEpisode, finalGrid, initModel } from '../../src/assist/index.js';
import { loadEpisodes, saveEpisode } from '../../src/assist/episode-store.js';
import { allHouses, housesOf } from '../../src/assist/blocks/houses.js';
import { playSession } from '../../src/assist/blocks/session.js';
import { CROWD, PEOPLE } from '../../src/assist/blocks/users.js';
import { BLOCKS_APP, sameGrid } from '../../src/assist/blocks/world.js';

describe('houses', () => {
  it('come from the grammar with a fixed held-out split', () => {
    const all = allHouses();
    expect(all).toHaveLength(6912);
    const [train, test] = [housesOf('train'), housesOf('test')];
    expect(train.length + test.length).toBe(all.length);
    expect(test.length / all.length).toBeGreaterThan(0.15);
    expect(test.length / all.length).toBeLessThan(0.25);
    expect(new Set(all.map((h) => h.name)).size).toBe(all.length);
    // Every house has blocks and its door is open.
    expect(all.every((h) => h.grid.some((v) => v !== 0))).toBe(true);
  });
});

describe('a session', () => {
  const house = housesOf('test')[3];

  it('ends with the goal built by a scripted person alone, and its episode replays', () => {
    const { episode, metrics } = playSession({ house, person: PEOPLE[2], seed: 4, horizon: 20 });
    expect(metrics.done).toBe(true);
    expect(metrics.humanActions).toBeGreaterThanOrEqual(house.grid.filter((v) => v !== 0).length);
    expect(sameGrid(finalGrid(episode), house.grid)).toBe(true);
    const { id, bytes } = encodeEpisode(episode);
    expect(decodeEpisode(id, bytes).steps).toHaveLength(metrics.humanActions);
  });

  it('is the same for the same seed and differs for another', () => {
    const a = playSession({ house, person: CROWD[0], seed: 1, horizon: 20 });
    const b = playSession({ house, person: CROWD[0], seed: 1, horizon: 20 });
    const c = playSession({ house, person: CROWD[0], seed: 2, horizon: 20 });
    expect(encodeEpisode(b.episode).id).toBe(encodeEpisode(a.episode).id);
    expect(encodeEpisode(c.episode).id).not.toBe(encodeEpisode(a.episode).id);
  });

  it('records who did what when the assistant plays, and the person undoes its wrong blocks', () => {
    // An untrained model with a near-zero cost of mistakes places blocks freely: many are wrong.
    const model = initModel(BLOCKS_APP, 1);
    const { episode, metrics } = playSession({ house, person: PEOPLE[0], seed: 4, horizon: 20, model, rewards: { help: 1, wrong: 1e-6 } });
    expect(metrics.done).toBe(true);
    expect(metrics.assistantPlaced).toBeGreaterThan(0);
    // The goal is built, so every wrong block of the assistant's was removed by the person, and no right one.
    expect(metrics.undone).toBeGreaterThan(0);
    expect(metrics.undone).toBe(metrics.assistantPlaced - metrics.assistantCorrect);
    expect(episode.steps.filter((s) => s.who === 'assistant' && s.kind === 'place')).toHaveLength(metrics.assistantPlaced);
    expect(sameGrid(finalGrid(episode), house.grid)).toBe(true);
  });

  it('with the oracle (an assistant that knows the goal), one right block a turn: the bench\'s ceiling', () => {
    const alone = playSession({ house, person: PEOPLE[0], seed: 4, horizon: 20 }).metrics;
    const { episode, metrics } = playSession({ house, person: PEOPLE[0], seed: 4, horizon: 20, oracle: true });
    expect(metrics.done).toBe(true);
    expect(metrics.assistantCorrect).toBe(metrics.assistantPlaced);
    expect(metrics.undone).toBe(0);
    // One block a turn at most, and at most one turn per tick.
    expect(metrics.assistantPlaced).toBeLessThanOrEqual(metrics.ticks);
    expect(metrics.humanActions).toBeLessThan(alone.humanActions);
    expect(metrics.humanActions + metrics.assistantPlaced).toBeGreaterThanOrEqual(house.grid.filter((v) => v !== 0).length);
    expect(sameGrid(finalGrid(episode), house.grid)).toBe(true);
  });
});

describe('the episode store', () => {
  it('skips a corrupted episode, detected by its hash, and loads the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mycel-assist-'));
    try {
      const houses = housesOf('train');
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await saveEpisode(dir, playSession({ house: houses[i], person: CROWD[i], seed: i, horizon: 10 }).episode));
      const file = join(dir, `${ids[1]}.json`);
      const bytes = await readFile(file);
      bytes[bytes.length - 5] ^= 0x01;
      await writeFile(file, bytes);
      const loaded = await loadEpisodes(dir);
      expect(loaded.episodes.map((e) => e.id).sort()).toEqual([ids[0], ids[2]].sort());
      expect(loaded.skipped).toEqual([{ id: ids[1], reason: expect.stringContaining(`Episode ${ids[1]} is corrupt: its bytes hash to`) }]);
      expect(await loadEpisodes(join(dir, 'none'))).toEqual({ episodes: [], skipped: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
