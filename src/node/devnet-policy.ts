/**
 * The devnet swarm's starting policy (node/devnet-swarm.ts): a small GPT (d=32, 2 layers, ~20k parameters)
 * pre-trained on 2-digit addition, the swarm eval's task, until it answers most of the eval's 16 questions (so the
 * coordinator pays a score share). Measured with the eval program on 6 beacons (2026-12-06, CPU seconds on a loaded
 * machine): 800 steps at lr 0.01 scored 15, 14, 12, 9, 9 and 14 of 16 (42 s); 600 steps of it 0-4 (25 s); the micro
 * model (d=16, 1 layer) 1-5 after 1,500 steps (30 s) and often 0 after 600; d=24, 2 layers, 0-2 after 800; the
 * `policy` preset's model (d=64) costs about 4x the CPU per step and scored 0-2 after 300.
 *
 * Pre-training is a pure function of the spec (the runtime is bit-reproducible), so every machine makes the same
 * policy; it is kept in a cache dir by the program's id and a later devnet reads it back. Without it, it runs in a
 * child process (pretrain-child.ts), started when the devnet starts: it overlaps the market's jobs, whose node
 * processes leave a core idle much of the time. At the normal priority, not a lower one: on a busy machine (two CPU
 * hogs) a niced child got almost no CPU and npm start took 459 s instead of 141 s.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { followChild } from '../platform/child-output.js';
import { MycelError } from '../platform/errors.js';
import { decodeCheckpoint, type TrainProgram, type TrainState } from '../train/index.js';
import { parseSapoConfig, type SapoConfig, type SapoConfigInput } from '../swarm/sapo-config.js';
import { buildProgram, policySpec, type PolicyModel } from '../swarm/sapo-policy.js';

/** Small enough to evaluate, re-execute and dispute in a second or two; large enough to learn 2-digit addition. */
export const DEVNET_SWARM_MODEL: PolicyModel = { contextLength: 24, dModel: 32, layers: 2, heads: 2, mlpHidden: 64 };

/**
 * The devnet swarm's rules: 2-digit addition (the eval's task), 2 own and 2 peers' questions a round, 4 completions
 * each (a GRPO group), answers of at most 3 digits and the end token, every peer rollout re-executed.
 */
export const DEVNET_SWARM_CONFIG: SapoConfigInput = {
  swarmId: 'mycel-devnet',
  tasks: [{ name: 'addition', config: { digits: 2 } }],
  own: 2,
  external: 2,
  completions: 4,
  maxTokens: 4,
  temperature: 1,
  reexecFraction: 1,
  lr: 1e-3,
};

export const DEVNET_PRETRAIN = { steps: 800, lr: 0.01, seed: 1 };

export function devnetSwarmConfig(): SapoConfig {
  return parseSapoConfig(DEVNET_SWARM_CONFIG);
}

/** The pre-training job of the devnet swarm's starting policy. */
export function devnetPolicyProgram(): TrainProgram {
  return buildProgram(policySpec(devnetSwarmConfig(), { model: DEVNET_SWARM_MODEL, ...DEVNET_PRETRAIN }));
}

export type StartingPolicy = { program: TrainProgram; state: TrainState; file: string; cached: boolean; seconds: number };

/** The starting policy could not be made (the child's own error lines say why). */
export class PretrainError extends MycelError {
  override name = 'PretrainError';
  constructor(reason: string, file: string) {
    super(`Pre-training the devnet swarm's starting policy failed: ${reason}`, { metaMessages: [`It is cached at ${file} once made; run again, or run with --no-swarm to leave the swarm out.`] });
  }
}

/**
 * The starting policy: read from `cacheDir`, or pre-trained by a child process and written there. `stop` ends the
 * child (the devnet stopped or failed before it needed the policy).
 */
export function startingPolicy(cacheDir: string, log: (text: string) => void): { ready: Promise<StartingPolicy>; stop(): void } {
  const started = performance.now();
  const program = devnetPolicyProgram();
  const file = join(cacheDir, `policy-${program.id}.safetensors`);
  let stop = () => {};
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const read = async () => decodeCheckpoint(await readFile(file), file).state;
  const ready = (async (): Promise<StartingPolicy> => {
    try {
      return { program, state: await read(), file, cached: true, seconds: seconds() };
    } catch {
      // Not made yet (or unreadable: made again).
    }
    await mkdir(cacheDir, { recursive: true });
    log(`swarm: pre-training the starting policy (a GPT of d=32, 2 layers; ${DEVNET_PRETRAIN.steps} steps on 2-digit addition) in a child process beside the market; cached in ${file}`);
    const fromTs = import.meta.url.endsWith('.ts');
    const entry = fileURLToPath(new URL(fromTs ? './pretrain-child.ts' : './pretrain-child.js', import.meta.url));
    const child = spawn(process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), entry], { env: { ...process.env, MYCEL_PRETRAIN: JSON.stringify({ file, id: program.id }) }, stdio: ['ignore', 'pipe', 'pipe'] });
    stop = () => void (child.exitCode === null && child.kill('SIGTERM'));
    const output = followChild(child, () => {});
    const code = await new Promise<number | null>((done) => child.on('exit', (c, signal) => done(signal ? null : c)));
    if (code !== 0) throw new PretrainError(output.errorLines() || `the child process ended with ${code ?? 'a signal'}`, file);
    return { program, state: await read(), file, cached: false, seconds: seconds() };
  })();
  return { ready, stop: () => stop() };
}
