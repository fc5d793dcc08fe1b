import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeModel, modelHash, type AssistModel } from '../../assist/index.js';
import { EXPERIMENT_DEFAULTS, trainBase } from '../../assist/blocks/experiment.js';
import { defaultDataDir } from '../../p2p/config.js';
import { MycelError } from '../../platform/errors.js';
import { startAssistServer, saveModel } from '../assist-server.js';
import { intFlag, type Command } from '../command.js';

type Current = { model: string; commitment: string };

/** The current model of <dir> (current.json names it; its blob must hash to that name), or undefined if none yet. */
async function loadCurrent(dir: string): Promise<{ model: AssistModel; commitment: string } | undefined> {
  let current: Current;
  try {
    current = JSON.parse(await readFile(join(dir, 'current.json'), 'utf8')) as Current;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MycelError(`${join(dir, 'current.json')} is not readable JSON.`, { metaMessages: ['Delete it to start again from a new base model; the episodes are kept.'] });
  }
  const file = join(dir, 'models', `${current.model}.safetensors`);
  const model = decodeModel(new Uint8Array(await readFile(file)));
  if (modelHash(model) !== current.model) {
    throw new MycelError(`The model ${file} does not hash to its name.`, { metaMessages: ['The file is corrupt: delete it and current.json to start again from a new base model; the episodes are kept.'] });
  }
  return { model, commitment: current.commitment };
}

/** A model blob given on the command line; its training run is not known, so neither is its commitment. */
async function loadModelFile(file: string): Promise<{ model: AssistModel; commitment: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(resolve(file)));
  } catch (e) {
    throw new MycelError(`--model ${file}: ${(e as Error).message}.`, { metaMessages: ['Give the path of a model blob, e.g. one in <data-dir>/assist/models.'] });
  }
  return { model: decodeModel(bytes), commitment: 'unknown' };
}

export const assist: Command = {
  name: 'assist',
  summary: 'serve the block-building game with its assistant at http://127.0.0.1:PORT',
  description: `
You build houses in a 7x4x7 world, layer by layer, with a 3D view; the assistant watches, keeps a belief about what
you are building and places a block only where it believes the block belongs (more than 50%). Undo works on its
blocks and yours. The panel shows its belief and the session's figures. Finished episodes are saved in
<data-dir>/assist/episodes, content-addressed; "Learn from my episodes" fine-tunes the assistant on yours, on this
machine. Nothing leaves the machine unless you turn sharing on in the page (off by default): then "Share"
packs your episodes into a dataset blob signed with this machine's node key and puts it in the node's blob store
(<data-dir>/blobs), where \`mycel node start\` with the same data dir serves it by CID.

The first start trains a base model on scripted builders (a few minutes on two busy cores; kept in
<data-dir>/assist/models, and reused).

Examples:
  mycel assist
  mycel assist --port 0 --json           # a free port; the URL as a JSON line
  mycel assist --base-steps 100          # a quicker, weaker base model`,
  flags: {
    port: { type: 'string', value: 'PORT', description: 'the port on 127.0.0.1 (0: any free one)', default: '4380' },
    'data-dir': { type: 'string', value: 'DIR', description: 'where models and episodes are kept (default: $MYCEL_HOME or ~/.mycel, then assist/)' },
    'base-steps': { type: 'string', value: 'N', description: 'training steps of the base model, on the first start', default: String(EXPERIMENT_DEFAULTS.baseSteps) },
    'crowd-episodes': { type: 'string', value: 'N', description: "scripted builders' episodes the base model learns from", default: String(EXPERIMENT_DEFAULTS.crowdEpisodes) },
    model: { type: 'string', value: 'FILE', description: 'use this model blob (safetensors from encodeModel) instead of the data dir\'s current one' },
    'learn-steps': { type: 'string', value: 'N', description: 'fine-tuning steps when you ask it to learn from your episodes', default: String(EXPERIMENT_DEFAULTS.fineTuneSteps) },
  },
  async run({ flags, out, signal }) {
    const port = intFlag(flags, 'port', 4380, 0, 65535);
    const baseSteps = intFlag(flags, 'base-steps', EXPERIMENT_DEFAULTS.baseSteps, 1, 100_000);
    const crowdEpisodes = intFlag(flags, 'crowd-episodes', EXPERIMENT_DEFAULTS.crowdEpisodes, 1, 100_000);
    const learnSteps = intFlag(flags, 'learn-steps', EXPERIMENT_DEFAULTS.fineTuneSteps, 1, 100_000);
    const dataDir = resolve(typeof flags['data-dir'] === 'string' ? flags['data-dir'] : defaultDataDir());
    const dir = join(dataDir, 'assist');
    let current = typeof flags.model === 'string' ? await loadModelFile(flags.model) : await loadCurrent(dir);
    if (!current) {
      out.log(`training the base model (${crowdEpisodes} scripted episodes, ${baseSteps} steps; kept in ${join(dir, 'models')})...`);
      const base = trainBase({ ...EXPERIMENT_DEFAULTS, crowdEpisodes, baseSteps }, (line) => out.log(line));
      await saveModel(dir, base.model, base.commitment);
      current = base;
    }
    if (signal.aborted) return;
    const server = await startAssistServer({ dir, dataDir, port, model: current.model, commitment: current.commitment, learnSteps, log: (line) => out.log(line) });
    const hash = modelHash(current.model);
    out.result({ url: server.url, model: hash, commitment: current.commitment, dir }, `Assist: ${server.url}  (model ${hash.slice(0, 16)}, data in ${dir}; Ctrl-C stops)`);
    await new Promise<void>((done) => (signal.aborted ? done() : signal.addEventListener('abort', () => done(), { once: true })));
    await server.close();
  },
};
