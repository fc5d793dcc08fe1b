import { parameterCount } from '../../nn/index.js';
import { UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';
import { loadCheckpointOfRef, loadCheckpointRef } from '../checkpoint-ref.js';
import { assistRunData, assistSpecOf } from '../assist-run.js';
import { JOB_FLAGS, trainStore } from '../job.js';
import { runStores, storedRuns } from '../run-stores.js';
import { dataDirOf } from './p2p-flags.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'show what a checkpoint or run holds (no argument: list the runs in the store)',
  usage: '[checkpoint.safetensors | job id | job-N | preset]',
  description: `
Runs are looked for in the data dir's train store and among the market jobs a node on this data dir
solved or re-executed (<data-dir>/job-N: name one job-N, or by its job id).
Loading a checkpoint checks its bytes against its content hash and its tensors against the state
hash it claims; a corrupt checkpoint is reported and left untouched.

Examples:
  mycel inspect
  mycel inspect quick
  mycel inspect job-7 --data-dir ~/.mycel-node
  mycel inspect ~/.mycel/train/objects/<hash>.safetensors --json`,
  flags: { ...JOB_FLAGS, step: { type: 'string', value: 'STEP', description: 'the checkpoint of this step (default: the latest)' } },
  async run({ args, flags, out }) {
    if (args.length > 1) throw new UsageError('inspect takes at most one checkpoint, job id or preset.');
    if (args.length === 0) {
      // mycel train's runs, then those of the market jobs a node on this data dir solved or re-executed (job-N).
      const runs = await storedRuns(await runStores(dataDirOf(flags)));
      if (runs.length === 0) out.print(`No runs in ${trainStore(flags).dir} or a market job's store of ${dataDirOf(flags)}. Start one: mycel train quick`);
      for (const { name, record } of runs) {
        const id = record.jobId;
        const assist = assistSpecOf(record.spec);
        const data = assist ? assistRunData(assist) : record.spec.data.kind === 'task' ? record.spec.data.task : record.spec.data.path;
        const row = { job_id: id, store: name, steps_done: record.stepHashes.length - 1, steps: record.spec.steps, commitment: record.commitment ?? null, data };
        out.result(row, `${id.slice(0, 16)}  ${String(row.steps_done).padStart(6)}/${row.steps} steps  ${row.data}  ${row.commitment ? `commitment ${row.commitment.slice(0, 16)}…` : 'unfinished'}${name === 'train' ? '' : `  (${name})`}`);
      }
      return;
    }
    const step = flags.step === undefined ? undefined : intFlag(flags, 'step', 0);
    const found = await loadCheckpointOfRef(args[0], flags, step);
    const tensors = Object.entries(found.state.params).map(([name, t]) => ({ name, shape: t.shape, hash: t.hash() }));
    const width = Math.max(...tensors.map((t) => t.name.length));
    const tensorLines = tensors.map((t) => `  ${t.name.padEnd(width)}  [${t.shape.join(', ')}]  ${t.hash.slice(0, 16)}`);
    const spec = assistSpecOf(found.info.spec);
    if (spec) {
      // An assistant's checkpoint: no tokenizer; its app, widths and the dataset it trains on instead.
      const summary = {
        source: found.source, kind: 'assist', job_id: found.info.jobId, step: found.state.step, state_hash: found.info.stateHash,
        parameters: parameterCount(found.state.params), optimizer_step: found.state.opt.step, optimizer_tensors: Object.keys(found.state.opt.tensors).length,
        spec, checkpoints: found.record?.checkpoints, commitment: found.record?.commitment, tensors,
      };
      out.result(summary, [
        found.source,
        `assist job ${found.info.jobId}`,
        `step ${found.state.step}, state hash ${found.info.stateHash} (verified)`,
        `${summary.parameters.toLocaleString('en')} parameters (goal head ${spec.model.goalHidden} wide, human model ${spec.model.humanHidden}); optimizer ${spec.optimizer.kind} at step ${found.state.opt.step}`,
        `app grid [${spec.app.grid.join(', ')}], ${spec.app.values} values; ${assistRunData(spec)} signed by ${spec.data.signer}`,
        ...(summary.commitment ? [`run commitment ${summary.commitment}`] : []),
        '',
        ...tensorLines,
      ].join('\n'));
      return;
    }
    const loaded = await loadCheckpointRef(args[0], flags, step);
    const { state, info } = loaded;
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
    out.result(summary, [
      `${loaded.source}`,
      `job ${info.jobId}`,
      `step ${state.step}, state hash ${info.stateHash} (verified)`,
      `${summary.parameters.toLocaleString('en')} parameters; optimizer ${info.spec.optimizer.kind} at step ${state.opt.step}`,
      `tokenizer ${info.tokenizer.kind}, ${loaded.tokenizer.vocabSize} tokens`,
      ...(summary.commitment ? [`run commitment ${summary.commitment}`] : []),
      '',
      ...tensorLines,
    ].join('\n'));
  },
};
