/**
 * The assistant-training job kind (src/assist/job.ts): its program is trainAssistant's (same step hashes, same run
 * commitment) over a signed dataset blob named by CID; a bad dataset or base model is refused with the reason; and a
 * run of it is disputable like any job: the game bisects a cheat down to one instruction, and the honest side wins.
 */
import { describe, expect, it } from 'vitest';
import { packDataset } from '../../src/assist/dataset.js';
import { assistJobBlobs, assistJobId, buildAssistJob, estimateAssistMemory, fineTuneJobSpec, parseAssistJobSpec, type AssistJobSpecInput } from '../../src/assist/job.js';
import { fineTune } from '../../src/assist/fine-tune.js';
import { defineApp, encodeEpisode, encodeModel, EpisodeRecorder, trainAssistant, type Episode } from '../../src/assist/index.js';
import { blobCid } from '../../src/assist/dataset.js';
import { featureCount } from '../../src/assist/features.js';
import { runInMemory } from '../../src/train/run-in-memory.js';
import { runJob, SpecError, stateHash } from '../../src/train/index.js';
import { adversary, playGame, replayParty, rulesOf } from '../../src/verify/index.js';
import { tempStore } from '../train/helpers.js';

const app = defineApp({ grid: [3, 2, 3], values: 3 });
const key = new Uint8Array(32).fill(7);

function episode(cells: number[], person = 'p'): Episode {
  const grid = new Uint8Array(app.cells);
  const rec = new EpisodeRecorder(app, person, grid);
  cells.forEach((cell, tick) => {
    grid[cell] = 1 + (tick % 2);
    rec.record({ who: 'human', kind: 'place', cell, value: grid[cell], tick }, grid);
  });
  return rec.episode();
}

const episodes = [episode([0, 1, 6, 7]), episode([2, 3, 8])];
const dataset = packDataset(episodes, key);
const blobs = new Map([[dataset.cid, dataset.bytes]]);
const SPEC: AssistJobSpecInput = {
  version: 1, kind: 'assist', app: { grid: [3, 2, 3], values: 3 }, model: { goalHidden: 8, humanHidden: 4 },
  data: { kind: 'dataset', cid: dataset.cid, signer: dataset.signer }, optimizer: { kind: 'adam', lr: 3e-3 },
  steps: 3, batchSize: 2, seed: 5, checkpointEvery: 2,
};
const spec = parseAssistJobSpec(SPEC);
const program = buildAssistJob(spec, blobs);

