/**
 * The GRPO step program (src/swarm/grpo-step.ts): a group's rows are grpoBatch's rows; the leaves a contract builds
 * from the policies' leaves and the group hashes (grpoStepLeaves) are the state-tree leaves of the program's real h_0
 * and h_1; the step program, and so its facts, is the same for any policy and groups of one config.
 */
import { describe, expect, test } from 'vitest';
import { grpoBatch, groupAdvantages } from '../../src/swarm/grpo.js';
import {
  GrpoStepError, groupHash, groupRows, grpoLayout, grpoStepLeaves, grpoStepProgram, grpoStepRun, publishedGroups, slotName, zeroGroupHash,
} from '../../src/swarm/grpo-step.js';
import { grpoStepFacts } from '../../src/swarm/grpo-step-facts.js';
import { swarmTokenizer } from '../../src/swarm/round.js';
import type { RolloutGroup } from '../../src/swarm/rollout-message.js';
import { runCommitment, stateHash, stateLeaves, type TrainState } from '../../src/train/index.js';
import { toHex } from '../../src/platform/sha256.js';
import { Tensor } from '../../src/tensor/index.js';
import { TINY_MODEL, testConfig, testNodes } from './helpers.js';
import { expectDeploymentFacts } from './deployment-facts.js';

const config = testConfig({ tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 2, external: 2, maxTokens: 2, temperature: 0.7 });
const W = TINY_MODEL.contextLength;
const tokenizer = swarmTokenizer();

const group = (rewards: number[], tokens: number[][] = rewards.map((_, k) => [5 + k, 6])): RolloutGroup => ({
  index: 0, task: 'modular', taskSeed: 1, prompt: '7+8%10=', answer: '5', completions: rewards.map((reward, k) => ({ seed: k, tokens: tokens[k], reward })),
});

/** A node's policy (pre-trained `pretrain` steps from `seed`) and its GRPO step on `groups`, run. */
function stepOf(groups: RolloutGroup[], seed = 1, pretrain = 20) {
  const [node] = testNodes(1, config, seed, pretrain);
  const step = grpoStepProgram(node.program, node.policy, groups.map((g) => groupRows(g, tokenizer, config, W)), config);
  const init = step.init();
  const final = step.step(init).state;
  return { node, step, init, final, next: step.policyOf(final), hashes: groups.map((g) => groupHash(groupRows(g, tokenizer, config, W))) };
}

describe('group rows and their hash', () => {
  test('rows are grpoBatch\'s inputs, targets and mask per completion, with the group\'s advantages', () => {
    const g = group([1, 0, 0, 1], [[5, 6], [7], [5], [8, 9]]);
    const rows = groupRows(g, tokenizer, config, W);
    expect(rows.shape).toEqual([4, 3, W]);
    const advantages = groupAdvantages([1, 0, 0, 1])!;
    const prompt = tokenizer.encode(g.prompt);
    const batch = grpoBatch(g.completions.map((c, k) => ({ prompt, completion: Int32Array.from(c.tokens), ended: c.tokens.length < config.maxTokens, advantage: advantages[k] })), tokenizer, W);
    const data = rows.data as Float32Array;
    for (let k = 0; k < 4; k++) {
      const channel = (c: number) => Array.from(data.subarray((3 * k + c) * W, (3 * k + c + 1) * W));
      expect(channel(0)).toEqual(Array.from(batch.inputs.subarray(k * W, (k + 1) * W)));
      expect(channel(1)).toEqual(Array.from(batch.targets.subarray(k * W, (k + 1) * W)));
      expect(channel(2)).toEqual(Array.from(batch.mask.subarray(k * W, (k + 1) * W)));
    }
  });

  test('a group of equal rewards has mask 0 everywhere; the hash is the rows\' chunk root; the zero slot\'s is a constant', () => {
    const rows = groupRows(group([1, 1, 1, 1]), tokenizer, config, W);
    const mask = Array.from({ length: 4 }, (_, k) => Array.from((rows.data as Float32Array).subarray((3 * k + 2) * W, (3 * k + 3) * W))).flat();
    expect(mask.every((x) => x === 0)).toBe(true);
    expect(groupHash(rows)).not.toBe(groupHash(groupRows(group([1, 0, 1, 1]), tokenizer, config, W)));
    const layout = grpoLayout(config, W);
    expect(layout).toEqual({ slots: 4, completions: 4, width: W });
    expect(zeroGroupHash(layout)).toBe(groupHash(Tensor.zeros([4, 3, W])));
    expect(slotName(0)).toBe('grpo.00');
    expect(slotName(11)).toBe('grpo.11');
  });

  test('a message\'s published groups: those that fit the context, in index order', () => {
    const long = { ...group([1, 0, 1, 0]), index: 1, prompt: '1234567890123+1%10=' };
    const out = publishedGroups([group([1, 0, 0, 0]), long, { ...group([0, 1, 0, 0]), index: 2 }], tokenizer, config, W);
    expect(out.map((g) => g.group.index)).toEqual([0, 2]);
    expect(out.map((g) => g.hash)).toEqual(out.map((g) => groupHash(groupRows(g.group, tokenizer, config, W))));
  });
});

