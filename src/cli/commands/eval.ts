import { loadTextFileBytes, textWindowBatch } from '../../data/index.js';
import { UsageError } from '../../platform/errors.js';
import { sha256, toHex } from '../../platform/sha256.js';
import { noGrad } from '../../tensor/index.js';
import { EVAL_SEED_OFFSET, TextMismatchError, buildProgram, evaluateTask } from '../../train/index.js';
import { intFlag, type Command } from '../command.js';
import { loadCheckpointRef } from '../checkpoint-ref.js';
import { JOB_FLAGS } from '../job.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a trained model: exact-match accuracy on a task, or held-out loss on a text',
  usage: '<checkpoint.safetensors | job id | preset>',
  description: `
Task jobs: greedy answers to held-out prompts (another seed's stream than training), each checked
by the task's verifier. Text jobs: mean cross-entropy on windows drawn with another seed.

Examples:
  mycel eval quick
  mycel eval addition --examples 1000 --json`,
  flags: {
    ...JOB_FLAGS,
    examples: { type: 'string', value: 'N', description: 'held-out prompts (task) or batches (text)', default: '200' },
    step: { type: 'string', value: 'STEP', description: 'evaluate the checkpoint of this step (default: the latest)' },
  },
  async run({ args, flags, out }) {
    if (args.length !== 1) throw new UsageError('eval takes one checkpoint, job id or preset.', { metaMessages: ['Example: mycel eval quick'] });
    const loaded = await loadCheckpointRef(args[0], flags, flags.step === undefined ? undefined : intFlag(flags, 'step', 0));
    const { spec } = loaded.info;
    const n = intFlag(flags, 'examples', 200, 1, 1_000_000);
    if (spec.data.kind === 'task') {
      const program = buildProgram(spec);
      const bar = out.progress('evaluating', n);
      const result = evaluateTask(program, loaded.state.params, n, (k) => bar.update(k));
      bar.done();
      out.result(
        { source: loaded.source, step: loaded.state.step, task: spec.data.task, ...result },
        [
          `${loaded.source}: ${(100 * result.accuracy).toFixed(1)}% exact match (${result.correct}/${result.examples}) on held-out ${spec.data.task} prompts`,
          ...result.samples.map((s) => `  ${s.prompt}${s.completion}  ${s.reward ? 'correct' : 'wrong'}`),
        ].join('\n'),
      );
      return;
    }
    const { text, bytes } = await loadTextFileBytes(spec.data.path);
    const actual = toHex(sha256(bytes));
    if (actual !== spec.data.sha256) throw new TextMismatchError(spec.data.path, spec.data.sha256, actual);
    const program = buildProgram(spec, { text });
    const tokens = program.tokenizer.encode(text);
    const losses = noGrad(() =>
      Array.from({ length: n }, (_, step) => {
        const batch = textWindowBatch({ tokens, seed: spec.seed + EVAL_SEED_OFFSET, step, batchSize: spec.batchSize, seqLen: spec.model.contextLength });
        return program.loss(loaded.state.params, batch).item();
      }),
    );
    const loss = losses.reduce((a, b) => a + b, 0) / n;
    out.result({ source: loaded.source, step: loaded.state.step, batches: n, loss }, `${loaded.source}: held-out loss ${loss.toFixed(4)} over ${n} batches`);
  },
};
