import { describe, expect, it } from 'vitest';
import {
  createAssistant, decide, decodeEpisode, decodeModel, defineApp, encodeEpisode, encodeModel, EpisodeCorruptError, EpisodeRecorder,
  encodeState, examplesOf, featureCount, initModel, modelHash, ModelFormatError, readGrid, StateShapeError, trainAssistant, type Belief,
} from '../../src/assist/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/nn/index.js';

const app = defineApp({ grid: [3, 2, 3], values: 3 });

/** A small episode: the person places value 1 on three cells, the assistant one, then a NO-OP. */
function episode(person = 'p') {
  const grid = new Uint8Array(app.cells);
  const rec = new EpisodeRecorder(app, person, grid);
  const moves = [[0, 1, 'human'], [1, 1, 'human'], [2, 2, 'assistant'], [6, 1, 'human']] as const;
  moves.forEach(([cell, value, who], tick) => {
    grid[cell] = value;
    rec.record({ who, kind: 'place', cell, value, tick }, grid);
  });
  rec.record({ who: 'assistant', kind: 'noop', cell: -1, value: 0, tick: 4 }, grid);
  return rec.episode();
}

describe('the app state', () => {
  it('reads flat and nested grids', () => {
    const flat = Array.from({ length: 18 }, (_, i) => i % 3);
    const nested = [0, 1, 2].map((x) => [0, 1].map((y) => [0, 1, 2].map((z) => flat[(x * 2 + y) * 3 + z])));
    expect([...readGrid(app, flat)]).toEqual(flat);
    expect([...readGrid(app, nested)]).toEqual(flat);
  });

  it('names the field and the expected shape when the state is wrong', () => {
    expect(() => readGrid(app, new Array(17).fill(0))).toThrow(StateShapeError);
    expect(() => readGrid(app, new Array(17).fill(0))).toThrow('state.grid must be shape [3, 2, 3] (18 whole numbers from 0 to 2, flat or nested), got shape [17]');
    expect(() => readGrid(app, [[[0, 0, 0]], [[0, 0, 0]], [[0, 0, 0]]])).toThrow('got shape [3, 1, 3]');
    expect(() => readGrid(app, [...new Array(17).fill(0), 3])).toThrow('got 3 at index 17');
    expect(() => readGrid(app, [[[0], [0, 0]]] as never)).toThrow('rows of different lengths');
    const model = initModel(app, 1);
    const assistant = createAssistant({ model, observe: () => ({ grid: [1, 2] }), act: () => {} });
    expect(() => assistant.step()).toThrow('state.grid must be shape [3, 2, 3]');
  });
});

describe('the act rule', () => {
  const belief = (p: number, cells = 2): Belief => {
    const goal = new Float32Array(cells * 3);
    for (let c = 0; c < cells; c++) goal.set([1 - p, p, 0], c * 3);
    return { goal, human: new Float32Array(cells).fill(1 / cells) };
  };

  it('places only where the belief that the block belongs exceeds 50%', () => {
    expect(decide(belief(0.6), new Uint8Array(2), 3).action).toEqual({ kind: 'place', cell: 0, value: 1 });
    expect(decide(belief(0.5), new Uint8Array(2), 3).action).toEqual({ kind: 'noop' });
    expect(decide(belief(0.3), new Uint8Array(2), 3)).toMatchObject({ action: { kind: 'noop' }, confidence: Math.fround(0.3) });
  });

  it('never overwrites a block, never places again where the person removed one of its blocks', () => {
    expect(decide(belief(0.9), new Uint8Array([1, 0]), 3).action).toEqual({ kind: 'place', cell: 1, value: 1 });
    expect(decide(belief(0.9), new Uint8Array([1, 0]), 3, new Set([1])).action).toEqual({ kind: 'noop' });
  });

  it('acts on expected reward: a costlier mistake raises the bar', () => {
    expect(decide(belief(0.7), new Uint8Array(2), 3, new Set(), { help: 1, wrong: 3 }).action.kind).toBe('noop');
    expect(decide(belief(0.8), new Uint8Array(2), 3, new Set(), { help: 1, wrong: 3 }).action.kind).toBe('place');
  });

  it('breaks a tie by the human model: the cell the person is heading for', () => {
    const b = belief(0.9, 3);
    b.human.set([0.1, 0.1, 0.8]);
    expect(decide(b, new Uint8Array(3), 3).action).toEqual({ kind: 'place', cell: 2, value: 1 });
  });
});