describe('the step\'s leaves', () => {
  const { node, step, init, final, next, hashes } = stepOf([group([1, 0, 0, 1]), { ...group([0, 0, 1, 0], [[3], [4, 4], [5], [6, 6]]), index: 1 }]);

  test('the leaves built from the policies\' leaves and the group hashes are the program\'s h_0 and h_1', () => {
    expect(grpoStepLeaves(stateLeaves(node.policy), hashes, step.layout, 0).map(toHex)).toEqual(stateLeaves(init).map(toHex));
    expect(grpoStepLeaves(stateLeaves(next), hashes, step.layout, 1).map(toHex)).toEqual(stateLeaves(final).map(toHex));
    const run = grpoStepRun(stateLeaves(node.policy), stateLeaves(next), hashes, step.layout);
    expect(run).toEqual({ h0: stateHash(init), h1: stateHash(final), runRoot: runCommitment([stateHash(init), stateHash(final)]) });
    // The slots past the groups hold the zero rows; the policy's tensors come first, then the slots in order.
    expect(step.spec.groups).toEqual([...hashes, zeroGroupHash(step.layout), zeroGroupHash(step.layout)]);
    expect(Object.keys(final.opt.tensors)).toEqual([...Object.keys(node.policy.opt.tensors), 'grpo.00', 'grpo.01', 'grpo.02', 'grpo.03']);
    // The step trained: the parameters moved, the optimizer's tensors are those of one more step.
    expect(stateHash(next)).not.toBe(stateHash(node.policy));
    expect([final.step, final.opt.step]).toEqual([1, 1]);
  });

  test('bad input is refused with what to do', () => {
    const rows = groupRows(group([1, 0, 0, 0]), tokenizer, config, W);
    expect(() => grpoStepProgram(node.program, node.policy, Array(5).fill(rows), config)).toThrow(/5 groups[\s\S]*at most own \+ external = 4/);
    expect(() => grpoStepProgram(node.program, node.policy, [groupRows(group([1, 0, 0, 0]), tokenizer, config, W + 1)], config)).toThrow(GrpoStepError);
    const clash: TrainState = { ...node.policy, opt: { ...node.policy.opt, tensors: { ...node.policy.opt.tensors, 'grpo.00': rows } } };
    expect(() => grpoStepProgram(node.program, clash, [rows], config)).toThrow(/shadow/);
    expect(() => step.step(final)).toThrow(/init\(\) state/);
    expect(() => grpoStepLeaves(stateLeaves(node.policy), Array(5).fill('00'.repeat(32)), step.layout, 0)).toThrow(GrpoStepError);
  });
});

test('the step program is the same for every policy and group of a config: one facts root', () => {
  const one = stepOf([group([1, 0, 0, 1])]).step;
  const two = stepOf([group([0, 1, 1, 1]), group([0, 0, 0, 1]), group([1, 1, 1, 1])], 2, 3).step;
  expect(one.spec.groups).not.toEqual(two.spec.groups);
  expect(one.spec.start).not.toBe(two.spec.start);
  expectDeploymentFacts(one, two, grpoStepFacts(TINY_MODEL, config));
}, 60_000);
