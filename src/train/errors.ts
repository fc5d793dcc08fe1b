import { MycelError } from '../platform/errors.js';

export class SpecError extends MycelError {
  override name = 'SpecError';
  constructor(readonly problems: string[]) {
    super(`The job spec is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      metaMessages: ['Fix the fields above. `mycel train quick --print-spec` prints a valid spec to start from; `mycel train --help` lists the presets.'],
    });
  }
}

export class UnknownPresetError extends MycelError {
  override name = 'UnknownPresetError';
  constructor(name: string, known: readonly string[]) {
    super(`There is no preset or spec file called "${name}".`, {
      metaMessages: [`Presets: ${known.join(', ')}. Or pass the path of a job spec JSON file.`],
    });
  }
}

export class CorruptCheckpointError extends MycelError {
  override name = 'CorruptCheckpointError';
  constructor(what: string, detail: string) {
    super(`Checkpoint ${what} is corrupt: ${detail}.`, {
      metaMessages: [
        'The file was left as it is (nothing is overwritten). `mycel train` resumes from the newest intact checkpoint by itself, and `--from-step N` picks one; `--step N` loads an earlier checkpoint in eval, sample and inspect.',
      ],
    });
  }
}

export class MissingCheckpointError extends MycelError {
  override name = 'MissingCheckpointError';
  constructor(what: string, where: string, steps?: number[]) {
    super(`No checkpoint ${what} in ${where}.`, {
      metaMessages: [
        ...(steps ? [`Checkpointed steps: ${steps.length ? steps.join(', ') : 'none'}.`] : []),
        'Check the run id or path (`mycel inspect` lists what a data directory holds), or pass --data-dir.',
      ],
    });
  }
}

export class ModelTooLargeError extends MycelError {
  override name = 'ModelTooLargeError';
  constructor(neededBytes: number, availableBytes: number, breakdown: string) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    super(`This job needs about ${gib(neededBytes)} of memory, and ${gib(availableBytes)} is available.`, {
      details: breakdown,
      metaMessages: ['Make the model smaller (dModel, layers, mlpHidden), lower batchSize or contextLength, or pass --max-memory to raise the limit.'],
    });
  }
}

export class TextMismatchError extends MycelError {
  override name = 'TextMismatchError';
  constructor(path: string, expected: string, actual: string) {
    super(`The text file ${path} does not match the job spec: its SHA-256 is ${actual}, the spec pins ${expected}.`, {
      metaMessages: ['Point data.path at the exact file the job was created with, or create a new job for this file.'],
    });
  }
}

export class GenerationInputError extends MycelError {
  override name = 'GenerationInputError';
  constructor(problem: string) {
    super(`Cannot generate: ${problem}.`, {
      metaMessages: ['Pass non-empty prompts of the model\'s token ids, one seed per prompt, and a completion that fits the model\'s context window where one is scored.'],
    });
  }
}

/** A job that starts from a given state (spec.init) was built without that state, or with another one. */
export class InitialStateError extends MycelError {
  override name = 'InitialStateError';
  constructor(detail: string) {
    super(`This job starts from a given state: ${detail}.`, {
      metaMessages: ['A job with init.state continues a run (a DiLoCo inner-step job, an outer merge): build it with the state whose hash init.state pins, fetched from whoever published the job.'],
    });
  }
}
