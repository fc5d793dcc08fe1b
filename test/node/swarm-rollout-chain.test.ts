/**
 * A node's two sides of the rollout dispute on anvil (src/node/swarm-rollout.ts, docs/swarm-chain.md "The rollout
 * program"). The defence:
 * a checker that wrongly contests an honest group (its root is a liar's run of the group's program) plays its side as
 * a separate party; the node, watching RolloutChallenged, runs the group's rollout program from the policy it
 * committed with the group (not its policy of the round before) and the round's beacon and wins the dispute on chain; the checker's bond goes.
 * The check, against generated fabrications: an author edits its rollout message (a token, a reward, a digit of the
 * question or of its answer, in a random group and completion) and commits the edited groups; a checker's
 * checkSwarmRollouts finds the group, challenges it and wins at one instruction against the author's node, which
 * defends the group as published. An edit the committed rows do not hold (the answer's text) and the honest
 * message are agreed with.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hexToBytes, parseEventLogs } from 'viem';
import { readContract } from 'viem/actions';
import { swarmChallengeRollout, swarmGetEntry, swarmRolloutLeaf } from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { jobFacts } from '../../src/chain/dispute-moves.js';
import { playDispute } from '../../src/node/dispute.js';
import { checkSwarmRollouts, defendSwarmRollouts } from '../../src/node/swarm-rollout.js';
import { rolloutTree } from '../../src/node/swarm-chain.js';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { publishedGroups } from '../../src/swarm/grpo-step.js';
import { rewardOf } from '../../src/swarm/rollout-check.js';
import { signRollout, type Rollout } from '../../src/swarm/rollout-message.js';
import { completionIds } from '../../src/swarm/rollout-program.js';
import { createSapoNode, startRound } from '../../src/swarm/round.js';
import { replayParty, rulesOf } from '../../src/verify/index.js';
import { ECONOMICS, TINY, commitIn, rolloutsOf, type SwarmChain } from '../chain/coordinator-fixture.js';
import { swarmNodes, type SwarmNodes } from './swarm-node-context.js';
import { ROLLOUT_CONFIG, fabricatedRollout, honestRollout, rolloutPolicy } from '../chain/coordinator-rollout-fixture.js';

let nodes: SwarmNodes;
let c: SwarmChain;

beforeAll(async () => {
  nodes = await swarmNodes('swarm-rollout', 4);
  c = nodes.c;
}, 180_000);
afterAll(() => nodes?.stop());

test('a wrongly challenged group is defended by its node on chain: the node runs the rollout program and wins; the checker loses its bond', async () => {
  const [alice, dave] = [nodes.contextOf('alice', c.wallets[1]), nodes.contextOf('dave', c.wallets[4])];
  const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 2n;
  const policy = rolloutPolicy(9);
  const { honest, run } = await honestRollout(policy, alice.address, round, 3);
  const rollouts = rolloutsOf(alice.address, [run.group]);
  // Her policy of the round before is another (a step came between): the group is the program of the one committed with it.
  await commitIn(c, alice.wallet, round - 1n, { policyHash: rolloutPolicy(8).hash });
  await commitIn(c, alice.wallet, round, { policyHash: policy.hash, rolloutsRoot: rollouts.root });
  const daveBefore = await c.balance(dave.address);
  const from = await c.block();
  const defending = defendSwarmRollouts(alice, { round, groups: [run.group], policy, config: ROLLOUT_CONFIG, fromBlock: from });

  // Dave's run of the group's program is a liar's: he challenges with it and plays his side.
  const liar = await fabricatedRollout(honest, run.group);
  const challenged = await swarmChallengeRollout(dave.wallet, { coordinator: c.coordinator, round, group: { author: alice.address, ...run.group }, proof: rollouts.path(0), policyLeaves: policy.leaves, root: liar.runRoot });
  const rules = rulesOf(honest);
  const outcome = await playDispute(dave, {
    disputeId: challenged.disputeId, jobId: round, rules, facts: jobFacts(rules),
    party: replayParty({ role: 'challenger', program: liar.program, reference: honest, store: liar.store, record: liar.record }),
    roots: { solver: run.runRoot, challenger: liar.runRoot }, parties: { solver: alice.address, challenger: dave.address }, fromBlock: from,
  });
  expect(outcome.loser).toBe('challenger');
  await c.mineTo((await c.schedule(round)).challengeEnd);
  const defended = await defending;
  expect(defended.map((d) => [d.disputeId, d.outcome.loser])).toEqual([[challenged.disputeId, 'challenger']]);
  expect(await c.balance(dave.address)).toBe(daveBefore - ECONOMICS.commitBond);
  expect((await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: alice.address })).stepHeld).toBe(ECONOMICS.commitBond / 2n);
  console.log(nodes.logs.join('\n'));
}, 600_000);

/** An edit of one group of a rollout message: what a fabricating author could publish and commit instead. */
type Edit = { group: number; completion: number; kind: 'token' | 'reward' | 'question' | 'answer'; at: number; shift: number };

