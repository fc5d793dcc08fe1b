/**
 * Rollout groups for the coordinator's rollout dispute on anvil (docs/swarm-chain.md, "The rollout program"): an
 * author's honest group of a round (the rollout program of its question run with its committed policy), and a
 * fabricated one (the same program with the group's rows or its `useful` flag overwritten where the program writes
 * them: what an author publishing rows its policy did not generate, or claiming `useful` on an all-equal group,
 * commits to). Shared by test/chain/coordinator-rollout.test.ts and the chain bench.
 */
import { hexToBytes, type Address, type Hex } from 'viem';
import type { SwarmGroup } from '../../src/chain/index.js';
import { DEFAULT_SWARM_CONFIG } from '../../src/node/swarm-chain.js';
import { writerOf } from '../../src/node/swarm-rollout.js';
import { groupHash } from '../../src/swarm/grpo-step.js';
import { rolloutInputs, rolloutLayout, rolloutProgram, ROLLOUT_TENSORS, type RolloutProgram } from '../../src/swarm/rollout-program.js';
import { rolloutQuestion, rolloutSeed, roundBeacon } from '../../src/swarm/rollout-seeds.js';
import { buildProgram, policySpec } from '../../src/swarm/sapo-policy.js';
import { Tensor } from '../../src/tensor/index.js';
import { runJob, stateHash, stateLeaves, type JobProgram, type TrainProgram, type TrainState } from '../../src/train/index.js';
import { adversary } from '../../src/verify/index.js';
import { tempStore } from '../train/helpers.js';
import { SWARM_ID, TINY, hex, type RecordedRun } from './coordinator-fixture.js';

/** The swarm config the tests' coordinators referee rollouts for (swarmProgramOf(TINY)'s). */
export const ROLLOUT_CONFIG = DEFAULT_SWARM_CONFIG;

export type RolloutPolicy = { program: TrainProgram; state: TrainState; leaves: Hex[]; hash: Hex };

/** A swarm policy of the tiny model under ROLLOUT_CONFIG (seed `seed`): what an author commits with its groups. */
export function rolloutPolicy(seed: number): RolloutPolicy {
  const program = buildProgram(policySpec(ROLLOUT_CONFIG, { model: TINY, seed, steps: 1, batchSize: 4 }));
  const state = program.init();
  return { program, state, leaves: stateLeaves(state).map(hex), hash: `0x${stateHash(state)}` };
}

/** A run of a rollout program (honest or not) and the group it commits to: its rows' hash and its useful flag. */
export type RolloutRun = RecordedRun & { group: SwarmGroup; runRoot: Hex };

async function recordedRun(program: JobProgram<any>, index: number): Promise<RolloutRun> {
  const store = await tempStore();
  const { record, state } = await runJob(program, { store });
  const rows = state.opt.tensors[ROLLOUT_TENSORS.rows] as Tensor;
  const useful = (state.opt.tensors[ROLLOUT_TENSORS.useful] as Tensor).data[0] !== 0;
  return { program, store, record, group: { index, groupHash: `0x${groupHash(rows)}`, useful }, runRoot: `0x${record.commitment!}` };
}

/** The honest rollout program of `author`'s question `index` of `round` with `policy`, and its run. */
export async function honestRollout(policy: RolloutPolicy, author: Address, round: bigint, index: number): Promise<{ honest: RolloutProgram; run: RolloutRun }> {
  const layout = rolloutLayout(ROLLOUT_CONFIG, TINY.contextLength);
  const seed = rolloutSeed(roundBeacon(SWARM_ID, Number(round)), hexToBytes(author), index);
  const inputs = rolloutInputs(rolloutQuestion(seed, 'addition', ROLLOUT_CONFIG)!, seed, policy.program.tokenizer, layout);
  const honest = rolloutProgram(policy.program, policy.state, inputs, ROLLOUT_CONFIG);
  return { honest, run: await recordedRun(honest, index) };
}

/** The op of the program's step that writes state tensor `opt.<name>` (through the reshapes that shape it). */
/**
 * A fabricated group of the same question: `useful` claimed when the honest group's rewards are all equal, otherwise
 * rows the policy did not generate (one mask entry changed). Its run is the author's commitment to it.
 */
export function fabricatedRollout(honest: RolloutProgram, honestGroup: SwarmGroup): Promise<RolloutRun> {
  const name = honestGroup.useful ? ROLLOUT_TENSORS.rows : ROLLOUT_TENSORS.useful;
  const op = writerOf(honest, name);
  const fake = adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
    if (i !== op) return;
    const data = out.data as Float32Array;
    if (honestGroup.useful) data[2 * honest.layout.width] += 1; // row 0's mask at position 0
    else data[0] = 1;
  });
  return recordedRun(fake, honestGroup.index);
}
