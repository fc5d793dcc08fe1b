// JobMarket on anvil with MockResolver as the dispute game: the whole lifecycle with balances and burned supply,
// many disputes on one job (each its own game, who gets what, tokens conserved), every revert, expiry, and the absence
// of any admin path over stake. Every market deadline is a block number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, toHex, zeroAddress as ZERO_ADDRESS, type Address } from 'viem';
import { readContract } from 'viem/actions';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { MockResolverAbi } from '../../src/chain/generated/MockResolver.js';
import {
  approve,
  challenge,
  claimJob,
  commitRoot,
  expire,
  finalize,
  getJob,
  getNode,
  postJob,
  publicKeyOf,
  register,
  requestWithdraw,
  withdraw,
} from '../../src/chain/index.js';
import { InsufficientAllowanceError } from '../../src/chain/errors.js';
import type { MycelWalletClient } from '../../src/chain/actions/send.js';
import { CHALLENGE_WINDOW, MIN_STAKE, T, UNBONDING_DELAY, call, expectRevert, setPlaceholderRules, setupMycel, type Fixture } from './mycel-fixture.js';

let f: Fixture;
let submitter: MycelWalletClient, solver: MycelWalletClient, challenger: MycelWalletClient, other: MycelWalletClient;
const REWARD = T(50);
const STAKE = T(20);
const SPEC = toHex(new TextEncoder().encode('{"model":"mlp","steps":1000}'));
const ROOT = keccak256(toHex('solver root'));
const OTHER_ROOT = keccak256(toHex('challenger root'));

beforeAll(async () => {
  f = await setupMycel();
  [submitter, solver, challenger, other] = [f.wallets[1], f.wallets[2], f.wallets[3], f.wallets[4]];
  for (const w of [solver, challenger]) await approve(w, { token: f.token, spender: f.registry, amount: MIN_STAKE });
  await register(challenger, { registry: f.registry, stake: MIN_STAKE });
  await register(solver, { registry: f.registry, stake: MIN_STAKE, publicKey: publicKeyOf(f.anvil.accounts[2].privateKey) });
  // generous standing approvals for the market
  for (const w of [submitter, solver, challenger, other]) await approve(w, { token: f.token, spender: f.market, amount: T(5_000) });
});
afterAll(async () => {
  await f?.stop();
});

const a = (w: MycelWalletClient) => w.account.address;
async function post(deadlineIn = 3_600n) {
  // deadlineIn: blocks
  const r = await postJob(submitter, { market: f.market, spec: SPEC, steps: 1000n, reward: REWARD, stake: STAKE, deadlineIn, verifiersWanted: 3 });
  await setPlaceholderRules(submitter, f.market, r.jobId);
  return r.jobId;
}
async function committed() {
  const jobId = await post();
  await claimJob(solver, { market: f.market, jobId, spec: SPEC });
  await commitRoot(solver, { market: f.market, jobId, root: ROOT });
  return jobId;
}
const balances = async () => ({
  submitter: await f.balance(a(submitter)),
  solver: await f.balance(a(solver)),
  challenger: await f.balance(a(challenger)),
  market: await f.balance(f.market),
  supply: await f.totalSupply(),
});
const decide = (disputeId: bigint, winner: Address) => call(f.wallets[0], f.resolver, MockResolverAbi, 'decide', [f.market, disputeId, winner]);

