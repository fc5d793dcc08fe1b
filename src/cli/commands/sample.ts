import { EVAL_SEED_OFFSET, generate, type JobSpec } from '../../train/index.js';
import { getTask } from '../../data/index.js';
import { UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';
import { loadCheckpointRef } from '../checkpoint-ref.js';
import { JOB_FLAGS } from '../job.js';

export const sample: Command = {
  name: 'sample',
  summary: 'generate text from a trained model; the same seed gives the same text everywhere',
  usage: '<checkpoint.safetensors | job id | preset>',
  description: `
Temperature 0 picks the most likely token (greedy); above 0 it samples with the counter RNG, so
(checkpoint, prompt, seed, temperature) always gives the same text, on any machine. Without
--prompt, a task model answers one held-out prompt of its task. The step it loaded goes to stderr.

Examples:
  mycel sample quick --prompt "s:31415="
  mycel sample addition --prompt "12+34="
  mycel sample text --text input.txt --prompt "ROMEO:" --tokens 200 --temperature 0.8 --seed 7`,
  flags: {
    ...JOB_FLAGS,
    prompt: { type: 'string', value: 'TEXT', description: 'the text to continue (default for a task model: a held-out prompt of its task)' },
    tokens: { type: 'string', value: 'N', description: 'most tokens to generate', default: '64' },
    temperature: { type: 'string', value: 'T', description: '0 for greedy, else sampling temperature', default: '0' },
    seed: { type: 'string', value: 'N', description: 'sampling seed', default: '0' },
    step: { type: 'string', value: 'STEP', description: 'use the checkpoint of this step (default: the latest)' },
  },
  async run({ args, flags, out }) {
    if (args.length !== 1) throw new UsageError('sample takes one checkpoint, job id or preset.', { metaMessages: ['Example: mycel sample quick --prompt "s:31415="'] });
    const temperature = Number(flags.temperature);
    if (!(temperature >= 0 && temperature <= 100)) throw new UsageError(`--temperature must be a number from 0 to 100, got "${flags.temperature}".`);
    const step = flags.step === undefined ? undefined : intFlag(flags, 'step', 0);
    const loaded = await loadCheckpointRef(args[0], flags, step);
    out.log(`sampling from ${loaded.source}`);
    const prompt = promptFor(loaded.info.spec, flags.prompt as string | undefined);
    const text = generate(loaded.model, loaded.state.params, loaded.tokenizer, prompt, {
      maxTokens: intFlag(flags, 'tokens', 64, 1, 100_000),
      temperature,
      seed: intFlag(flags, 'seed', 0),
    });
    out.result({ source: loaded.source, step: loaded.state.step, prompt, completion: text }, `${prompt}${text}`);
  },
};

/** The prompt to continue: the one given, or for a task model one held-out prompt of its task. */
function promptFor(spec: JobSpec, given: string | undefined): string {
  if (given !== undefined && given !== '') return given;
  if (spec.data.kind === 'task') return getTask(spec.data.task).generate(spec.seed + EVAL_SEED_OFFSET, 0, spec.data.config as never).prompt;
  throw new UsageError('A text model needs a prompt to continue: pass --prompt TEXT.', { metaMessages: ['Example: mycel sample text --text input.txt --prompt "ROMEO:"'] });
}
