import { MycelError } from '../platform/errors.js';

/** A module's apply() was given params without one of its names (wrong model, or a renamed checkpoint). */
export class MissingParameterError extends MycelError {
  override name = 'MissingParameterError';
  constructor(missing: string, present: readonly string[]) {
    const shown = present.slice(0, 8).join(', ') + (present.length > 8 ? `, … (${present.length} in all)` : '');
    super(`Parameter "${missing}" is missing.`, {
      metaMessages: [
        'Pass the params that this model\'s init() returned, or a checkpoint saved from the same config.',
        `Present: ${shown || '(none)'}`,
      ],
    });
  }
}

/** A config that cannot describe a model (e.g. dModel not divisible by heads). */
export class ModelConfigError extends MycelError {
  override name = 'ModelConfigError';
}

/** The base of every safetensors reading or writing failure. */
export class SafetensorsError extends MycelError {
  override name = 'SafetensorsError';
}

/** The bytes end before the header or the data they announce. */
export class SafetensorsTruncatedError extends SafetensorsError {
  override name = 'SafetensorsTruncatedError';
  constructor(what: string, needed: number, got: number) {
    super(`safetensors: file is truncated: ${what} needs ${needed} bytes, the file has ${got}.`, {
      metaMessages: ['The file was cut short (interrupted download or write): fetch or save it again.'],
    });
  }
}

/** The 8-byte header length or the JSON header itself is malformed. */
export class SafetensorsHeaderError extends SafetensorsError {
  override name = 'SafetensorsHeaderError';
  constructor(problem: string, options: { cause?: unknown } = {}) {
    super(`safetensors: bad header: ${problem}.`, {
      metaMessages: ['This is not a safetensors file, or it is corrupt: check the path, then save it again.'],
      cause: options.cause,
    });
  }
}

/** A tensor is stored in a dtype this runtime does not hold. */
export class SafetensorsDtypeError extends SafetensorsError {
  override name = 'SafetensorsDtypeError';
  constructor(tensor: string, dtype: string) {
    super(`safetensors: tensor "${tensor}" has dtype ${dtype}; only F32 and I32 are supported.`, {
      metaMessages: ['Convert it before saving, e.g. in PyTorch: {k: v.float() for k, v in state_dict.items()}.'],
    });
  }
}

/** data_offsets point outside the data, overlap, leave a gap, or disagree with the shape. */
export class SafetensorsLayoutError extends SafetensorsError {
  override name = 'SafetensorsLayoutError';
  constructor(tensor: string, problem: string) {
    super(`safetensors: tensor "${tensor}": ${problem}.`, {
      metaMessages: ['The header and the data disagree: the file is corrupt or was written by a faulty tool; save it again.'],
    });
  }
}