describe('JobMarket lifecycle', () => {
  it('post escrows the reward and records the job', async () => {
    const before = await balances();
    const jobId = await post();
    const after = await balances();
    expect(after.submitter).toBe(before.submitter - REWARD);
    expect(after.market).toBe(before.market + REWARD);
    const job = await getJob(f.publicClient, { market: f.market, jobId });
    expect(job).toMatchObject({ phase: 'Open', submitter: a(submitter), specHash: keccak256(SPEC), steps: 1000n, reward: REWARD, stake: STAKE, solversWanted: 1, verifiersWanted: 3 });
    expect(await readContract(f.publicClient, { address: f.market, abi: JobMarketAbi, functionName: 'jobCount' })).toBe(jobId + 1n);
  });

  it('post with a permit needs no prior approve', async () => {
    const fresh = f.wallets[5];
    const before = await f.balance(a(fresh));
    const { jobId } = await postJob(fresh, { market: f.market, specHash: keccak256(SPEC), steps: 10n, reward: REWARD, stake: STAKE, deadlineIn: 100n, permit: { token: f.token } });
    expect(await f.balance(a(fresh))).toBe(before - REWARD);
    expect((await getJob(f.publicClient, { market: f.market, jobId })).submitter).toBe(a(fresh));
  });

  it('unchallenged: claim, commit, window closes, finalize pays reward + stake; the root is the result', async () => {
    const jobId = await post();
    const b0 = await balances();
    await claimJob(solver, { market: f.market, jobId });
    expect((await balances()).solver).toBe(b0.solver - STAKE);
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(1);
    await commitRoot(solver, { market: f.market, jobId, root: ROOT });
    const job = await getJob(f.publicClient, { market: f.market, jobId });
    expect(job.phase).toBe('Committed');
    expect(job.challengeEnds).toBe((await f.block()) + CHALLENGE_WINDOW);
    expect(job.challengeWindow).toBe(CHALLENGE_WINDOW);
    const early = await expectRevert(finalize(other, { market: f.market, jobId }), 'JobChallengeWindowOpen');
    expect(early.metaMessages[0]).toMatch(/^Wait until block .*then finalize/);
    await f.mine(CHALLENGE_WINDOW);
    await finalize(other, { market: f.market, jobId });
    const b1 = await balances();
    expect(b1.solver).toBe(b0.solver + REWARD);
    expect(b1.submitter).toBe(b0.submitter);
    expect(b1.market).toBe(b0.market - REWARD);
    expect(b1.supply).toBe(b0.supply);
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Finalized', root: ROOT });
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(0);
    await expectRevert(finalize(other, { market: f.market, jobId }), 'JobWrongPhase', [jobId, 5, 3]);
  });

  it('challenged, solver wins: it is paid once the window has closed and the dispute is over: reward + stake + half the challenger stake; the other half is burned', async () => {
    const jobId = await committed();
    const b0 = await balances();
    const c = await challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT });
    const dispute = await readContract(f.publicClient, { address: f.resolver, abi: MockResolverAbi, functionName: 'getDispute', args: [c.disputeId] });
    // The market passes the job's rules (set by the submitter) with the dispute.
    const zero = `0x${'00'.repeat(32)}`;
    expect(dispute).toEqual({ ref: jobId, steps: 1000n, solver: a(solver), challenger: a(challenger), solverRoot: ROOT, challengerRoot: OTHER_ROOT, h0: zero, factsRoot: zero, factsSize: 1n });
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Disputed', openDisputes: 1, disputes: 1 });
    await f.mine(CHALLENGE_WINDOW); // a dispute outlives the window: finalize cannot bypass it
    await expectRevert(finalize(other, { market: f.market, jobId }), 'JobDisputesOpen', [jobId, 1n]);
    await decide(c.disputeId, a(solver));
    const b1 = await balances();
    expect(b1.solver).toBe(b0.solver + STAKE + REWARD + STAKE / 2n);
    expect(b1.challenger).toBe(b0.challenger - STAKE);
    expect(b1.submitter).toBe(b0.submitter);
    expect(b1.supply).toBe(b0.supply - STAKE / 2n);
    expect(b1.market).toBe(b0.market - REWARD - STAKE);
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Finalized', root: ROOT, held: 0n });
    await expectRevert(decide(c.disputeId, a(solver)), 'DisputeUnknown', [c.disputeId]);
  });

  it('challenged, challenger wins: submitter refunded, challenger gets stake + half the solver stake, half burned', async () => {
    const jobId = await committed();
    const b0 = await balances();
    const { disputeId } = await challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT });
    await expectRevert(decide(disputeId, a(other)), 'DisputeWinnerInvalid', [disputeId, a(other)]);
    await decide(disputeId, a(challenger));
    const b1 = await balances();
    expect(b1.submitter).toBe(b0.submitter + REWARD);
    expect(b1.challenger).toBe(b0.challenger + STAKE / 2n);
    expect(b1.solver).toBe(b0.solver);
    expect(b1.supply).toBe(b0.supply - STAKE / 2n);
    expect(b1.market).toBe(b0.market - REWARD - STAKE);
    expect((await getJob(f.publicClient, { market: f.market, jobId })).phase).toBe('Refuted');
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(0);
  });

  it('challenged, both lose (ruling "both"): both stakes slashed, half of each burned, the rest and the reward to the submitter', async () => {
    const jobId = await committed();
    const b0 = await balances();
    const { disputeId } = await challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT });
    await decide(disputeId, ZERO_ADDRESS);
    const b1 = await balances();
    expect(b1.submitter).toBe(b0.submitter + REWARD + STAKE);
    expect(b1.challenger).toBe(b0.challenger - STAKE);
    expect(b1.solver).toBe(b0.solver);
    expect(b1.supply).toBe(b0.supply - STAKE);
    expect(b1.market).toBe(b0.market - REWARD - STAKE);
    expect((await getJob(f.publicClient, { market: f.market, jobId })).phase).toBe('Refuted');
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(0);
    await expectRevert(decide(disputeId, ZERO_ADDRESS), 'DisputeUnknown', [disputeId]);
  });

  it('expire: an unclaimed job refunds the reward; a claimed, uncommitted one also pays the solver stake to the submitter', async () => {
    const open = await post(20n);
    const claimed = await post(20n);
    await claimJob(solver, { market: f.market, jobId: claimed });
    await expectRevert(expire(other, { market: f.market, jobId: open }), 'JobDeadlineNotPassed');
    await f.mine(20n);
    await expectRevert(claimJob(solver, { market: f.market, jobId: open }), 'JobDeadlinePassed');
    await expectRevert(commitRoot(solver, { market: f.market, jobId: claimed, root: ROOT }), 'JobDeadlinePassed');
    const b0 = await balances();
    await expire(other, { market: f.market, jobId: open });
    expect((await balances()).submitter).toBe(b0.submitter + REWARD);
    await expire(other, { market: f.market, jobId: claimed });
    expect((await balances()).submitter).toBe(b0.submitter + 2n * REWARD + STAKE);
    expect((await balances()).solver).toBe(b0.solver);
    expect((await getJob(f.publicClient, { market: f.market, jobId: claimed })).phase).toBe('Expired');
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(0);
    await expectRevert(expire(other, { market: f.market, jobId: open }), 'JobWrongPhase', [open, 7, 1]);
    const done = await committed();
    await f.mine(CHALLENGE_WINDOW);
    await expectRevert(expire(other, { market: f.market, jobId: done }), 'JobWrongPhase', [done, 3, 1]); // committed: finalize, not expire
    await finalize(other, { market: f.market, jobId: done });
  });

  it('a solver with an open job cannot withdraw its bond until the job settles', async () => {
    const jobId = await post();
    await claimJob(challenger, { market: f.market, jobId });
    await requestWithdraw(challenger, { registry: f.registry });
    await f.mine(UNBONDING_DELAY);
    await expectRevert(withdraw(challenger, { registry: f.registry }), 'NodeStakeLocked', [a(challenger), 1]);
    await commitRoot(challenger, { market: f.market, jobId, root: ROOT });
    await f.mine(CHALLENGE_WINDOW);
    await finalize(other, { market: f.market, jobId });
    await withdraw(challenger, { registry: f.registry });
    // and, unbonded, it can take no new job
    await expectRevert(claimJob(challenger, { market: f.market, jobId: await post() }), 'NodeNotRegistered', [a(challenger)]);
    await approve(challenger, { token: f.token, spender: f.registry, amount: MIN_STAKE });
    await register(challenger, { registry: f.registry, stake: MIN_STAKE });
  });
});

