/**
 * The rollout program (src/swarm/rollout-program.ts): SAPO's published groups are its h_1 rows bit for bit, its
 * in-program reward is the task's verifier on every row, the run root a contract derives from the policy's leaves and
 * the group hash is the program's own, and the question and uniforms come from the beacon, the author's address and
 * the index alone.
 */
import { describe, expect, test } from 'vitest';
import { END_ID, getTask, type TaskDefinition } from '../../src/data/index.js';
import { runJob, stateHash, stateLeaves } from '../../src/train/index.js';
import { groupHash, groupRows, publishedGroups } from '../../src/swarm/grpo-step.js';
import { generateRollouts, rolloutAllowedIds, rolloutInputs, rolloutLayout, rolloutLeaves, rolloutProgram, rolloutRun, ROLLOUT_TENSORS } from '../../src/swarm/rollout-program.js';
import { authorAddress, rolloutQuestion, rolloutSeed, rolloutUniforms, roundBeacon } from '../../src/swarm/rollout-seeds.js';
import { createSapoNode, startRound } from '../../src/swarm/round.js';
import { toHex } from '../../src/platform/sha256.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { rolloutFacts } from '../../src/swarm/rollout-facts.js';
import { tempStore } from '../train/helpers.js';
import { expectDeploymentFacts } from './deployment-facts.js';
import { buildProgram, policySpec, pretrainPolicy, SWARM_TASKS } from '../../src/swarm/sapo-policy.js';
import { keyOf, peerIdOf, TINY_MODEL, testConfig, testNodes } from './helpers.js';

const config = testConfig({ tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 3, completions: 4, maxTokens: 2, temperature: 0.7 });

describe('the draw', () => {
  test('the author is the address of the node\'s key; the seed, question and uniforms are SHA-256 of public data (pinned)', () => {
    const id = identityFromRaw(keyOf(0));
    expect(`0x${toHex(authorAddress(id.peerId.toString()))}`).toBe(id.address.toLowerCase());
    const seed = rolloutSeed(roundBeacon('test', 3), authorAddress(id.peerId.toString()), 1);
    expect(toHex(seed)).toMatchInlineSnapshot(`"e59caee482160d17fdd90e7f2ca1849848fff6d63d0950b4b7da744b3631c3eb"`);
    const addition = testConfig({ tasks: [{ name: 'addition', config: { digits: 2 } }] });
    expect(rolloutQuestion(seed, 'addition', addition)).toMatchInlineSnapshot(`
      {
        "answer": "23",
        "prompt": "12+11=",
      }
    `);
    const u = rolloutUniforms(seed, 2, 3);
    expect([...u]).toMatchInlineSnapshot(`
      [
        0.30843764543533325,
        0.902352511882782,
        0.9618916511535645,
        0.453863263130188,
        0.25206708908081055,
        0.10399103164672852,
      ]
    `);
    // Every uniform is a multiple of 2^-24 in [0, 1), exact in float32.
    for (const x of u) expect(x * 2 ** 24 === Math.floor(x * 2 ** 24) && x >= 0 && x < 1 && Math.fround(x) === x).toBe(true);
  });
});

