import { UsageError } from '../platform/errors.js';
import type { Output } from './output.js';

/** A flag as `mycel <command> --help` shows it; parsed by node:util parseArgs. */
export type FlagSpec = {
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  /** Shown in --help as the value's name, e.g. FILE or N. */
  value?: string;
  multiple?: boolean;
  default?: string | boolean;
};

export type Flags = Record<string, string | boolean | string[] | undefined>;

export type CommandContext = {
  /** Positional arguments after the command's name. */
  args: string[];
  flags: Flags;
  out: Output;
  /** Aborted on Ctrl-C: long work should stop and clean up. */
  signal: AbortSignal;
};

/** One command, one file (after npm's CLI): name, help text and flags live beside what it does. */
export type Command = {
  /** One or two words: "bench", "node start". */
  name: string;
  summary: string;
  /** Positional part of the usage line, e.g. "<spec.json | preset>". */
  usage?: string;
  /** More lines for --help: examples, notes. */
  description?: string;
  flags?: Record<string, FlagSpec>;
  run(ctx: CommandContext): Promise<void> | void;
};

/** Reads a flag that must be a whole number in a range; the error names the flag and the fix. */
export function intFlag(flags: Flags, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < min || value > max) {
    throw new FlagError(name, `a whole number from ${min} to ${max}`, String(raw));
  }
  return value;
}

export class FlagError extends UsageError {
  override name = 'FlagError';
  constructor(flag: string, expected: string, got: string) {
    super(`--${flag} must be ${expected}, got "${got}".`);
  }
}
