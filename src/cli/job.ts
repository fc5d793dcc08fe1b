/**
 * Resolving what the user named on the command line into a job: a preset or a spec file, the text it
 * trains on (read and checked here, at the edge), and the store its run lives in.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadTextFileBytes } from '../data/index.js';
import { MycelError } from '../platform/errors.js';
import { sha256, toHex } from '../platform/sha256.js';
import {
  PRESETS,
  PRESET_NAMES,
  Store,
  TextMismatchError,
  UnknownPresetError,
  buildProgram,
  parseJobSpec,
  type JobSpec,
  type TrainProgram,
} from '../train/index.js';
import type { Flags } from './command.js';
import { dataDirOf } from './commands/p2p-flags.js';

export class SpecFileError extends MycelError {
  override name = 'SpecFileError';
}

/** A preset name or the path of a spec file; `--text FILE` points a text job at a file. */
export async function resolveSpec(name: string, textPath?: string): Promise<{ spec: JobSpec; text?: string }> {
  let input: unknown;
  if (Object.hasOwn(PRESETS, name)) {
    input = structuredClone(PRESETS[name as keyof typeof PRESETS]);
  } else if (name.endsWith('.json')) {
    let raw: string;
    try {
      raw = await readFile(name, 'utf8');
    } catch (error) {
      throw new SpecFileError(`Cannot read the spec file ${resolve(name)}: ${(error as NodeJS.ErrnoException).code ?? error}.`, {
        metaMessages: ['Check the path, or use a preset: ' + PRESET_NAMES.join(', ')],
      });
    }
    try {
      input = JSON.parse(raw);
    } catch (error) {
      throw new SpecFileError(`The spec file ${name} is not valid JSON: ${(error as Error).message}.`, {
        metaMessages: ['Fix the JSON syntax; `mycel train quick --print-spec` prints a valid spec to start from.'],
      });
    }
  } else {
    throw new UnknownPresetError(name, PRESET_NAMES);
  }
  let loaded: { text: string; bytes: Uint8Array } | undefined;
  if (textPath !== undefined) {
    const data = (input as { data?: { kind?: string } }).data;
    if (data?.kind !== 'text') throw new SpecFileError(`--text applies to text jobs, and "${name}" trains on a ${data?.kind ?? 'missing'} data source.`, { metaMessages: ['Use the `text` preset: mycel train text --text FILE'] });
    loaded = await loadTextFileBytes(textPath);
    Object.assign(data, { path: resolve(textPath), sha256: toHex(sha256(loaded.bytes)) });
  }
  const spec = parseJobSpec(input);
  if (spec.data.kind !== 'text') return { spec };
  if (spec.data.path === '') throw new SpecFileError('This text job names no file.', { metaMessages: ['Pass the text with --text FILE (UTF-8).'] });
  const { text, bytes } = loaded ?? (await loadTextFileBytes(spec.data.path));
  const actual = toHex(sha256(bytes));
  if (actual !== spec.data.sha256) throw new TextMismatchError(spec.data.path, spec.data.sha256, actual);
  return { spec, text };
}

export async function resolveProgram(name: string, flags: Flags): Promise<TrainProgram> {
  const { spec, text } = await resolveSpec(name, flags.text as string | undefined);
  return buildProgram(spec, { text });
}

/** Training runs live under <data dir>/train. */
export function trainStore(flags: Flags): Store {
  return new Store(join(dataDirOf(flags), 'train'));
}

export const JOB_FLAGS = {
  text: { type: 'string', value: 'FILE', description: 'the UTF-8 text file a text job trains on' },
  'data-dir': { type: 'string', value: 'DIR', description: 'where runs and checkpoints are kept (default: $MYCEL_HOME or ~/.mycel)' },
} as const;