describe('SAPO generates with the program', () => {
  const [node] = testNodes(1, config, 4, 20);
  const { rollout } = startRound(node, 0);
  const { program, policy } = node;
  const layout = rolloutLayout(config, program.model.config.contextLength);
  const author = authorAddress(node.id);
  const beacon = roundBeacon(config.swarmId, 0);
  const inputsOf = (index: number) => {
    const g = rollout.groups.find((x) => x.index === index)!;
    return rolloutInputs(g, rolloutSeed(beacon, author, index), program.tokenizer, layout);
  };

  test('each published group is the program\'s h_1 rows and useful flag, and the run root is what a contract derives', async () => {
    const published = publishedGroups(rollout.groups, program.tokenizer, config, layout.width);
    expect(published.length).toBe(config.own);
    for (const { group, rows, hash } of published) {
      const inputs = inputsOf(group.index);
      const gen = rolloutProgram(program, policy, inputs, config);
      const { record } = await runJob(gen, { store: await tempStore() });
      const final = gen.step(gen.init()).state;
      const programRows = final.opt.tensors[ROLLOUT_TENSORS.rows];
      expect(Buffer.from(programRows.data.buffer).equals(Buffer.from(rows.data.buffer))).toBe(true);
      const useful = group.completions.some((c) => c.reward !== group.completions[0].reward);
      expect(final.opt.tensors[ROLLOUT_TENSORS.useful].item()).toBe(useful ? 1 : 0);
      expect(stateHash(final)).toBe(record.stepHashes[1]);
      expect(rolloutRun(stateLeaves(policy), inputs, { groupHash: hash, useful }, layout)).toEqual({ h0: record.stepHashes[0], h1: record.stepHashes[1], runRoot: record.commitment });
    }
  }, 60_000);

  test('the in-program reward is the task\'s verifier on every row, and completions hold only the allowed ids', () => {
    const seen = new Set<string>();
    // Modular and addition (the chain's task), many questions each, so that right and wrong completions, ended and not,
    // all occur; and the default swarm's mix (its four tasks, 21 allowed ids).
    const mix = testConfig({ tasks: SWARM_TASKS, own: 4, completions: 4, maxTokens: 8, temperature: 1 });
    for (const swarm of [config, testConfig({ tasks: [{ name: 'addition', config: { digits: 1 } }], own: 4, completions: 4, maxTokens: 3, temperature: 1 }), mix]) {
      // The mix's prompts (base conversion's up to 15 characters) need the swarm policy's context of 24.
      const model = swarm === mix ? { ...TINY_MODEL, contextLength: 24 } : TINY_MODEL;
      const program = buildProgram(policySpec(swarm, { model, seed: 4, batchSize: 16, lr: 3e-2, steps: 40 }));
      const n = createSapoNode({ id: peerIdOf(0), key: keyOf(0), config: swarm, program, policy: pretrainPolicy(program, 40) });
      const allowed = new Set(rolloutAllowedIds(swarm, n.program.tokenizer));
      for (let round = 0; round < 12; round++) {
        for (const g of startRound(n, round).rollout.groups) {
          const task = getTask(g.task) as TaskDefinition;
          for (const c of g.completions) {
            expect(c.reward).toBe(task.verify(g.prompt, n.program.tokenizer.decode(Int32Array.from(c.tokens))));
            for (const t of c.tokens) expect(allowed.has(t) && t !== END_ID).toBe(true);
            seen.add(`${g.task} ${c.reward} ${c.tokens.length < swarm.maxTokens ? 'ended' : 'full'}`);
          }
        }
      }
    }
    expect([...seen]).toEqual(expect.arrayContaining(['addition 0 ended', 'addition 0 full', 'addition 1 ended', 'modular 0 ended', 'modular 1 ended']));
    for (const task of ['arithmetic', 'radix']) expect([...seen].some((k) => k.startsWith(task))).toBe(true);
  });

  test('a group\'s rows do not depend on what it is generated with', () => {
    const inputs = [0, 1, 2].map(inputsOf);
    const together = generateRollouts(program.model, policy.params, inputs, config, program.tokenizer);
    inputs.forEach((q, i) => {
      const alone = generateRollouts(program.model, policy.params, [q], config, program.tokenizer)[0];
      expect(groupHash(alone.rows)).toBe(groupHash(together[i].rows));
      expect(groupHash(groupRows(rollout.groups[i], program.tokenizer, config, layout.width))).toBe(groupHash(alone.rows));
    });
  });

  test('h_0 leaves: header (0, 0), the policy\'s tensors, prompt, answer, uniforms, zero rows, useful 0', () => {
    const inputs = inputsOf(0);
    const gen = rolloutProgram(program, policy, inputs, config);
    expect(toHex(Buffer.concat(rolloutLeaves(stateLeaves(policy), inputs, layout)))).toBe(toHex(Buffer.concat(stateLeaves(gen.init()))));
  });
});

test('the facts depend on the deployment only: two policies on two questions give one facts root', () => {
  const [a] = testNodes(1, config, 4, 20);
  const [b] = testNodes(1, config, 2, 3);
  const layout = rolloutLayout(config, TINY_MODEL.contextLength);
  const inputsOf = (node: typeof a, round: number) => {
    const g = startRound(node, round).rollout.groups[0];
    return rolloutInputs(g, rolloutSeed(roundBeacon(config.swarmId, round), authorAddress(node.id), g.index), node.program.tokenizer, layout);
  };
  const one = rolloutProgram(a.program, a.policy, inputsOf(a, 0), config);
  const two = rolloutProgram(b.program, b.policy, inputsOf(b, 5), config);
  expect(one.spec.inputs).not.toBe(two.spec.inputs);
  expectDeploymentFacts(one, two, rolloutFacts(TINY_MODEL, config));
}, 60_000);