function edited(rollout: Rollout, e: Edit, key: Uint8Array): Rollout {
  const { program } = rolloutPolicy(9);
  const groups = rollout.groups.map((g) => ({ ...g, completions: g.completions.map((c) => ({ ...c, tokens: [...c.tokens] })) }));
  const g = groups[e.group % groups.length]!;
  const c = g.completions[e.completion % g.completions.length]!;
  // A digit of a string replaced by another: same length, so the group still fits the context and stays committed.
  const otherDigit = (text: string) => {
    const at = [...text].map((ch, i) => (/[0-9]/.test(ch) ? i : -1)).filter((i) => i >= 0);
    const i = at[e.at % at.length]!;
    return `${text.slice(0, i)}${(Number(text[i]) + 1 + (e.shift % 9)) % 10}${text.slice(i + 1)}`;
  };
  if (e.kind === 'token') {
    const ids = completionIds(ROLLOUT_CONFIG, program.tokenizer);
    const at = c.tokens.length ? e.at % c.tokens.length : 0;
    c.tokens[at] = ids[(ids.indexOf(c.tokens[at] ?? -1) + 1 + (e.shift % (ids.length - 1))) % ids.length]!;
    c.reward = rewardOf(ROLLOUT_CONFIG, program.tokenizer, g.task, g.prompt, c.tokens);
  }
  if (e.kind === 'reward') c.reward = c.reward === 1 ? 0 : 1;
  if (e.kind === 'question') g.prompt = otherDigit(g.prompt);
  if (e.kind === 'answer') g.answer = otherDigit(g.answer);
  const { sig: _sig, ...body } = { ...rollout, groups };
  return signRollout(body, key);
}

