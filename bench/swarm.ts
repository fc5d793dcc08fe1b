// `npm run bench -- swarm [--json] [--quick] [--rounds R] [--seeds 1,2,3] [--only 4/4,8/0]`: SAPO at small
// scale. 8 nodes in one process (the node code of `mycel swarm start` over an in-memory transport, so 2
// cores suffice), settings 8/0 6/2 4/4 2/6, 4/4-noniid, 8/0-noniid and 4/4-poisoned, each seed from the same
// pre-trained policy (the policy preset, cached in .cache/sapo). One line per setting and seed, then a summary line with the gains (ratios of mean
// cumulative rewards minus 1). Progress goes to stderr. --quick: 2 rounds.
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

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const quick = args.includes('--quick');
  // One thread: the machine's 2 cores are shared, and rounds are many small ops.
  configureKernels({ threads: 1 });
  const options = { ...EXPERIMENT_DEFAULTS, rounds: Number(flag(args, '--rounds') ?? (quick ? 2 : EXPERIMENT_DEFAULTS.rounds)), heldout: quick ? 16 : EXPERIMENT_DEFAULTS.heldout };
  const seeds = (flag(args, '--seeds') ?? '1,2,3').split(',').map(Number);
  const only = flag(args, '--only')?.split(',') as Setting[] | undefined;
  const settings = only ?? [...SETTINGS];
  for (const s of settings) if (!SETTINGS.includes(s)) throw new Error(`unknown setting ${s}; one of ${SETTINGS.join(', ')}`);
  const results: SettingResult[] = [];
  const t0 = performance.now();
  const start = startingPolicy(parseSapoConfig({ ...options.base }), options.pretrainSteps, cachedPolicy);
  process.stderr.write(`starting policy (the policy preset, ${options.pretrainSteps} steps) ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  for (const seed of seeds) {
    for (const setting of settings) {
      const result = runSetting(setting, seed, start, options, (round, reward) => process.stderr.write(`  ${setting} seed ${seed} round ${round + 1}/${options.rounds}: reward ${reward.toFixed(3)}\n`));
      results.push(result);
      report({ ...result });
    }
  }
  report(summarize(results));
}