describe('many challengers on one job, each in its own game', () => {
  const ROOT_C = keccak256(toHex('a third root'));
  let extra: MycelWalletClient;
  beforeAll(async () => {
    extra = f.wallets[8];
    await approve(extra, { token: f.token, spender: f.market, amount: T(5_000) });
  });
  const all = async () => ({ ...(await balances()), other: await f.balance(a(other)), extra: await f.balance(a(extra)) });
  /** Tokens in the market for this job plus tokens burned: what conservation compares before and after. */
  const total = (b: Awaited<ReturnType<typeof all>>) => b.submitter + b.solver + b.challenger + b.other + b.extra + b.market;

  it("a losing challenger (the solver's second key) does not shield the solver: the next one still refutes it and takes the held prize", async () => {
    const jobId = await committed();
    const b0 = await all();
    // The solver's accomplice challenges first and loses on purpose; the window stays open, the job is not finalized.
    const accomplice = await challenge(other, { market: f.market, jobId, root: OTHER_ROOT });
    await decide(accomplice.disputeId, a(solver));
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Committed', openDisputes: 0, disputes: 1, held: STAKE / 2n });
    await expectRevert(finalize(submitter, { market: f.market, jobId }), 'JobChallengeWindowOpen');
    // An honest challenger and a third one contest the same root; the honest one wins first.
    const honestC = await challenge(challenger, { market: f.market, jobId, root: ROOT_C });
    const third = await challenge(extra, { market: f.market, jobId, root: OTHER_ROOT });
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Disputed', openDisputes: 2, disputes: 3 });
    await decide(honestC.disputeId, a(challenger));
    expect((await getJob(f.publicClient, { market: f.market, jobId })).phase).toBe('Refuted');
    expect((await getNode(f.publicClient, { registry: f.registry, node: a(solver) })).activeJobs).toBe(0);
    // The dispute still in play refunds its challenger whatever its ruling: the solver's stake is already gone.
    await decide(third.disputeId, a(solver));
    const b1 = await all();
    expect(b1.solver - b0.solver).toBe(0n); // its stake, escrowed at claim, is gone
    expect(b1.other - b0.other).toBe(-STAKE);
    expect(b1.challenger - b0.challenger).toBe(STAKE / 2n + STAKE / 2n); // half the solver's stake + the accomplice's held half
    expect(b1.extra - b0.extra).toBe(0n);
    expect(b1.submitter - b0.submitter).toBe(REWARD);
    expect(b0.supply - b1.supply).toBe(STAKE); // half of each of the two lost stakes
    // Conservation: every token in (reward, solver stake, three challenger stakes) went out or was burned.
    expect(total(b0) - total(b1)).toBe(b0.supply - b1.supply);
    expect(b1.market).toBe(b0.market - REWARD - STAKE);
    await expectRevert(challenge(extra, { market: f.market, jobId, root: OTHER_ROOT }), 'JobWrongPhase');
  });

  it('a solver that wins every dispute is paid only when the window has closed and the last dispute is over', async () => {
    const jobId = await committed();
    const b0 = await all();
    const first = await challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT });
    const second = await challenge(extra, { market: f.market, jobId, root: ROOT_C });
    await decide(first.disputeId, a(solver));
    await f.mine(CHALLENGE_WINDOW);
    await expectRevert(finalize(other, { market: f.market, jobId }), 'JobDisputesOpen', [jobId, 1n]);
    await decide(second.disputeId, a(solver)); // the last one: the window is closed, so the market pays at once
    const b1 = await all();
    expect(await getJob(f.publicClient, { market: f.market, jobId })).toMatchObject({ phase: 'Finalized', openDisputes: 0, disputes: 2 });
    expect(b1.solver - b0.solver).toBe(STAKE + REWARD + STAKE); // its stake, the reward, two unburned halves
    expect(b1.challenger - b0.challenger).toBe(-STAKE);
    expect(b1.extra - b0.extra).toBe(-STAKE);
    expect(total(b0) - total(b1)).toBe(b0.supply - b1.supply);
  });

  it('"both" as the first loss: the submitter gets the reward, both unburned halves and what was held', async () => {
    const jobId = await committed();
    const b0 = await all();
    const lost = await challenge(extra, { market: f.market, jobId, root: ROOT_C });
    await decide(lost.disputeId, a(solver));
    const both = await challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT });
    await decide(both.disputeId, ZERO_ADDRESS);
    const b1 = await all();
    expect(b1.submitter - b0.submitter).toBe(REWARD + STAKE + STAKE / 2n);
    expect([b1.solver - b0.solver, b1.challenger - b0.challenger, b1.extra - b0.extra]).toEqual([0n, -STAKE, -STAKE]); // the solver's stake was escrowed before
    expect(total(b0) - total(b1)).toBe(b0.supply - b1.supply);
  });
});

