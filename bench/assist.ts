// `npm run bench -- assist [--json] [--quick] [--wrong-cost C] [--seed S]`: the assist experiment on held-out
// houses (src/assist/blocks/experiment.ts): scripted people build alone, with the base assistant, with an oracle that
// knows the goal (the ceiling of any assistant placing one block a turn), and with the assistant fine-tuned on k
// sessions of theirs (beside a replay of the base model's data). --wrong-cost C: a wrong
// placement costs C (default 1: the 50% rule; 3: the assistant acts above 75%). In Node, the same SDK as the app. One line per person and condition, then the summary line. The base
// model is kept in .cache/assist by the hash of its options (it is a pure function of them). Progress on stderr.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { configureKernels } from '../src/tensor/index.js';
import { sha256, toHex } from '../src/platform/sha256.js';
import { decodeModel, encodeModel, MODEL_FORMAT, modelHash, type AssistModel } from '../src/assist/model.js';
import { ASSISTED_ROUNDS, BENCH_PEOPLE, EXPERIMENT_DEFAULTS, crowdEpisodes, runPerson, summarize, trainBase, type ConditionRow, type ExperimentOptions } from '../src/assist/blocks/experiment.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

/**
 * The base model of these options, from .cache/assist, or trained and kept there (it is a pure function of them and
 * of the code: the key names the model format, which changes with the features, and how the base is trained).
 */
export function cachedBase(o: ExperimentOptions, progress: (line: string) => void): AssistModel {
  const baseKey = toHex(sha256(new TextEncoder().encode(JSON.stringify([MODEL_FORMAT, `${ASSISTED_ROUNDS} assisted rounds`, o.seed, o.crowdEpisodes, o.baseSteps, o.horizon])))).slice(0, 16);
  const file = join('.cache', 'assist', `base-${baseKey}.safetensors`);
  if (existsSync(file)) return decodeModel(readFileSync(file));
  progress(`training the base model (${o.crowdEpisodes} crowd episodes, ${o.baseSteps} steps; kept in ${file})...`);
  const base = trainBase(o, progress).model;
  mkdirSync(join('.cache', 'assist'), { recursive: true });
  writeFileSync(file, encodeModel(base));
  return base;
}

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const quick = args.includes('--quick');
  configureKernels({ threads: 1 }); // the machine's cores are shared; the ops are small
  const o: ExperimentOptions = {
    ...EXPERIMENT_DEFAULTS,
    ...(quick ? { crowdEpisodes: 60, baseSteps: 150, sessions: 1, goalsPerSession: 2, fineTuneSteps: 30, replay: 12, evalGoals: 3 } : {}),
    seed: Number(flag(args, '--seed') ?? EXPERIMENT_DEFAULTS.seed),
    rewards: { help: 1, wrong: Number(flag(args, '--wrong-cost') ?? 1) },
  };
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const t0 = performance.now();
  const base = cachedBase(o, progress);
  progress(`base model ${modelHash(base).slice(0, 16)} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows: ConditionRow[] = [];
  const replay = crowdEpisodes({ ...o, crowdEpisodes: o.replay }); // the first of the base model's own episodes
  BENCH_PEOPLE.forEach((person, i) => {
    const r = runPerson(person, i, base, o, progress, replay);
    for (const row of r.rows) {
      rows.push(row);
      report({ ...row, threshold: o.rewards.wrong / (o.rewards.help + o.rewards.wrong) });
    }
  });
  report({ ...summarize(rows, o.sessions), threshold: o.rewards.wrong / (o.rewards.help + o.rewards.wrong), seconds: Math.round((performance.now() - t0) / 1000), load: loadavg()[0] });
}
