// NodeRegistry on anvil: register (with and without the public key), its reverts, unbonding, and locking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Address } from 'viem';
import { readContract } from 'viem/actions';
import { deployContract } from '../../src/chain/clients.js';
import { publicKeyOf } from '../../src/chain/actions/register.js';
import { NodeRegistryAbi, NodeRegistryBytecode } from '../../src/chain/generated/NodeRegistry.js';
import { approve, getNode, register, requestWithdraw, withdraw } from '../../src/chain/index.js';
import { InsufficientAllowanceError } from '../../src/chain/errors.js';
import { MIN_STAKE, T, UNBONDING_DELAY, call, expectRevert, setupMycel, type Fixture } from './mycel-fixture.js';

let f: Fixture;
/** A second registry whose MARKET is wallet 9 (an account), so lock/unlock can be driven directly. */
let reg2: Address;
beforeAll(async () => {
  f = await setupMycel();
  ({ address: reg2 } = await deployContract(f.wallets[0], {
    abi: NodeRegistryAbi,
    bytecode: NodeRegistryBytecode,
    args: [f.token, f.wallets[9].account.address, MIN_STAKE, UNBONDING_DELAY],
  }));
});
afterAll(async () => {
  await f?.stop();
});

const key = (i: number) => f.anvil.accounts[i].privateKey;
const addr = (i: number) => f.wallets[i].account.address;

async function joined(i: number, registry: Address, stake = MIN_STAKE) {
  await approve(f.wallets[i], { token: f.token, spender: registry, amount: stake });
  return register(f.wallets[i], { registry, stake, publicKey: publicKeyOf(key(i)) });
}