describe('an assistant-training job', () => {
  it('trains as trainAssistant does, on the dataset named by CID: the same step hashes and run commitment', () => {
    const run = runInMemory(program);
    // The dataset keeps its episodes sorted by id; trainAssistant is given them in that order.
    const sorted = dataset.ids.map((id) => episodes.find((e) => encodeEpisode(e).id === id)!);
    const local = trainAssistant(app, sorted, { seed: 5, steps: 3, batch: 2, lr: 3e-3, config: { goalHidden: 8, humanHidden: 4 } });
    expect(run.stepHashes).toEqual(local.stepHashes);
    expect(run.commitment).toBe(local.commitment);
    expect(program.id).toBe(assistJobId(spec));
    expect(program.id).toMatch(/^[0-9a-f]{64}$/);
    expect(assistJobBlobs(spec)).toEqual([dataset.cid]);
    expect(estimateAssistMemory(spec).bytes).toBeGreaterThan(0);
  });

  it('runs under the runner (checkpoints, resumable) to the same commitment, and its final state is the model', async () => {
    const store = await tempStore();
    const { record, state } = await runJob(program, { store });
    expect(record.commitment).toBe(runInMemory(program).commitment);
    expect(Object.keys(record.checkpoints).sort()).toEqual(['0', '2', '3']);
    expect(stateHash(state)).toBe(record.stepHashes[3]);
    expect(program.modelOf(state).config).toEqual({ goalHidden: 8, humanHidden: 4 });
  });

  it('fine-tunes a base model named by CID', () => {
    const base = trainAssistant(app, [episode([4, 5])], { seed: 1, steps: 2, batch: 2, config: { goalHidden: 8, humanHidden: 4 } }).model;
    const baseBytes = encodeModel(base);
    const tuned = parseAssistJobSpec({ ...SPEC, base: { cid: blobCid(baseBytes) } });
    const p = buildAssistJob(tuned, new Map([...blobs, [blobCid(baseBytes), baseBytes]]));
    expect(p.init().params['goal.0.weight'].data).toEqual(base.params['goal.0.weight'].data);
    expect(p.id).not.toBe(program.id);
    // A base model of other widths is refused by name.
    const wide = encodeModel(trainAssistant(app, [episode([4, 5])], { seed: 1, steps: 1, batch: 2, config: { goalHidden: 9, humanHidden: 4 } }).model);
    expect(() => buildAssistJob(parseAssistJobSpec({ ...SPEC, base: { cid: blobCid(wide) } }), new Map([...blobs, [blobCid(wide), wide]]))).toThrow(/base model's widths are goalHidden 9/);
  });

  it('with a replay and an epsilon, is the app\'s own fine-tuning (fine-tune.ts): the model trained on the network is the one Learn trains here', () => {
    const base = trainAssistant(app, [episode([4, 5])], { seed: 1, steps: 2, batch: 2, config: { goalHidden: 8, humanHidden: 4 } }).model;
    const baseBytes = encodeModel(base);
    // The replay: other people's episodes, packed and signed by whoever posts the job.
    const replayEpisodes = [episode([0, 2, 4], 'crowd'), episode([1, 3, 5, 7], 'crowd'), episode([6, 8], 'crowd'), episode([9, 10, 11], 'crowd')];
    const replay = packDataset(replayEpisodes, new Uint8Array(32).fill(3));
    const settings = { seed: 4, steps: 3, batch: 2, lr: 3e-4, eps: 1e-3 };
    const jobSpec = fineTuneJobSpec({ model: base, dataset, base: blobCid(baseBytes), replay: replay.cid, settings });
    expect(jobSpec).toMatchObject({ optimizer: { kind: 'adam', lr: 3e-4, eps: 1e-3 }, steps: 3, batchSize: 2, seed: 4, replay: { cid: replay.cid } });
    expect(assistJobBlobs(jobSpec)).toEqual([dataset.cid, blobCid(baseBytes), replay.cid]);
    const p = buildAssistJob(jobSpec, new Map([...blobs, [blobCid(baseBytes), baseBytes], [replay.cid, replay.bytes]]));
    const run = runInMemory(p);
    // The person's machine, from the episodes as it saved them (in any order) and the replay as it made it.
    const here = fineTune(app, base, [...episodes].reverse(), replayEpisodes, settings);
    expect(run.stepHashes).toEqual(here.stepHashes);
    expect(run.commitment).toBe(here.commitment);
    expect(here.examples).toBe(2 * (5 + 4) + (4 + 5 + 3 + 4)); // the person's 2 episodes twice (to about the replay's 4), then the replay (actions + the final state each)
    // Each setting of the run is in the spec: another epsilon, or no replay, is another run.
    expect(runInMemory(buildAssistJob({ ...jobSpec, optimizer: { ...jobSpec.optimizer, eps: 1e-8 } }, new Map([...blobs, [blobCid(baseBytes), baseBytes], [replay.cid, replay.bytes]]))).commitment).not.toBe(here.commitment);
    expect(fineTune(app, base, episodes, [], settings).commitment).not.toBe(here.commitment);
    // A replay that is not handed in is named.
    expect(() => buildAssistJob(jobSpec, new Map([...blobs, [blobCid(baseBytes), baseBytes]]))).toThrow(/the replay dataset .* was not handed in/);
  });

  it('refuses a bad dataset with the reason, before any step', () => {
    const other = packDataset([episode([0, 1])], new Uint8Array(32).fill(9));
    // Signed by someone else than the job names.
    expect(() => buildAssistJob(parseAssistJobSpec({ ...SPEC, data: { ...SPEC.data, cid: other.cid } }), new Map([[other.cid, other.bytes]]))).toThrow(`it is signed by ${other.signer}, and the job names ${dataset.signer}`);
    // Bytes that are not the CID's.
    const bad = dataset.bytes.slice();
    bad[bad.length - 3] ^= 1;
    expect(() => buildAssistJob(spec, new Map([[dataset.cid, bad]]))).toThrow(/This dataset blob is refused: its bytes have the CID/);
    // Not fetched.
    expect(() => buildAssistJob(spec, new Map())).toThrow(/was not handed in/);
    // Episodes of another app.
    expect(() => buildAssistJob(parseAssistJobSpec({ ...SPEC, app: { grid: [3, 2, 4], values: 3 } }), blobs)).toThrow(/is of a 3x2x3 grid with 3 values, and the job's app is 3x2x4/);
  });

  it('refuses a malformed spec by field', () => {
    expect(() => parseAssistJobSpec({ ...SPEC, data: { kind: 'dataset', cid: 'nope', signer: '0x12' } })).toThrow(SpecError);
    expect(() => parseAssistJobSpec({ ...SPEC, steps: 0 })).toThrow(/steps:/);
  });

  it('is disputable like any job: a cheat at a step is bisected to one instruction and the cheater loses', async () => {
    const rules = rulesOf(program);
    const t = 2;
    const s = rules.structure(t);
    // The first op that reads the step's features (a constant of the step program) and the op that writes a parameter.
    const featureOp = s.ops.findIndex((o) => o.inputs.some((i) => i.source.kind === 'constant' && i.shape.join() === `${2 * app.cells},${featureCount(app)}`));
    expect(featureOp).toBeGreaterThanOrEqual(0);
    expect(s.ops.some((o) => o.inputs.some((i) => i.source.kind === 'batch'))).toBe(true); // the human model's targets and mask
    const writer = (s.stateOutputs.find((o) => o.name.startsWith('params.'))!.source as { index: number }).index;
    const good = { store: await tempStore() };
    const goodRun = await runJob(program, { store: good.store });
    // The sign bit: a flip of a low bit of a value that ReLU then zeroes would change nothing.
    for (const op of [featureOp, writer]) {
      const cheat = adversary.flipOpOutput(program, t, op, 1, 31);
      const store = await tempStore();
      const bad = await runJob(cheat, { store });
      expect(bad.record.commitment).not.toBe(goodRun.record.commitment);
      const game = await playGame(
        rules,
        replayParty({ role: 'solver', program: cheat, reference: program, store, record: bad.record }),
        replayParty({ role: 'challenger', program, reference: program, store: good.store, record: goodRun.record }),
        { solverRoot: bad.record.commitment!, challengerRoot: goodRun.record.commitment! },
      );
      expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t, op, element: 1 });
    }
  });
});