describe('the assistant', () => {
  it('acts through the app callback when it places, and not on a NO-OP', () => {
    const model = initModel(app, 3);
    const calls: unknown[] = [];
    const grid = new Uint8Array(app.cells);
    const assistant = createAssistant({ model, observe: () => ({ grid }), act: (a) => calls.push(a), rewards: { help: 1, wrong: 1e-6 } });
    const r = assistant.step();
    expect(r.action.kind).toBe('place');
    expect(calls).toEqual([r.action]);
    const never = createAssistant({ model, observe: () => ({ grid }), act: (a) => calls.push(a), rewards: { help: 1e-6, wrong: 1 } });
    expect(never.step().action).toEqual({ kind: 'noop' });
    expect(calls).toHaveLength(1);
    expect(r.belief.goal).toHaveLength(app.cells * 3);
  });

  it('trains to the same bits on every run, and a different seed gives different bits', () => {
    const eps = [episode('a'), episode('b')];
    const a = trainAssistant(app, eps, { seed: 5, steps: 3, batch: 2 });
    const b = trainAssistant(app, eps, { seed: 5, steps: 3, batch: 2 });
    const c = trainAssistant(app, eps, { seed: 6, steps: 3, batch: 2 });
    expect(a.stepHashes).toHaveLength(4);
    expect(b.commitment).toBe(a.commitment);
    expect(modelHash(b.model)).toBe(modelHash(a.model));
    expect(c.commitment).not.toBe(a.commitment);
    expect(a.losses.every(Number.isFinite)).toBe(true);
    // Fine-tuning starts from the model handed in.
    const tuned = trainAssistant(app, eps, { seed: 5, steps: 1, batch: 2, from: a.model });
    expect(tuned.stepHashes[0]).not.toBe(a.stepHashes[0]);
    // Adam's epsilon is the caller's (fine-tuning uses a larger one): a different run, the same from the same.
    const damped = trainAssistant(app, eps, { seed: 5, steps: 3, batch: 2, eps: 1e-3 });
    expect(damped.commitment).not.toBe(a.commitment);
    expect(trainAssistant(app, eps, { seed: 5, steps: 3, batch: 2, eps: 1e-3 }).commitment).toBe(damped.commitment);
  });

  it('round-trips a model blob and refuses one that is not a model', () => {
    const model = initModel(app, 2);
    const back = decodeModel(encodeModel(model));
    expect(modelHash(back)).toBe(modelHash(model));
    const { params } = initModel(defineApp({ grid: [3, 2, 3], values: 4 }), 2);
    const wrong = encodeModel({ ...model, params });
    expect(() => decodeModel(wrong)).toThrow(ModelFormatError);
  });
});

describe('refusals are evidence', () => {
  /** The person places at 0, the assistant at 1 and 2; the person removes the block at 1 (a refusal), then places at 6. */
  function refusing() {
    const grid = new Uint8Array(app.cells);
    const rec = new EpisodeRecorder(app, 'p', grid);
    const moves = [[0, 1, 'human', 'place'], [1, 1, 'assistant', 'place'], [2, 2, 'assistant', 'place'], [1, 0, 'human', 'remove'], [6, 1, 'human', 'place']] as const;
    moves.forEach(([cell, value, who, kind], tick) => {
      grid[cell] = value;
      rec.record({ who, kind, cell, value, tick }, grid);
    });
    return rec.episode();
  }

  it('the examples carry the cells the person refused, as the assistant sees them when it decides', () => {
    const examples = examplesOf([refusing()]);
    // Before each of the person's actions (place 0, remove 1, place 6) and the final state.
    expect(examples.map((e) => e.next)).toEqual([0, 1, 6, -1]);
    expect(examples.map((e) => [...e.refused.keys()].filter((c) => e.refused[c]))).toEqual([[], [], [1], [1]]);
    // The assistant's untouched block (2) is not evidence; the refused one is gone from the grid.
    expect([...examples[2].grid].slice(0, 3)).toEqual([1, 0, 0]);
  });

  it('the belief reads them: a refusal changes the features of its cell, its neighbours and its level, and the belief', () => {
    const grid = new Uint8Array(app.cells);
    grid[0] = 1;
    const refused = new Uint8Array(app.cells);
    refused[1] = 1;
    const F = featureCount(app);
    const [without, withRefusal] = [encodeState(app, grid, 0), encodeState(app, grid, 0, refused)];
    const changed = (cell: number) => without.subarray(cell * F, (cell + 1) * F).some((v, i) => v !== withRefusal[cell * F + i]);
    expect(app.cells).toBe(18);
    expect([...Array(18).keys()].filter(changed)).toEqual([...Array(18).keys()]); // "any refused" reaches every cell
    const model = initModel(app, 3);
    const belief = (r?: number[]) => createAssistant({ model, observe: () => ({ grid, lastHumanCell: 0, ...(r ? { refused: r } : {}) }), act: () => {} }).belief();
    expect(belief([1]).goal).not.toEqual(belief().goal);
    expect(belief([]).goal).toEqual(belief().goal);
  });

  it('a model of the features before refusals (format v1) is refused with what to do', () => {
    const { params, metadata } = loadSafetensors(encodeModel(initModel(app, 2)));
    expect(() => decodeModel(saveSafetensors(params, { ...metadata, format: 'mycel.assist.model.v1' }))).toThrow('train a new one');
  });
});

describe('episodes', () => {
  it('round-trip by content address', () => {
    const ep = episode();
    const { id, bytes } = encodeEpisode(ep);
    expect(decodeEpisode(id, bytes)).toEqual(ep);
    expect(ep.steps.map((s) => s.who)).toEqual(['human', 'human', 'assistant', 'human', 'assistant']);
  });

  it('refuse bytes that do not match their hash', () => {
    const { id, bytes } = encodeEpisode(episode());
    const bad = bytes.slice();
    bad[bad.length - 10] ^= 1;
    expect(() => decodeEpisode(id, bad)).toThrow(EpisodeCorruptError);
  });

  it('refuse an episode whose states do not follow from its actions', () => {
    const ep = episode();
    ep.steps[1] = { ...ep.steps[1], cell: 4 };
    const { id, bytes } = encodeEpisode(ep);
    expect(() => decodeEpisode(id, bytes)).toThrow('state 2 does not follow from step 1');
  });
});
