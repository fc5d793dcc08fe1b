/**
 * Where a command's results and chatter go (after npm's CLI): results to stdout, logs and progress
 * to stderr. With --json, results are JSON lines on stdout and nothing else is written there.
 */
export type OutputOptions = {
  json: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
};

export class Output {
  readonly json: boolean;
  private readonly stdout: OutputOptions['stdout'] & {};
  private readonly stderr: OutputOptions['stderr'] & {};

  constructor({ json, stdout = process.stdout, stderr = process.stderr }: OutputOptions) {
    this.json = json;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** A result: `value` as one JSON line in --json mode, otherwise `text` (default: the value). */
  result(value: unknown, text?: string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value)}\n`);
    else this.stdout.write(`${text ?? String(value)}\n`);
  }

  /** Human text on stdout; silent in --json mode. */
  print(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A log line on stderr (never mixed into results). */
  log(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /**
   * A progress bar on stderr. It appears only on a terminal and only after 200 ms, so quick work and
   * logs piped to a file stay clean.
   */
  progress(label: string, total: number): Progress {
    return new Progress(this.stderr, label, total, Boolean(this.stderr.isTTY));
  }
}

export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private current = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly label: string,
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}

  update(current: number, info = ''): void {
    this.current = current;
    const now = Date.now();
    if (!this.enabled || now - this.start < 200 || now - this.lastDraw < 80) return;
    this.lastDraw = now;
    this.draw(info);
  }

  /** Draws the bar where the work really ended (`current`: a stopped run ends short of the total). */
  done(current = this.current, info = ''): void {
    this.current = current;
    if (!this.drawn) return;
    this.draw(info);
    this.stream.write('\n');
  }

  private draw(info: string): void {
    const fraction = this.total > 0 ? Math.min(1, this.current / this.total) : 0;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${this.label} ${bar} ${this.current}/${this.total} ${info} eta ${formatSeconds(eta)}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
    this.drawn = true;
  }
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