test('generated fabrications of a rollout message are found by a checker, challenged and refuted at one instruction; the honest message is agreed with', async () => {
  const [alice, dave] = [nodes.contextOf('alice', c.wallets[1]), nodes.contextOf('dave', c.wallets[4])];
  const key = hexToBytes(c.anvil.accounts[1]!.privateKey);
  const id = identityFromRaw(key).peerId.toString();
  const policy = rolloutPolicy(9);
  const { program } = policy;
  const check = async (round: bigint, edit?: Edit) => {
    const honest = startRound(createSapoNode({ id, key, config: ROLLOUT_CONFIG, program, policy: policy.state }), Number(round)).rollout;
    const rollout = edit ? edited(honest, edit, key) : honest;
    const published = publishedGroups(rollout.groups, program.tokenizer, ROLLOUT_CONFIG, TINY.contextLength);
    const groups = published.map((g) => ({ index: g.group.index, groupHash: `0x${g.hash}` as const, useful: g.useful }));
    await commitIn(c, alice.wallet, round, { policyHash: policy.hash, rolloutsRoot: rolloutTree(groups.map((g) => swarmRolloutLeaf(alice.address, g))).root });
    const from = await c.block();
    const defending = defendSwarmRollouts(alice, { round, groups, rows: new Map(published.map((g) => [g.group.index, g.rows])), policy, config: ROLLOUT_CONFIG, fromBlock: from });
    const checked = await checkSwarmRollouts(dave, { round, author: alice.address, rollout, policy: { program, state: policy.state, hash: policy.hash.slice(2) }, config: ROLLOUT_CONFIG });
    await c.mineTo((await c.schedule(round)).challengeEnd);
    // The oracle: whether the committed groups are the honest message's (an edit of a field the rows do not hold,
    // the answer's text, commits the honest groups).
    const fabricated = publishedGroups(honest.groups, program.tokenizer, ROLLOUT_CONFIG, TINY.contextLength).some((g, i) => g.hash !== published[i]!.hash || g.useful !== published[i]!.useful);
    return { checked, defended: await defending, fabricated };
  };
  const nextRound = async () => (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 1n;
  const agreed = await check(await nextRound());
  expect(agreed.checked).toEqual({ agreed: true });
  expect(agreed.defended).toEqual([]);
  await fc.assert(
    fc.asyncProperty(
      fc.record({ group: fc.nat(7), completion: fc.nat(7), kind: fc.constantFrom('token', 'reward', 'question', 'answer'), at: fc.nat(7), shift: fc.nat(16) }),
      async (edit) => {
        const round = await nextRound();
        const { checked, defended, fabricated } = await check(round, edit);
        const lost = (await swarmGetEntry(c.publicClient, { coordinator: c.coordinator, round, node: alice.address })).commitBondLost;
        if (!fabricated) {
          expect({ checked, defended, lost }, JSON.stringify(edit)).toEqual({ checked: { agreed: true }, defended: [], lost: false });
          return;
        }
        expect(checked, JSON.stringify(edit)).toMatchObject({ agreed: false, outcome: { loser: 'solver', at: 'instruction' } });
        expect(defended.map((d) => d.outcome.loser)).toEqual(['solver']);
        expect(lost).toBe(true);
      },
    ),
    // Each kind of edit once, then generated ones.
    { numRuns: 6, examples: (['token', 'reward', 'question', 'answer'] as const).map((kind, i) => [{ group: i, completion: i, kind, at: i, shift: i }]) },
  );
}, 600_000);

test('two challenges mined in one block each learn their own dispute id (from the receipt, not the simulation)', async () => {
  const [alice, carol, dave] = [nodes.contextOf('alice', c.wallets[1]), nodes.contextOf('carol', c.wallets[3]), nodes.contextOf('dave', c.wallets[4])];
  const round = (await readContract(c.publicClient, { address: c.coordinator, abi: SwarmCoordinatorAbi, functionName: 'currentRound' })) + 1n;
  const policy = rolloutPolicy(9);
  const { run } = await honestRollout(policy, alice.address, round, 1);
  const rollouts = rolloutsOf(alice.address, [run.group]);
  await commitIn(c, alice.wallet, round, { policyHash: policy.hash, rolloutsRoot: rollouts.root });
  const challenge = (by: typeof carol, root: `0x${string}`) =>
    swarmChallengeRollout(by.wallet, { coordinator: c.coordinator, round, group: { author: alice.address, ...run.group }, proof: rollouts.path(0), policyLeaves: policy.leaves, root });
  await c.testClient.setAutomine(false);
  try {
    const both = [challenge(carol, `0x${'01'.repeat(32)}`), challenge(dave, `0x${'02'.repeat(32)}`)];
    // Both simulated against the same block (each sees the same next dispute id), then mined together.
    for (let pending = 0; pending < 2; ) {
      await new Promise((r) => setTimeout(r, 100));
      pending = Number((await c.publicClient.getBlockTransactionCount({ blockTag: 'pending' })) ?? 0);
    }
    await c.testClient.mine({ blocks: 1 });
    const [one, two] = await Promise.all(both);
    expect(one.disputeId).not.toBe(two.disputeId);
    const logged = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: [...one.logs, ...two.logs], eventName: 'RolloutChallenged' });
    expect(logged.map((l) => [l.args.challenger, l.args.disputeId])).toEqual([[carol.address, one.disputeId], [dave.address, two.disputeId]]);
  } finally {
    await c.testClient.setAutomine(true);
  }
}, 120_000);
