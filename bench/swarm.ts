// `npm run bench -- swarm [--json] [--quick] [--rounds R] [--seeds 1,2,3] [--only 4/4,8/0] [--lr X] [--temperature T]
// [--reexec F] [--minutes M]`: SAPO at small scale. 8 nodes in one process (the node code of `mycel swarm start` over
// an in-memory transport, so 2 cores suffice), settings 8/0 6/2 4/4 2/6, 4/4-noniid, 8/0-noniid and 4/4-poisoned,
// each seed from the same pre-trained policy (cached in .cache/sapo). One line per setting and seed, then a summary
// line with the gains (ratios of mean cumulative rewards minus 1) and honest_reward_share: of the rewards the swarm
// coordinator's payout rule (src/chain/swarm-payout.ts, checked against the contract on anvil by
// test/chain/swarm-payout.test.ts) pays in the poisoned setting, the share the honest nodes got. Progress goes to
// stderr. --quick: 5 rounds.
// --minutes M: each swarm also stops after the round that ends past M minutes of its own; rows then differ in
// rounds and the summary compares the first K rounds, K the fewest any row ran (each row carries its rewards).
// `--summarize FILE...`: the rows of earlier runs (split by --only/--seeds) and their summary.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configureKernels } from '../src/tensor/index.js';
import { decodeCheckpoint, encodeCheckpoint, stateHash, type TrainProgram, type TrainState } from '../src/train/index.js';
import { parseSapoConfig } from '../src/swarm/sapo-config.js';
import { EXPERIMENT_DEFAULTS, SETTINGS, runSetting, startingPolicy, summarize, type Setting, type SettingResult } from '../src/swarm/sapo-experiment.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

/** The pre-trained starting policy, kept in .cache/sapo by its job id (a pure function of the spec). */
function cachedPolicy(program: TrainProgram, make: () => TrainState): TrainState {
  const file = join('.cache', 'sapo', `start-${program.id}.safetensors`);
  if (existsSync(file)) return decodeCheckpoint(readFileSync(file), file).state;
  process.stderr.write(`pre-training the starting policy (${program.spec.steps} steps; kept in ${file})...\n`);
  const state = make();
  mkdirSync(join('.cache', 'sapo'), { recursive: true });
  writeFileSync(file, encodeCheckpoint(state, { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON(), stateHash: stateHash(state) }));
  return state;
}

/** Bad flags or files: said in one line (what is wrong, what to do), exit code 2, no stack trace. */
export class BadInput extends Error {}

/**
 * The rows of earlier runs (JSON lines files; other lines are skipped): each (setting, seed) is
 * deterministic, so runs split by --only and --seeds combine into one table and its summary.
 */
export function rowsOf(files: readonly string[]): SettingResult[] {
  return files.flatMap((file) => {
    if (!existsSync(file)) throw new BadInput(`--summarize: ${file} does not exist (give the files a run printed with --json)`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as SettingResult & { summary?: boolean }];
        } catch {
          throw new BadInput(`--summarize: ${file} line ${i + 1} is not JSON (a run's output cut short? remove that line)`);
        }
      })
      .filter((row) => !row.summary && SETTINGS.includes(row.setting));
  });
}

export async function run(args: string[]): Promise<void> {
  try {
    await runBench(args);
  } catch (error) {
    if (!(error instanceof BadInput)) throw error;
    process.stderr.write(`bench swarm: ${error.message}\n`);
    process.exitCode = 2;
  }
}

async function runBench(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const at = args.indexOf('--summarize');
  if (at >= 0) {
    const files = args.slice(at + 1).filter((a) => !a.startsWith('--'));
    if (files.length === 0) throw new BadInput('--summarize takes the JSON lines files of earlier runs: --summarize a.jsonl b.jsonl');
    const rows = rowsOf(files);
    for (const row of rows) report({ ...row });
    report(summarize(rows));
    return;
  }
  const quick = args.includes('--quick');
  // One thread: the machine's 2 cores are shared, and rounds are many small ops.
  configureKernels({ threads: 1 });
  const number = (name: string, fallback: number) => {
    const value = flag(args, name);
    if (value === undefined) return fallback;
    if (!Number.isFinite(Number(value)) || Number(value) <= 0) throw new BadInput(`${name} takes a number > 0, got ${value}`);
    return Number(value);
  };
  const d = EXPERIMENT_DEFAULTS;
  const base = { ...d.base, lr: number('--lr', d.base.lr!), temperature: number('--temperature', d.base.temperature!), reexecFraction: flag(args, '--reexec') === '0' ? 0 : number('--reexec', d.base.reexecFraction!) };
  const options = { ...d, base, rounds: number('--rounds', quick ? 5 : d.rounds), heldout: quick ? 16 : d.heldout };
  // Each swarm stops at the end of the round that passes its own budget: rows then differ in rounds, and the summary compares the rounds all have.
  const minutes = flag(args, '--minutes') === undefined ? undefined : number('--minutes', 0);
  const seeds = (flag(args, '--seeds') ?? '1,2,3').split(',').map(Number);
  const only = flag(args, '--only')?.split(',') as Setting[] | undefined;
  const settings = only ?? [...SETTINGS];
  for (const s of settings) if (!SETTINGS.includes(s)) throw new BadInput(`--only: unknown setting ${s}; one of ${SETTINGS.join(', ')}`);
  for (const seed of seeds) if (!Number.isSafeInteger(seed) || seed < 0) throw new BadInput(`--seeds takes whole numbers separated by commas, e.g. 1,2,3; got ${flag(args, '--seeds')}`);
  const results: SettingResult[] = [];
  const t0 = performance.now();
  const start = startingPolicy(parseSapoConfig({ ...options.base }), options.pretrainSteps, options.model, cachedPolicy);
  process.stderr.write(`starting policy (the policy preset, ${options.pretrainSteps} steps) ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  for (const seed of seeds) {
    for (const setting of settings) {
      const deadline = minutes === undefined ? undefined : performance.now() + minutes * 60_000;
      const result = runSetting(setting, seed, start, { ...options, deadline }, (round, h) =>
        process.stderr.write(`  ${setting} seed ${seed} round ${round + 1}/${options.rounds}: reward ${h.reward.toFixed(3)}, equal-reward groups ${h.ownEqual.toFixed(2)}, mean |advantage| ${h.meanAbsAdvantage.toFixed(2)}, grad norm ${h.gradNorm.toFixed(3)}, ${h.seconds.toFixed(2)} s\n`),
      );
      results.push(result);
      report({ ...result });
    }
  }
  report(summarize(results));
}
