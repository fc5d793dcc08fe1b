// mycel wallet against a real anvil with the contracts deployed (MockResolver as the dispute game, so a test can
// decide a dispute): balances, bond, stake locked per job, earnings per job, and transfer/stake/unstake/withdraw.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve, challenge, claimJob, commitRoot, finalize, postJob, type GetJobReturnType } from '../../src/chain/index.js';
import { jobShare } from '../../src/chain/wallet.js';
import { MockResolverAbi } from '../../src/chain/generated/MockResolver.js';
import { CHALLENGE_WINDOW, T, UNBONDING_DELAY, call, setPlaceholderRules, setupMycel, type Fixture } from '../chain/mycel-fixture.js';
import { mycelInProcess as mycel } from './in-process.js';

let f: Fixture;
let dir: string;
let chain: string[];
const keyOf = async (i: number) => {
  const path = join(dir, `${i}.key`);
  await writeFile(path, `${f.anvil.accounts[i].privateKey}\n`, { mode: 0o600 });
  return path;
};
const show = async (key: string) => JSON.parse((await mycel('wallet', ...chain, '--key-file', key, '--json')).stdout) as Record<string, any>;

beforeAll(async () => {
  f = await setupMycel();
  dir = await mkdtemp(join(tmpdir(), 'mycel-wallet-'));
  const deployment = join(dir, 'deployment.json');
  await writeFile(deployment, JSON.stringify({ token: f.token, registry: f.registry, market: f.market, dispute_game: f.resolver }));
  chain = ['--rpc', f.anvil.rpcUrl, '--contracts', deployment];
}, 60_000);
afterAll(async () => {
  await f?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mycel wallet', () => {
  it('moves tokens, bonds and unbonds a node, and refuses what the registry would refuse, with the fix', async () => {
    const fresh = f.anvil.accounts[9];
    const deployer = await keyOf(0);
    const key = await keyOf(9);
    expect(await show(key)).toMatchObject({ address: fresh.address, tokens: '0', bond: { registered: false }, jobs: [] });
    expect((await mycel('wallet', 'transfer', fresh.address, '150', ...chain, '--key-file', deployer)).code).toBe(0);
    expect((await show(key)).tokens).toBe('150');

    const staked = await mycel('wallet', 'stake', '100', ...chain, '--key-file', key);
    expect(staked.stdout).toMatch(/is a node with a bond of 100 MYC/);
    expect(await show(key)).toMatchObject({ tokens: '50', bond: { registered: true, stake: '100', unlock_block: 0 } });
    const again = await mycel('wallet', 'stake', '10', ...chain, '--key-file', key);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already a node with a bond of 100 MYC; the registry has no top-up[\s\S]*wallet unstake/);

    expect((await mycel('wallet', 'unstake', ...chain, '--key-file', key)).stdout).toMatch(/unbonding 100 MYC; mycel wallet withdraw from block \d+ on/);
    const early = await mycel('wallet', 'withdraw', ...chain, '--key-file', key);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/NodeStillUnbonding/);
    expect(early.stderr).not.toMatch(/\n\s+at /);
    await f.mine(UNBONDING_DELAY);
    expect((await mycel('wallet', 'withdraw', ...chain, '--key-file', key)).stdout).toMatch(/withdrew the bond: 100 MYC/);
    expect(await show(key)).toMatchObject({ tokens: '150', bond: { registered: false } });

    const readOnly = await mycel('wallet', 'transfer', fresh.address, '1', ...chain, '--address', fresh.address);
    expect(readOnly.code).toBe(2);
    expect((await mycel('wallet', ...chain)).stderr).toMatch(/--key-file FILE \(yours\) or --address ADDR/);
  }, 120_000);

  it('shows the stake locked in open jobs and what each settled job earned or cost', async () => {
    const [submitter, solver, challenger] = [f.wallets[0], f.wallets[1], f.wallets[2]];
    for (const w of [solver, challenger]) {
      await approve(w, { token: f.token, spender: f.registry, amount: T(100) });
      await call(w, f.registry, (await import('../../src/chain/generated/NodeRegistry.js')).NodeRegistryAbi, 'register', [T(100), '0x']);
      await approve(w, { token: f.token, spender: f.market, amount: T(1000) });
    }
    await approve(submitter, { token: f.token, spender: f.market, amount: T(1000) });
    const post = () => postJob(submitter, { market: f.market, specHash: `0x${'11'.repeat(32)}`, steps: 4n, reward: T(25), stake: T(5), deadlineIn: 3_600n });
    // Job a: paid unchallenged. Job b: challenged, and the challenger wins the dispute.
    const a = (await post()).jobId;
    const b = (await post()).jobId;
    for (const id of [a, b]) {
      await setPlaceholderRules(submitter, f.market, id);
      await claimJob(solver, { market: f.market, jobId: id });
      await commitRoot(solver, { market: f.market, jobId: id, root: `0x${'22'.repeat(32)}` });
    }
    const { disputeId } = await challenge(challenger, { market: f.market, jobId: b, root: `0x${'33'.repeat(32)}` });
    const solverKey = await keyOf(1);
    const open = await show(solverKey);
    expect(open).toMatchObject({ locked: '10', earned: '0' });
    expect(open.jobs).toEqual([
      { job_id: String(a), role: 'solver', phase: 'Committed', locked: '5', earned: '0', settled: false },
      { job_id: String(b), role: 'solver', phase: 'Disputed', locked: '5', earned: '0', settled: false },
    ]);

    await f.mine(CHALLENGE_WINDOW + 1n);
    await finalize(solver, { market: f.market, jobId: a });
    await call(submitter, f.resolver, MockResolverAbi, 'decide', [f.market, disputeId, challenger.account.address]);
    expect(await show(solverKey)).toMatchObject({ locked: '0', earned: '20' }); // +25 on a, -5 on b
    expect(await show(await keyOf(2))).toMatchObject({ earned: '2.5', jobs: [{ role: 'challenger', phase: 'Refuted', earned: '2.5' }] });
    expect((await show(await keyOf(0))).jobs.filter((j: { role: string }) => j.role === 'submitter').map((j: { earned: string }) => j.earned)).toEqual(['-25', '0']);
    const text = await mycel('wallet', ...chain, '--key-file', solverKey);
    expect(text.stdout).toMatch(/earned {3}\+20 MYC over 2 settled job\(s\)[\s\S]*job \d+ +solver +Finalized +\+25 MYC[\s\S]*Refuted +-5 MYC/);
  }, 120_000);

  it('several challengers of one job: each dispute is read from its own ruling event (won, lost, refunded, both lost)', async () => {
    const [submitter, solver] = [f.wallets[0], f.wallets[8]];
    const [a, b, c] = [f.wallets[5], f.wallets[6], f.wallets[7]];
    await approve(solver, { token: f.token, spender: f.registry, amount: T(100) });
    await call(solver, f.registry, (await import('../../src/chain/generated/NodeRegistry.js')).NodeRegistryAbi, 'register', [T(100), '0x']);
    for (const w of [solver, a, b, c]) await approve(w, { token: f.token, spender: f.market, amount: T(1000) });
    await approve(submitter, { token: f.token, spender: f.market, amount: T(1000) });
    const post = async () => {
      const { jobId } = await postJob(submitter, { market: f.market, specHash: `0x${'44'.repeat(32)}`, steps: 4n, reward: T(25), stake: T(5), deadlineIn: 3_600n });
      await setPlaceholderRules(submitter, f.market, jobId);
      await claimJob(solver, { market: f.market, jobId });
      await commitRoot(solver, { market: f.market, jobId, root: `0x${'22'.repeat(32)}` });
      return jobId;
    };
    const decide = (disputeId: bigint, winner: `0x${string}`) => call(submitter, f.resolver, MockResolverAbi, 'decide', [f.market, disputeId, winner]);
    const ZERO = '0x0000000000000000000000000000000000000000';
    const [ka, kb, kc, ks] = await Promise.all([keyOf(5), keyOf(6), keyOf(7), keyOf(8)]);
    // Job x: a loses to the solver, b refutes it, c's game ends after that and is refunded.
    const x = await post();
    const ids: bigint[] = [];
    for (const w of [a, b, c]) ids.push((await challenge(w, { market: f.market, jobId: x, root: `0x${'33'.repeat(32)}` })).disputeId);
    expect((await show(ka)).jobs).toEqual([{ job_id: String(x), dispute_id: String(ids[0]), role: 'challenger', phase: 'Disputed', locked: '5', earned: '0', settled: false }]);
    await decide(ids[0], solver.account.address);
    expect((await show(ka))).toMatchObject({ locked: '0', earned: '-5', jobs: [{ phase: 'Disputed', earned: '-5', settled: true }] }); // its game is over, the job is not
    await decide(ids[1], b.account.address);
    await decide(ids[2], c.account.address);
    expect(await show(kb)).toMatchObject({ earned: '5', jobs: [{ phase: 'Refuted', earned: '5' }] }); // the solver's unburned half and the half it held from a
    expect(await show(kc)).toMatchObject({ earned: '0', jobs: [{ phase: 'Refuted', earned: '0', settled: true }] }); // refunded
    // Job y: a loses to the solver again, then b's game rules against both: the submitter gets both halves and what the solver held.
    const y = await post();
    const ya = (await challenge(a, { market: f.market, jobId: y, root: `0x${'33'.repeat(32)}` })).disputeId;
    const yb = (await challenge(b, { market: f.market, jobId: y, root: `0x${'55'.repeat(32)}` })).disputeId;
    await decide(ya, solver.account.address);
    await decide(yb, ZERO);
    expect((await show(kb)).jobs.map((j: { earned: string }) => j.earned)).toEqual(['5', '-5']);
    expect((await show(ka))).toMatchObject({ earned: '-10' });
    expect((await show(ks))).toMatchObject({ locked: '0', earned: '-10' });
    const sub = (await show(await keyOf(0))).jobs.filter((j: { job_id: string }) => [String(x), String(y)].includes(j.job_id));
    expect(sub.map((j: { earned: string }) => j.earned)).toEqual(['0', '7.5']);
  }, 120_000);
});

