// `npm run bench -- <name> [--json] [flags]`: runs bench/<name>.ts. Benchmarks print figures and, where an
// anchor runs side by side in the same run, the ratio to it; they never assert speed.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['main.ts', 'report.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !names.includes(name)) {
  if (name && !name.startsWith('-')) console.error(`Unknown benchmark "${name}".`);
  console.error(`Usage: npm run bench -- <${names.join(' | ')}> [--json] [flags]`);
  process.exit(name && !name.startsWith('-') ? 2 : 0);
}
const bench = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { run(args: string[]): Promise<void> };
// A failed benchmark says what failed in one line (with --json, as a JSON line too) and exits 1, without a stack trace.
try {
  await bench.run(args);
} catch (error) {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (args.includes('--json')) console.log(JSON.stringify({ name, error: message }));
  console.error(`bench ${name} failed: ${message}`);
  process.exit(1);
}
