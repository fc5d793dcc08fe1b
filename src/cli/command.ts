import { totalmem } from 'node:os';
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
  /** Returns an exit code other than 0 where the work did not finish (interruptedExit), or nothing. */
  run(ctx: CommandContext): Promise<number | void> | number | void;
};

/** The signal that ends a command, as main.ts records it in the abort reason (a DOMException named AbortError). */
export const abortReason = (signal: 'SIGINT' | 'SIGTERM') => new DOMException(`Interrupted by ${signal}`, 'AbortError');

/**
 * The exit code of a command whose work a signal cut short, after it saved what it had (a checkpoint): the shell's
 * convention, 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), so that `mycel train job && next` does not
 * go on with unfinished work. A finite job that was told where to stop (--stop-at) finished what was asked, and a
 * service (node start) stopped by a signal ended normally: both exit 0.
 */
export function interruptedExit(signal: AbortSignal): number | undefined {
  if (!signal.aborted) return undefined;
  return /SIGTERM/.test(String((signal.reason as Error | undefined)?.message)) ? 143 : 130;
}

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

/** --max-memory GIB in bytes (default: 80% of this machine's RAM); the error names the flag. */
export function maxMemoryFlag(flags: Flags): number {
  const limit = flags['max-memory'] === undefined ? 0.8 * totalmem() : Number(flags['max-memory']) * 2 ** 30;
  if (!(limit > 0)) throw new FlagError('max-memory', 'a positive number of GiB', String(flags['max-memory']));
  return limit;
}

export class FlagError extends UsageError {
  override name = 'FlagError';
  constructor(flag: string, expected: string, got: string) {
    super(`--${flag} must be ${expected}, got "${got}".`);
  }
}