describe('JobMarket reverts', () => {
  it('post: insufficient allowance, invalid request fields', async () => {
    const poor = f.wallets[6];
    const e = await postJob(poor, { market: f.market, spec: SPEC, steps: 1n, reward: REWARD, stake: STAKE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InsufficientAllowanceError);
    expect((e as InsufficientAllowanceError).args).toEqual([f.market, 0n, REWARD]);
    const base = { market: f.market, spec: SPEC, steps: 1n, reward: REWARD, stake: STAKE };
    await expectRevert(postJob(submitter, { ...base, solversWanted: 2 }), 'JobRequestInvalid', ['solversWanted', 2n]);
    await expectRevert(postJob(submitter, { ...base, steps: 0n }), 'JobRequestInvalid', ['steps', 0n]);
    await expectRevert(postJob(submitter, { ...base, reward: 0n }), 'JobRequestInvalid', ['reward', 0n]);
    await expectRevert(postJob(submitter, { ...base, stake: 0n }), 'JobRequestInvalid', ['stake', 0n]);
    await expectRevert(postJob(submitter, { ...base, deadline: 1n }), 'JobRequestInvalid', ['deadline', 1n]);
    await expectRevert(postJob(submitter, { ...base, steps: 2n ** 32n }), 'JobRequestInvalid', ['steps', 2n ** 32n]);
    await expectRevert(postJob(submitter, { ...base, challengeWindow: CHALLENGE_WINDOW - 1n }), 'JobRequestInvalid', ['challengeWindow', CHALLENGE_WINDOW - 1n]);
    await expectRevert(postJob(submitter, { ...base, spec: undefined, specHash: `0x${'00'.repeat(32)}` }), 'JobZeroHash', []);
  });

  it('post with an expired permit falls back to the allowance, and reverts for want of it', async () => {
    const fresh = f.wallets[7];
    const e = await postJob(fresh, { market: f.market, spec: SPEC, steps: 1n, reward: REWARD, stake: STAKE, permit: { token: f.token, validFor: -10n } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InsufficientAllowanceError);
  });

  it('unknown job', async () => {
    // One call at a time: calls started together would reject unobserved while the first is awaited.
    for (const call of [
      () => claimJob(solver, { market: f.market, jobId: 999n }),
      () => commitRoot(solver, { market: f.market, jobId: 999n, root: ROOT }),
      () => challenge(challenger, { market: f.market, jobId: 999n, root: ROOT }),
      () => finalize(other, { market: f.market, jobId: 999n }),
      () => expire(other, { market: f.market, jobId: 999n }),
      () => getJob(f.publicClient, { market: f.market, jobId: 999n }),
    ]) {
      await expectRevert(call(), 'JobUnknown', [999n]);
    }
  });

  it('claim: unregistered node, wrong phase', async () => {
    const jobId = await post();
    await expectRevert(claimJob(other, { market: f.market, jobId }), 'NodeNotRegistered', [a(other)]);
    await claimJob(solver, { market: f.market, jobId });
    await expectRevert(claimJob(challenger, { market: f.market, jobId }), 'JobWrongPhase', [jobId, 2, 1]);
  });

  it('commit: not the claimant, wrong phase, zero root', async () => {
    const jobId = await post();
    await expectRevert(commitRoot(solver, { market: f.market, jobId, root: ROOT }), 'JobWrongPhase', [jobId, 1, 2]);
    await claimJob(solver, { market: f.market, jobId });
    const e = await expectRevert(commitRoot(challenger, { market: f.market, jobId, root: ROOT }), 'JobNotSolver', [jobId, a(challenger), a(solver)]);
    expect(e.metaMessages[0]).toBe(`Send it from ${a(solver)}.`);
    await expectRevert(commitRoot(solver, { market: f.market, jobId, root: `0x${'00'.repeat(32)}` }), 'JobZeroHash');
  });

  it('challenge: wrong phase, self-challenge, same root, window over', async () => {
    const open = await post();
    await expectRevert(challenge(challenger, { market: f.market, jobId: open, root: OTHER_ROOT }), 'JobWrongPhase', [open, 1, 3]);
    const jobId = await committed();
    await expectRevert(challenge(solver, { market: f.market, jobId, root: OTHER_ROOT }), 'JobSelfChallenge', [jobId, a(solver)]);
    await expectRevert(challenge(challenger, { market: f.market, jobId, root: ROOT }), 'JobChallengeRootMatches', [jobId, ROOT]);
    await f.mine(CHALLENGE_WINDOW);
    const e = await expectRevert(challenge(challenger, { market: f.market, jobId, root: OTHER_ROOT }), 'JobChallengeWindowClosed');
    expect(e.metaMessages[0]).toContain('finalize');
  });

  it('only the resolver set at deployment can resolve, and only disputes this market opened', async () => {
    await expectRevert(call(f.wallets[0], f.market, JobMarketAbi, 'resolveDispute', [1n, a(solver)]), 'MarketUnauthorizedResolver', [a(f.wallets[0])]);
    await expectRevert(decide(12345n, a(solver)), 'DisputeUnknown', [12345n]);
    expect(await readContract(f.publicClient, { address: f.market, abi: JobMarketAbi, functionName: 'RESOLVER' })).toBe(f.resolver);
  });

  it('nobody, owner included, can move stake: the ABI has no admin function', () => {
    const writes = JobMarketAbi.filter((x) => x.type === 'function' && !['view', 'pure'].includes(x.stateMutability as string)).map((x) => (x as { name: string }).name);
    expect(writes.sort()).toEqual(['challenge', 'claimJob', 'commitRoot', 'expire', 'finalize', 'postJob', 'postJobWithPermit', 'resolveDispute', 'setRules']);
    const names = JobMarketAbi.filter((x) => x.type === 'function').map((x) => (x as { name: string }).name.toLowerCase());
    for (const bad of ['owner', 'transferownership', 'slash', 'setresolver', 'rescue', 'sweep', 'pause', 'upgradeto']) expect(names).not.toContain(bad);
  });
});
