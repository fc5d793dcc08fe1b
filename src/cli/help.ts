import type { Command, FlagSpec } from './command.js';

/** Global flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'print results as JSON lines on stdout, for machines' },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
};

export function commandHelp(command: Command): string {
  const lines = [`Usage: mycel ${command.name}${command.usage ? ` ${command.usage}` : ''} [flags]`, '', command.summary];
  if (command.description) lines.push('', command.description.trim());
  lines.push('', 'Flags:');
  const flags = { ...command.flags, ...GLOBAL_FLAGS };
  const rows = Object.entries(flags).map(([name, flag]) => {
    const left = `${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`;
    const def = flag.default === undefined ? '' : ` (default: ${String(flag.default)})`;
    return [left, `${flag.description}${def}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}  ${right}`);
  return lines.join('\n');
}

export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'mycel: verifiable, decentralized machine learning',
    '',
    'Usage: mycel <command> [args] [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `mycel <command> --help` for a command\'s flags. Every command accepts --json.',
  ].join('\n');
}

/** `mycel node` on its own: the commands of that group. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `Usage: mycel ${group} <command> [args] [flags]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`mycel ${group} <command> --help\` for a command's flags.`,
  ].join('\n');
}

/** The candidate closest to `input` by edit distance, if it is close enough to be a typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(input, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