describe('jobShare', () => {
  const job = (phase: GetJobReturnType['phase'], disputed = false) =>
    ({ jobId: 1n, phase, reward: T(25), stake: T(5), disputes: disputed ? 1 : 0, solver: "0x00000000000000000000000000000000000000aa" }) as unknown as GetJobReturnType;
  it('follows the market\'s payout events, including a dispute both parties lose', () => {
    expect(jobShare(job('Finalized', true), 'solver', { finalized: { paid: T(32.5) } }).net).toBe(T(27.5));
    expect(jobShare(job('Finalized', true), 'challenger', { dispute: { disputeId: 3n, outcome: 'lost' } })).toMatchObject({ net: -T(5), disputeId: 3n, settled: true });
    expect(jobShare(job('Refuted', true), 'challenger', { dispute: { disputeId: 3n, outcome: 'won', prize: T(5) } }).net).toBe(T(5));
    expect(jobShare(job('Refuted', true), 'challenger', { dispute: { disputeId: 4n, outcome: 'refunded' } }).net).toBe(0n);
    expect(jobShare(job('Disputed', true), 'challenger', { dispute: { disputeId: 4n, outcome: 'open' } })).toMatchObject({ locked: T(5), net: 0n, settled: false });
    expect(jobShare(job('Refuted', true), 'submitter', { bothLostToSubmitter: T(7.5) }).net).toBe(T(7.5));
    expect(jobShare(job('Expired'), 'submitter', { expired: { refund: T(30), slashed: T(5) } }).net).toBe(T(5));
    expect(jobShare(job('Expired'), 'solver').net).toBe(-T(5));
    expect(jobShare(job('Open'), 'submitter')).toMatchObject({ locked: T(25), net: 0n, settled: false });
  });
});
