// `npm run bench -- swarm [--json] [--quick] [--rounds R] [--seeds 1,2,3] [--only 4/4,8/0]`: SAPO at small
// scale. 8 nodes in one process (the node code of `mycel swarm start` over an in-memory transport, so 2
// cores suffice), settings 8/0 6/2 4/4 2/6, 4/4-noniid, 8/0-noniid and 4/4-poisoned, each seed from the same
// pre-trained policy. One line per setting and seed, then a summary line with the gains (ratios of mean
// cumulative rewards minus 1). Progress goes to stderr. --quick: 2 rounds.
import { configureKernels } from '../src/tensor/index.js';
import { parseSapoConfig } from '../src/swarm/sapo-config.js';
import { EXPERIMENT_DEFAULTS, SETTINGS, runSetting, startingPolicy, summarize, type Setting, type SettingResult } from '../src/swarm/sapo-experiment.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

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
  for (const seed of seeds) {
    const t0 = performance.now();
    const start = startingPolicy(parseSapoConfig({ ...options.base }), seed, options.pretrainSteps);
    process.stderr.write(`seed ${seed}: starting policy pre-trained (${options.pretrainSteps} steps) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const setting of settings) {
      const result = runSetting(setting, seed, start, options, (round, reward) => process.stderr.write(`  ${setting} seed ${seed} round ${round + 1}/${options.rounds}: reward ${reward.toFixed(3)}\n`));
      results.push(result);
      report({ ...result });
    }
  }
  report(summarize(results));
}
