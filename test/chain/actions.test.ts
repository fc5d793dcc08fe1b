// The chain actions' error paths: each bad input surfaces as a MycelError naming the cause and the fix, before
// anything is sent, so no funds or nonce are spent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, parseEther, toHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getTransactionCount } from 'viem/actions';
import { createClients } from '../../src/chain/clients.js';
import {
  AccountUnfundedError,
  ChainUnreachableError,
  ContractRevertError,
  InsufficientAllowanceError,
  JobSpecMismatchError,
  WrongChainError,
  approve,
  claimJob,
  commitRoot,
  deployMycel,
  finalize,
  getJob,
  postJob,
  register,
  type MycelWalletClient,
} from '../../src/chain/index.js';
import { MycelError } from '../../src/platform/errors.js';
import { MIN_STAKE, T, setPlaceholderRules, setupMycel, type Fixture } from './mycel-fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await setupMycel();
});
afterAll(async () => {
  await f?.stop();
});

const SPEC = toHex(new TextEncoder().encode('spec v1'));
const nonce = (w: MycelWalletClient) => getTransactionCount(f.publicClient, { address: w.account.address });

describe('chain action errors', () => {
  it('a revert is decoded into its custom error with a hint naming the fix, and nothing is sent', async () => {
    const w = f.wallets[1];
    const [n0, b0] = [await nonce(w), await f.balance(w.account.address)];
    const error = await postJob(w, { market: f.market, spec: SPEC, steps: 10n, reward: T(25), stake: T(5) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientAllowanceError);
    expect(error).toBeInstanceOf(MycelError);
    const e = error as InsufficientAllowanceError;
    expect(e.errorName).toBe('ERC20InsufficientAllowance');
    expect(e.shortMessage).toBe(`The token allowance of ${f.market} is 0 tokens; the call needs 25 tokens.`);
    expect(e.metaMessages[0]).toBe(`Approve ${f.market} for 25 tokens first (the approve action), or post the job with a permit.`);
    expect(e.message).toContain('Details: postJob reverted: ERC20InsufficientAllowance(');
    expect([await nonce(w), await f.balance(w.account.address)]).toEqual([n0, b0]);
  });

  it('"wait until" hints carry the block to wait for', async () => {
    const [sub, node] = [f.wallets[1], f.wallets[2]];
    await approve(sub, { token: f.token, spender: f.market, amount: T(25) });
    const { jobId } = await postJob(sub, { market: f.market, spec: SPEC, steps: 10n, reward: T(25), stake: T(5) });
    await approve(node, { token: f.token, spender: f.registry, amount: MIN_STAKE });
    await register(node, { registry: f.registry, stake: MIN_STAKE });
    await approve(node, { token: f.token, spender: f.market, amount: T(5) });
    await setPlaceholderRules(sub, f.market, jobId);
    await claimJob(node, { market: f.market, jobId, spec: SPEC });
    await commitRoot(node, { market: f.market, jobId, root: keccak256(SPEC) });
    const { challengeEnds } = await getJob(f.publicClient, { market: f.market, jobId });
    const e = (await finalize(sub, { market: f.market, jobId }).catch((x: unknown) => x)) as ContractRevertError;
    expect(e).toBeInstanceOf(ContractRevertError);
    expect(e.errorName).toBe('JobChallengeWindowOpen');
    expect(e.metaMessages[0]).toBe(`Wait until block ${challengeEnds}, then finalize.`);
  });

  it('sends of one account started at once each take their own nonce (a verifier challenges jobs side by side)', async () => {
    const w = f.wallets[3];
    const n0 = await nonce(w);
    // Without the account's queue in send(), two of these signed the same nonce and one failed ("nonce too low").
    const sent = await Promise.all([1, 2, 3, 4].map((i) => approve(w, { token: f.token, spender: f.market, amount: T(i) })));
    expect(new Set(sent.map((s) => s.hash)).size).toBe(4);
    expect(await nonce(w)).toBe(n0 + 4);
  });

  it('a spec that does not match its hash is refused before anything is sent', async () => {
    const w = f.wallets[3];
    const n0 = await nonce(w);
    const wrong = keccak256(toHex('another spec'));
    const e = await postJob(w, { market: f.market, spec: SPEC, specHash: wrong, steps: 1n, reward: 1n, stake: 1n }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(JobSpecMismatchError);
    expect((e as Error).message).toContain(`The job spec hashes to ${keccak256(SPEC)}, not to ${wrong}`);
    expect((e as MycelError).metaMessages[0]).toContain('Fetch the spec again');
    // a solver fetched a corrupted spec for an existing job
    const sub = f.wallets[1];
    await approve(sub, { token: f.token, spender: f.market, amount: T(1) });
    const { jobId } = await postJob(sub, { market: f.market, spec: SPEC, steps: 1n, reward: T(1), stake: T(1) });
    const c = await claimJob(w, { market: f.market, jobId, spec: toHex('tampered') }).catch((x: unknown) => x);
    expect(c).toBeInstanceOf(JobSpecMismatchError);
    expect((c as Error).message).toContain(`(job ${jobId})`);
    expect(await nonce(w)).toBe(n0);
    expect((await getJob(f.publicClient, { market: f.market, jobId })).phase).toBe('Open');
  });

  it('an unreachable RPC URL names the URL', async () => {
    const { walletClient } = createClients({ rpcUrl: 'http://127.0.0.1:1', account: privateKeyToAccount(f.anvil.accounts[1].privateKey) });
    const e = await postJob(walletClient, { market: f.market, spec: SPEC, steps: 1n, reward: 1n, stake: 1n }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChainUnreachableError);
    expect((e as Error).message).toContain('No EVM JSON-RPC node answers at http://127.0.0.1:1');
  });

  it('a wrong chain id names both ids and the fix', async () => {
    const { walletClient } = createClients({ rpcUrl: f.anvil.rpcUrl, chainId: 10, account: privateKeyToAccount(f.anvil.accounts[1].privateKey) });
    const e = await approve(walletClient, { token: f.token, spender: f.market, amount: 1n }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WrongChainError);
    expect((e as Error).message).toContain(`is on chain ${f.anvil.chainId}, not chain 10`);
    expect((e as MycelError).metaMessages[0]).toContain(`Use chain id ${f.anvil.chainId}`);
    const d = await deployMycel(walletClient, { resolver: f.resolver }).catch((x: unknown) => x);
    expect(d).toBeInstanceOf(WrongChainError);
  });

  it('an unfunded key names the account to fund; nothing is sent', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { walletClient } = createClients({ rpcUrl: f.anvil.rpcUrl, chainId: f.anvil.chainId, account });
    const e = await approve(walletClient, { token: f.token, spender: f.market, amount: 1n }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AccountUnfundedError);
    expect((e as Error).message).toContain(`The account ${account.address} cannot pay for gas`);
    expect((e as MycelError).metaMessages[0]).toContain(`Send ETH to ${account.address}`);
    const d = await deployMycel(walletClient, { resolver: f.resolver }).catch((x: unknown) => x);
    expect(d).toBeInstanceOf(AccountUnfundedError);
    expect(await getTransactionCount(f.publicClient, { address: account.address })).toBe(0);
    // funded, the same call goes through
    await f.wallets[0].sendTransaction({ to: account.address, value: parseEther('1') });
    await approve(walletClient, { token: f.token, spender: f.market, amount: 1n });
  });
});
