#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { MycelError, UsageError } from '../platform/errors.js';
import { abortReason, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { GLOBAL_FLAGS, commandHelp, didYouMean, groupHelp, mainHelp } from './help.js';
import { Output } from './output.js';

/** Finds the command whose (one- or two-word) name starts argv; the rest are its arguments. */
export function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command && argv.length >= words) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output({ json });
  try {
    const positional = argv.filter((a) => !a.startsWith('-'));
    if (positional.length === 0) {
      if (argv.includes('--version')) return out.result({ version: await version() }, await version()), 0;
      out.print(mainHelp(COMMANDS));
      return argv.some((a) => a === '--help' || a === '-h') ? 0 : 2;
    }
    const found = findCommand(argv.filter((a) => a !== '--json'));
    const group = COMMANDS.filter((c) => c.name.startsWith(`${positional[0]} `));
    if (!found && group.length > 0 && positional.length === 1) {
      // `mycel node` alone: the group's subcommands, as `mycel --help` shows commands.
      out.result({ group: positional[0], commands: group.map((c) => ({ name: c.name, summary: c.summary })) }, groupHelp(positional[0], group));
      return argv.some((a) => a === '--help' || a === '-h') ? 0 : 2;
    }
    if (!found) {
      const names = COMMANDS.map((c) => c.name);
      const guess = didYouMean(positional.slice(0, 2).join(' '), names) ?? didYouMean(positional[0], names);
      throw new UsageError(`Unknown command "${positional[0]}".`, {
        metaMessages: [guess ? `Did you mean \`mycel ${guess}\`?` : 'Run `mycel --help` for the list of commands.'],
      });
    }
    const { command, rest } = found;
    const options = { ...command.flags, ...GLOBAL_FLAGS };
    let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, options: options as never, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (error) {
      const flag = /'(-{1,2}[^']+)'/.exec(String((error as Error).message))?.[1];
      const guess = flag && didYouMean(flag.replace(/^-+/, ''), Object.keys(options));
      // node's own text for an unknown option ends in a quote it never closes; say it plainly instead.
      const unknown = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag;
      throw new UsageError(unknown ? `Unknown flag ${flag} for \`mycel ${command.name}\`.` : `${(error as Error).message.split('\n')[0]}`, {
        metaMessages: [guess ? `Did you mean --${guess}?` : `Run \`mycel ${command.name} --help\` for its flags.`],
      });
    }
    if (parsed.values.help) {
      out.print(commandHelp(command));
      return 0;
    }
    const flags = Object.fromEntries(Object.entries(options).map(([k, f]) => [k, parsed.values[k] ?? f.default]));
    return (await command.run({ args: parsed.positionals, flags: flags as never, out, signal })) ?? 0;
  } catch (error) {
    return report(out, error);
  }
}

function report(out: Output, error: unknown): number {
  const code = error instanceof UsageError ? 2 : 1;
  if (out.json) {
    const e = error as MycelError;
    out.result({ error: { name: e.name, message: e.shortMessage ?? e.message, hints: e.metaMessages ?? [] } });
  }
  if (error instanceof MycelError) out.log(`Error: ${error.message}`);
  else out.log(`Unexpected error (a bug in mycel; please report it): ${(error as Error)?.stack ?? String(error)}`);
  return code;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const isEntry = process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntry) {
  const controller = new AbortController();
  // Both end a command the same way: its abort signal stops what it started (anvil, node processes) before exit.
  // The reason names the signal: a command cut short by it exits 128 + its number (command.ts interruptedExit).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort(abortReason(signal)));
  process.exitCode = await main(process.argv.slice(2), controller.signal);
}