describe('NodeRegistry', () => {
  it('register bonds the stake, records the node and publishes its public key', async () => {
    const before = await f.balance(addr(1));
    const { logs } = await joined(1, f.registry, T(150));
    expect(await f.balance(addr(1))).toBe(before - T(150));
    expect(await f.balance(f.registry)).toBe(T(150));
    expect(await getNode(f.publicClient, { registry: f.registry, node: addr(1) })).toEqual({ registered: true, stake: T(150), unlockAt: 0n, activeJobs: 0 });
    expect(await readContract(f.publicClient, { address: f.registry, abi: NodeRegistryAbi, functionName: 'isActive', args: [addr(1)] })).toBe(true);
    expect(logs.some((l) => l.address.toLowerCase() === f.registry.toLowerCase() && l.data.includes(publicKeyOf(key(1)).slice(2)))).toBe(true);
  });

  it('register without a public key is enough (the address is the identity)', async () => {
    await approve(f.wallets[2], { token: f.token, spender: f.registry, amount: MIN_STAKE });
    await register(f.wallets[2], { registry: f.registry, stake: MIN_STAKE });
    expect((await getNode(f.publicClient, { registry: f.registry, node: addr(2) })).registered).toBe(true);
  });

  it('double register reverts', async () => {
    await approve(f.wallets[1], { token: f.token, spender: f.registry, amount: MIN_STAKE });
    await expectRevert(register(f.wallets[1], { registry: f.registry, stake: MIN_STAKE }), 'NodeAlreadyRegistered', [addr(1)]);
  });

  it('insufficient stake reverts with the minimum', async () => {
    const e = await expectRevert(register(f.wallets[3], { registry: f.registry, stake: MIN_STAKE - 1n }), 'NodeStakeTooLow', [addr(3), MIN_STAKE - 1n, MIN_STAKE]);
    expect(e.metaMessages.join('\n')).toContain('at least 100 tokens');
  });

  it('a stake beyond the 128-bit field reverts before any transfer', async () => {
    const huge = 1n << 128n;
    await approve(f.wallets[3], { token: f.token, spender: f.registry, amount: huge });
    await expectRevert(register(f.wallets[3], { registry: f.registry, stake: huge }), 'NodeStakeTooHigh', [addr(3), huge]);
    await approve(f.wallets[3], { token: f.token, spender: f.registry, amount: 0n });
  });

  it('register without approval reverts with the allowance and the fix', async () => {
    const e = await register(f.wallets[3], { registry: f.registry, stake: MIN_STAKE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InsufficientAllowanceError);
    expect((e as InsufficientAllowanceError).metaMessages[0]).toMatch(/^Approve 0x[0-9a-fA-F]{40} for 100 tokens first/);
  });

  it('a public key of another account or of the wrong length reverts', async () => {
    await approve(f.wallets[3], { token: f.token, spender: f.registry, amount: MIN_STAKE });
    await expectRevert(register(f.wallets[3], { registry: f.registry, stake: MIN_STAKE, publicKey: publicKeyOf(key(4)) }), 'NodePublicKeyMismatch', [addr(3), addr(4)]);
    await expectRevert(register(f.wallets[3], { registry: f.registry, stake: MIN_STAKE, publicKey: `0x02${publicKeyOf(key(3)).slice(2, 66)}` }), 'NodePublicKeyLength', [33n]);
  });

  it('requestWithdraw, early withdraw reverts, withdraw after the delay returns the bond', async () => {
    await joined(4, f.registry);
    await expectRevert(withdraw(f.wallets[4], { registry: f.registry }), 'NodeWithdrawNotRequested', [addr(4)]);
    await requestWithdraw(f.wallets[4], { registry: f.registry });
    const { unlockAt } = await getNode(f.publicClient, { registry: f.registry, node: addr(4) });
    expect(unlockAt).toBe((await f.block()) + UNBONDING_DELAY); // blocks, like every deadline of the market and the game
    expect(await readContract(f.publicClient, { address: f.registry, abi: NodeRegistryAbi, functionName: 'isActive', args: [addr(4)] })).toBe(false);
    await expectRevert(requestWithdraw(f.wallets[4], { registry: f.registry }), 'NodeUnbonding', [addr(4), unlockAt]);
    const early = await expectRevert(withdraw(f.wallets[4], { registry: f.registry }), 'NodeStillUnbonding');
    expect(early.args[2]).toBe(unlockAt);
    expect(early.metaMessages[0]).toContain(`Wait until block ${unlockAt}, then withdraw`);
    expect(early.message).toContain(`${unlockAt - (await f.block())} blocks from the last one`);
    await f.mine(UNBONDING_DELAY);
    const before = await f.balance(addr(4));
    await withdraw(f.wallets[4], { registry: f.registry });
    expect(await f.balance(addr(4))).toBe(before + MIN_STAKE);
    expect((await getNode(f.publicClient, { registry: f.registry, node: addr(4) })).registered).toBe(false);
    await expectRevert(withdraw(f.wallets[4], { registry: f.registry }), 'NodeNotRegistered', [addr(4)]);
    await expectRevert(requestWithdraw(f.wallets[5], { registry: f.registry }), 'NodeNotRegistered', [addr(5)]);
    await joined(4, f.registry); // may come back
  });

  it('only the market may lock; a locked node cannot withdraw until unlocked', async () => {
    const market = f.wallets[9];
    await expectRevert(call(f.wallets[5], reg2, NodeRegistryAbi, 'lock', [addr(5)]), 'RegistryUnauthorizedCaller', [addr(5)]);
    await expectRevert(call(f.wallets[5], reg2, NodeRegistryAbi, 'unlock', [addr(5)]), 'RegistryUnauthorizedCaller', [addr(5)]);
    await expectRevert(call(market, reg2, NodeRegistryAbi, 'lock', [addr(5)]), 'NodeNotRegistered', [addr(5)]);
    await joined(5, reg2);
    await call(market, reg2, NodeRegistryAbi, 'lock', [addr(5)]);
    await call(market, reg2, NodeRegistryAbi, 'lock', [addr(5)]);
    expect((await getNode(f.publicClient, { registry: reg2, node: addr(5) })).activeJobs).toBe(2);
    await requestWithdraw(f.wallets[5], { registry: reg2 });
    await expectRevert(call(market, reg2, NodeRegistryAbi, 'lock', [addr(5)]), 'NodeUnbonding'); // no new job while leaving
    await f.mine(UNBONDING_DELAY);
    const locked = await expectRevert(withdraw(f.wallets[5], { registry: reg2 }), 'NodeStakeLocked', [addr(5), 2]);
    expect(locked.metaMessages[0]).toContain('then withdraw');
    await call(market, reg2, NodeRegistryAbi, 'unlock', [addr(5)]);
    await expectRevert(withdraw(f.wallets[5], { registry: reg2 }), 'NodeStakeLocked', [addr(5), 1]);
    await call(market, reg2, NodeRegistryAbi, 'unlock', [addr(5)]);
    await withdraw(f.wallets[5], { registry: reg2 });
    expect(await f.balance(reg2)).toBe(0n);
  });

  it('the registry has no function that moves a bond except withdraw', () => {
    const writes = NodeRegistryAbi.filter((x) => x.type === 'function' && x.stateMutability === 'nonpayable').map((x) => (x as { name: string }).name);
    expect(writes.sort()).toEqual(['lock', 'register', 'requestWithdraw', 'unlock', 'withdraw']);
  });

  it('a zero minimum stake is refused at deployment', async () => {
    await expect(
      deployContract(f.wallets[0], { abi: NodeRegistryAbi, bytecode: NodeRegistryBytecode, args: [f.token, addr(9), 0n, 1n] }),
    ).rejects.toThrow(/RegistryMinStakeZero|revert/i);
  });
});
