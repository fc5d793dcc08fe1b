import { parameterCount } from '../../nn/index.js';
import { UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';
import { loadCheckpointRef } from '../checkpoint-ref.js';
import { JOB_FLAGS, trainStore } from '../job.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'show what a checkpoint or run holds (no argument: list the runs in the store)',
  usage: '[checkpoint.safetensors | job id | preset]',
  description: `
Loading a checkpoint checks its bytes against its content hash and its tensors against the state
hash it claims; a corrupt checkpoint is reported and left untouched.

Examples:
  mycel inspect
  mycel inspect quick
  mycel inspect ~/.mycel/train/objects/<hash>.safetensors --json`,
  flags: { ...JOB_FLAGS, step: { type: 'string', value: 'STEP', description: 'the checkpoint of this step (default: the latest)' } },
  async run({ args, flags, out }) {
    if (args.length > 1) throw new UsageError('inspect takes at most one checkpoint, job id or preset.');
    if (args.length === 0) {
      const store = trainStore(flags);
      const ids = await store.runs();
      if (ids.length === 0) out.print(`No runs in ${store.dir}. Start one: mycel train quick`);
      for (const id of ids) {
        const record = await store.readRun(id);
        if (!record) continue;
        const row = { job_id: id, steps_done: record.stepHashes.length - 1, steps: record.spec.steps, commitment: record.commitment ?? null, data: record.spec.data.kind === 'task' ? record.spec.data.task : record.spec.data.path };
        out.result(row, `${id.slice(0, 16)}  ${String(row.steps_done).padStart(6)}/${row.steps} steps  ${row.data}  ${row.commitment ? `commitment ${row.commitment.slice(0, 16)}…` : 'unfinished'}`);
      }
      return;
    }
    const loaded = await loadCheckpointRef(args[0], flags, flags.step === undefined ? undefined : intFlag(flags, 'step', 0));
    const { state, info } = loaded;
    const tensors = Object.entries(state.params).map(([name, t]) => ({ name, shape: t.shape, hash: t.hash() }));
    const summary = {
      source: loaded.source,
      job_id: info.jobId,
      step: state.step,
      state_hash: info.stateHash,
      parameters: parameterCount(state.params),
      optimizer_step: state.opt.step,
      optimizer_tensors: Object.keys(state.opt.tensors).length,
      tokenizer: { kind: info.tokenizer.kind, vocab_size: loaded.tokenizer.vocabSize },
      spec: info.spec,
      checkpoints: loaded.record ? loaded.record.checkpoints : undefined,
      commitment: loaded.record?.commitment,
      tensors,
    };
    const width = Math.max(...tensors.map((t) => t.name.length));
    out.result(summary, [
      `${loaded.source}`,
      `job ${info.jobId}`,
      `step ${state.step}, state hash ${info.stateHash} (verified)`,
      `${summary.parameters.toLocaleString('en')} parameters; optimizer ${info.spec.optimizer.kind} at step ${state.opt.step}`,
      `tokenizer ${info.tokenizer.kind}, ${loaded.tokenizer.vocabSize} tokens`,
      ...(summary.commitment ? [`run commitment ${summary.commitment}`] : []),
      '',
      ...tensors.map((t) => `  ${t.name.padEnd(width)}  [${t.shape.join(', ')}]  ${t.hash.slice(0, 16)}`),
    ].join('\n'));
  },
};
