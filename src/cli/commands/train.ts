import { freemem } from 'node:os';
import { configureKernels } from '../../tensor/index.js';
import { ModelTooLargeError, PRESET_NAMES, estimateMemory, evaluateTask, runJob, type StepReport } from '../../train/index.js';
import { intFlag, interruptedExit, maxMemoryFlag, type Command } from '../command.js';
import { UsageError } from '../../platform/errors.js';
import { JOB_FLAGS, resolveProgram, resolveSpec, trainStore } from '../job.js';
import { formatSeconds } from '../output.js';
import { LOSS_JSONL, LOSS_SVG, readLossCurve, writeLossCurve } from '../loss-curve.js';
import { join } from 'node:path';

export const train: Command = {
  name: 'train',
  summary: 'train a model reproducibly from a job spec or preset, and print the run commitment',
  usage: '<spec.json | preset>',
  description: `
Every step is a pure function (state, batch) -> state. After each step the state is hashed; the run
commitment is the Merkle root over the step hashes. The same spec gives the same commitment on any
machine, with any kernels and any number of threads. A run that stops (--stop-at, Ctrl-C, SIGTERM)
first checkpoints the step it reached; running the same command again resumes there and ends at the
same commitment. Exit status: 0 when the run finished or reached --stop-at; 130 after Ctrl-C and 143
after SIGTERM (the shell's 128 + signal), once the step reached is checkpointed. A corrupt or missing checkpoint is passed over (and left as it is): the run resumes
from the newest intact one and says so; --from-step N resumes from the checkpoint of step N.
The loss curve is kept in the run's folder as loss.jsonl and loss.svg.

Presets: ${PRESET_NAMES.join(', ')}

Examples:
  mycel train quick
  mycel train addition --json
  mycel train text --text input.txt
  mycel train quick --print-spec > my-job.json && mycel train my-job.json`,
  flags: {
    ...JOB_FLAGS,
    threads: { type: 'string', value: 'N', description: 'threads for the fast kernels (results do not depend on it)' },
    'reference-kernels': { type: 'boolean', description: 'run the plain TypeScript reference kernels (slow; same results)' },
    'stop-at': { type: 'string', value: 'STEP', description: 'stop after this step and checkpoint it (resume by running again)' },
    'from-step': { type: 'string', value: 'STEP', description: 'resume from the checkpoint of this step (the later steps are trained again)' },
    'max-memory': { type: 'string', value: 'GIB', description: 'refuse jobs estimated to need more memory than this (default: 80% of RAM)' },
    'eval-examples': { type: 'string', value: 'N', description: 'held-out examples for the accuracy printed at the end of a task job', default: '200' },
    'print-spec': { type: 'boolean', description: 'print the resolved job spec as JSON and exit' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length !== 1) {
      throw new UsageError(`train takes one spec file or preset name, got ${args.length ? `"${args.join(' ')}"` : 'none'}.`, {
        metaMessages: [`Presets: ${PRESET_NAMES.join(', ')}. Example: mycel train quick`],
      });
    }
    if (flags['print-spec']) {
      const { spec } = await resolveSpec(args[0], flags.text as string | undefined);
      out.result(spec, JSON.stringify(spec, null, 2));
      return;
    }
    configureKernels({
      kernels: flags['reference-kernels'] ? 'reference' : 'fast',
      ...(flags.threads === undefined ? {} : { threads: intFlag(flags, 'threads', 1, 1, 256) }),
    });
    const program = await resolveProgram(args[0], flags);
    const { spec } = program;
    const limit = maxMemoryFlag(flags);
    const estimate = estimateMemory(spec, program.tokenizer.vocabSize);
    if (estimate.bytes > limit) throw new ModelTooLargeError(estimate.bytes, limit, estimate.breakdown);

    const store = trainStore(flags);
    out.log(`job ${program.id}\n${estimate.breakdown}; about ${(estimate.bytes / 2 ** 20).toFixed(0)} MiB of ${(freemem() / 2 ** 30).toFixed(1)} GiB free`);
    const bar = out.progress('training', spec.steps);
    const totals = { seconds: 0, hash: 0, checkpoint: 0, tokens: 0, steps: 0 };
    let last: StepReport | undefined;
    const runDir = store.runDir(program.id);
    let curve = await readLossCurve(runDir, spec.steps);
    let saving = Promise.resolve();
    const saveCurve = () => {
      const points = [...curve];
      saving = saving.then(() => writeLossCurve(runDir, points, `mycel train: job ${program.id.slice(0, 16)}`));
    };
    const result = await runJob(program, {
      store,
      stopAt: flags['stop-at'] === undefined ? undefined : intFlag(flags, 'stop-at', spec.steps, 0, spec.steps),
      fromStep: flags['from-step'] === undefined ? undefined : intFlag(flags, 'from-step', 0, 0, spec.steps),
      signal,
      onStep(report) {
        last = report;
        totals.seconds += report.seconds;
        totals.hash += report.hashSeconds;
        totals.checkpoint += report.checkpointSeconds;
        totals.tokens += report.tokens;
        totals.steps++;
        const step = report.state.step;
        if (totals.steps === 1) curve = curve.filter((p) => p.step < step);
        curve.push({ step, loss: report.loss, lr: report.lr, grad_norm: report.gradNorm ?? null });
        if (report.checkpointed) saveCurve();
        if (out.json) out.result({ kind: 'step', step, loss: report.loss, lr: report.lr, grad_norm: report.gradNorm, hash: report.hash, seconds: report.seconds });
        bar.update(step, `loss ${report.loss.toFixed(4)}  ${(totals.tokens / totals.seconds).toFixed(0)} tok/s`);
      },
    });
    const { record, state, resumedFrom, skipped } = result;
    bar.done(state.step, last ? `loss ${last.loss.toFixed(4)}` : '');
    if (totals.steps > 0) saveCurve();
    await saving;
    for (const s of skipped) out.log(`passed over the checkpoint of step ${s.step} (left as it is): ${s.reason}`);
    const done = state.step === spec.steps;
    const summary = {
      kind: 'run',
      job_id: program.id,
      steps: state.step,
      of: spec.steps,
      resumed_from: resumedFrom ?? null,
      skipped_checkpoints: skipped,
      commitment: record.commitment ?? null,
      final_state_hash: record.stepHashes[record.stepHashes.length - 1],
      loss: last?.loss ?? null,
      tokens_per_second: totals.seconds > 0 ? totals.tokens / totals.seconds : null,
      hash_fraction: totals.seconds > 0 ? totals.hash / totals.seconds : null,
      checkpoint_fraction: totals.seconds > 0 ? totals.checkpoint / totals.seconds : null,
      store: store.dir,
      checkpoint: record.checkpoints[String(state.step)] ?? null,
      loss_curve: totals.steps > 0 || curve.length > 0 ? join(runDir, LOSS_JSONL) : null,
    };
    const lines = [
      `job         ${program.id}`,
      `steps       ${state.step}/${spec.steps}${resumedFrom === undefined ? '' : ` (resumed from step ${resumedFrom})`}`,
      done ? `commitment  ${record.commitment}` : `stopped     at step ${state.step}, checkpointed; resume with the same command to reach the commitment`,
      `state hash  ${summary.final_state_hash}`,
      ...(last ? [`loss        ${last.loss.toFixed(4)}`] : []),
      ...(totals.seconds > 0
        ? [`speed       ${summary.tokens_per_second!.toFixed(0)} tokens/s over ${formatSeconds(totals.seconds)}; hashing ${(100 * summary.hash_fraction!).toFixed(2)}%, checkpoints ${(100 * summary.checkpoint_fraction!).toFixed(2)}% of step time`]
        : []),
      `checkpoints ${store.dir}/objects (${Object.keys(record.checkpoints).length} for this run)`,
      ...(summary.loss_curve ? [`loss curve  ${summary.loss_curve} and ${LOSS_SVG}`] : []),
    ];
    if (done && spec.data.kind === 'task') {
      const n = intFlag(flags, 'eval-examples', 200, 0, 1_000_000);
      if (n > 0) {
        const evalBar = out.progress('evaluating', n);
        const accuracy = evaluateTask(program, state.params, n, (k) => evalBar.update(k));
        evalBar.done();
        Object.assign(summary, { accuracy: accuracy.accuracy, eval_examples: n });
        lines.push(`accuracy    ${(100 * accuracy.accuracy).toFixed(1)}% exact match on ${n} held-out ${spec.data.task} prompts`);
      }
    }
    out.result(summary, lines.join('\n'));
    // Stopped by Ctrl-C or SIGTERM (checkpointed above): 130 or 143, as the shell expects; --stop-at is a finish.
    return done ? undefined : interruptedExit(signal);
  },
};

