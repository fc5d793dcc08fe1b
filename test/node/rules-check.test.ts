/**
 * A party checks a job's dispute rules on chain (h_0, facts root and size, set by the submitter) against its own
 * derivation from the spec before it stakes (roles.ts checkRules): the job's own rules pass; rules with another facts
 * root, and a job with no rules, are refused with JobRulesMismatchError.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import { send } from '../../src/chain/actions/send.js';
import { postJob } from '../../src/chain/index.js';
import { JobRulesMismatchError } from '../../src/chain/errors.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { checkRules } from '../../src/node/roles.js';
import { rules } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let c: GameChain;
beforeAll(async () => {
  c = await setupGameChain(rules);
}, 120_000);
afterAll(() => c?.anvil.stop());

async function jobWithRules(factsRoot?: Hex): Promise<bigint> {
  const submitter = c.wallets[1];
  const { jobId } = await postJob(submitter, { market: c.market, specHash: `0x${'5e'.repeat(32)}`, steps: BigInt(rules.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
  if (factsRoot) await send(submitter, { address: c.game, abi: DisputeGameAbi, functionName: 'setRules', args: [jobId, c.facts.h0, factsRoot, c.facts.size] });
  return jobId;
}

describe('checkRules', () => {
  test("the spec's own rules pass; another facts root or no rules at all are refused", async () => {
    const ctx = { publicClient: c.publicClient, contracts: { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game } };
    await expect(checkRules(ctx, await jobWithRules(c.facts.root), { facts: c.facts })).resolves.toBeUndefined();
    const forged = await checkRules(ctx, await jobWithRules(`0x${'ab'.repeat(32)}`), { facts: c.facts }).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(JobRulesMismatchError);
    expect((forged as Error).message).toContain(c.facts.root);
    const unset = await checkRules(ctx, await jobWithRules(), { facts: c.facts }).catch((e: unknown) => e);
    expect(unset).toBeInstanceOf(JobRulesMismatchError);
    expect((unset as Error).message).toMatch(/has no dispute rules on chain/);
  }, 60_000);
});
