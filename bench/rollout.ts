// `npm run bench -- rollout [--json] [--repeats N]`: what a SAPO round's own generation costs with the rollout program
// (generateRollouts: K forwards over the whole context, the program's ops, all questions at once) beside the KV-cache
// generation it replaced (generateBatch over the same prompts, sampled at the same temperature), for the default
// swarm (SWARM_MODEL, its four tasks, 4 x 4 completions of 8 tokens) and the swarm bench's (EXPERIMENT_DEFAULTS, 8 x 8
// of 3 tokens). Each row: {swarm, questions, completions, tokens, context, program_ms, kv_cache_ms, ratio, load}, the
// best of N runs each (a fresh policy: the time does not depend on its values).
import { loadavg } from 'node:os';
import { parseSapoConfig, type SapoConfigInput } from '../src/swarm/sapo-config.js';
import { EXPERIMENT_DEFAULTS } from '../src/swarm/sapo-experiment.js';
import { buildProgram, policySpec, SWARM_MODEL, SWARM_TASKS, type PolicyModel } from '../src/swarm/sapo-policy.js';
import { generateRollouts, promptFits, rolloutInputs, rolloutLayout } from '../src/swarm/rollout-program.js';
import { rolloutQuestion, rolloutSeed, roundBeacon, taskFor } from '../src/swarm/rollout-seeds.js';
import { generateBatch } from '../src/train/index.js';
import { makeReporter } from './report.js';

const SWARMS: Record<string, { config: SapoConfigInput; model: PolicyModel }> = {
  default: { config: { tasks: SWARM_TASKS }, model: SWARM_MODEL },
  bench: { config: { ...EXPERIMENT_DEFAULTS.base, own: 8 }, model: EXPERIMENT_DEFAULTS.model },
};

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('npm run bench -- rollout [--json] [--repeats N]');
    return;
  }
  const report = makeReporter(args);
  const at = args.indexOf('--repeats');
  const repeats = at >= 0 ? Number(args[at + 1]) : 5;
  const best = (f: () => unknown) => {
    f(); // warm-up
    let ms = Infinity;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      f();
      ms = Math.min(ms, performance.now() - t0);
    }
    return ms;
  };
  for (const [name, s] of Object.entries(SWARMS)) {
    const config = parseSapoConfig(s.config);
    const program = buildProgram(policySpec(config, { model: s.model, steps: 1 }));
    const params = program.init().params;
    const layout = rolloutLayout(config, s.model.contextLength);
    const beacon = roundBeacon(config.swarmId, 0);
    const questions = Array.from({ length: config.own }, (_, index) => {
      const seed = rolloutSeed(beacon, new Uint8Array(20), index);
      return { seed, ...rolloutQuestion(seed, taskFor(seed, config.tasks.map((t) => t.name)), config)! };
    }).filter((q) => promptFits(program.tokenizer.encode(q.prompt).length, layout));
    const inputs = questions.map((q) => rolloutInputs(q, q.seed, program.tokenizer, layout));
    const prompts = questions.flatMap((q) => Array.from({ length: config.completions }, () => program.tokenizer.encode(q.prompt)));
    const programMs = best(() => generateRollouts(program.model, params, inputs, config, program.tokenizer));
    const kvMs = best(() => generateBatch(program.model, params, prompts, { maxTokens: config.maxTokens, temperature: config.temperature, seeds: prompts.map((_, i) => i) }));
    report({ swarm: name, questions: questions.length, completions: config.completions, tokens: config.maxTokens, context: layout.width, program_ms: programMs, kv_cache_ms: kvMs, ratio: programMs / kvMs, load: loadavg()[0] });
  }
}
