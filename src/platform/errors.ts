/**
 * The one base of every mycel error (after viem's BaseError): a short message that says what went
 * wrong, details, and hints that name the fix. The CLI prints these instead of a stack trace.
 */
export type MycelErrorOptions = {
  /** What the user should do next, one line each. */
  metaMessages?: string[];
  details?: string;
  cause?: unknown;
};

export class MycelError extends Error {
  override name = 'MycelError';
  readonly shortMessage: string;
  readonly metaMessages: string[];
  readonly details: string | undefined;

  constructor(shortMessage: string, options: MycelErrorOptions = {}) {
    const lines = [shortMessage];
    if (options.metaMessages?.length) lines.push('', ...options.metaMessages);
    if (options.details) lines.push('', `Details: ${options.details}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.metaMessages = options.metaMessages ?? [];
    this.details = options.details;
  }
}

/** A wrong command line: unknown command or flag, missing or malformed argument. */
export class UsageError extends MycelError {
  override name = 'UsageError';
}
