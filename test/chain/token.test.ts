// MycelToken on anvil: supply, transfer, burn, EIP-2612 permit (signed with viem's signTypedData) and its reverts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignature, type Address, type Hex } from 'viem';
import { readContract, signTypedData } from 'viem/actions';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import type { MycelWalletClient } from '../../src/chain/actions/send.js';
import { FUNDING, T, call, expectRevert, setupMycel, type Fixture } from './mycel-fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await setupMycel();
});
afterAll(async () => {
  await f?.stop();
});

const PERMIT_TYPES = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

async function signPermit(signer: MycelWalletClient, owner: Address, spender: Address, value: bigint, deadline: bigint, nonce?: bigint) {
  const n = nonce ?? (await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'nonces', args: [owner] }));
  const signature = await signTypedData(signer, {
    account: signer.account,
    domain: { name: 'Mycel', version: '1', chainId: f.anvil.chainId, verifyingContract: f.token },
    types: PERMIT_TYPES,
    primaryType: 'Permit',
    message: { owner, spender, value, nonce: n, deadline },
  });
  const { r, s, v } = parseSignature(signature);
  return { v: Number(v), r, s } as { v: number; r: Hex; s: Hex };
}

describe('MycelToken', () => {
  it('mints the whole supply once to the holder and has no owner or mint function', async () => {
    expect(await f.totalSupply()).toBe(T(1_000_000_000));
    expect(await f.balance(f.wallets[0].account.address)).toBe(T(1_000_000_000) - 8n * FUNDING);
    expect(await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'symbol' })).toBe('MYC');
    const writes = MycelTokenAbi.filter((x) => x.type === 'function' && !['view', 'pure'].includes(x.stateMutability as string)).map((x) => (x as { name: string }).name);
    expect(writes.sort()).toEqual(['approve', 'burn', 'burnFrom', 'permit', 'transfer', 'transferFrom']);
  });

  it('transfer moves tokens and reverts past the balance', async () => {
    const [a, b] = [f.wallets[1], f.wallets[2]];
    const before = await f.balance(b.account.address);
    await call(a, f.token, MycelTokenAbi, 'transfer', [b.account.address, T(5)]);
    expect(await f.balance(b.account.address)).toBe(before + T(5));
    const have = await f.balance(a.account.address);
    await expectRevert(call(a, f.token, MycelTokenAbi, 'transfer', [b.account.address, have + 1n]), 'ERC20InsufficientBalance', [
      a.account.address,
      have,
      have + 1n,
    ]);
  });

  it('burn lowers the total supply', async () => {
    const supply = await f.totalSupply();
    await call(f.wallets[1], f.token, MycelTokenAbi, 'burn', [T(1)]);
    expect(await f.totalSupply()).toBe(supply - T(1));
  });

  it('permit: a signature sets the allowance, spent by the spender; a relayer may submit it', async () => {
    const [owner, spender, relayer] = [f.wallets[3], f.wallets[4], f.wallets[5]];
    const deadline = (await f.now()) + 3600n;
    const sig = await signPermit(owner, owner.account.address, spender.account.address, T(7), deadline);
    await call(relayer, f.token, MycelTokenAbi, 'permit', [owner.account.address, spender.account.address, T(7), deadline, sig.v, sig.r, sig.s]);
    expect(await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'allowance', args: [owner.account.address, spender.account.address] })).toBe(T(7));
    expect(await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'nonces', args: [owner.account.address] })).toBe(1n);
    const before = await f.balance(spender.account.address);
    await call(spender, f.token, MycelTokenAbi, 'transferFrom', [owner.account.address, spender.account.address, T(7)]);
    expect(await f.balance(spender.account.address)).toBe(before + T(7));
    // replaying the same signature: the nonce moved on, so it recovers another signer
    await expectRevert(
      call(relayer, f.token, MycelTokenAbi, 'permit', [owner.account.address, spender.account.address, T(7), deadline, sig.v, sig.r, sig.s]),
      'ERC2612InvalidSigner',
    );
  });

  it('permit reverts with an expired deadline', async () => {
    const [owner, spender] = [f.wallets[3], f.wallets[4]];
    const deadline = (await f.now()) - 1n;
    const sig = await signPermit(owner, owner.account.address, spender.account.address, T(1), deadline);
    await expectRevert(
      call(spender, f.token, MycelTokenAbi, 'permit', [owner.account.address, spender.account.address, T(1), deadline, sig.v, sig.r, sig.s]),
      'ERC2612ExpiredSignature',
      [deadline],
    );
  });

  it('permit reverts with a signature by another key or over other values', async () => {
    const [owner, spender, thief] = [f.wallets[3], f.wallets[4], f.wallets[6]];
    const deadline = (await f.now()) + 3600n;
    const nonce = await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'nonces', args: [owner.account.address] });
    const forged = await signPermit(thief, owner.account.address, thief.account.address, T(1), deadline, nonce);
    const error = await expectRevert(
      call(thief, f.token, MycelTokenAbi, 'permit', [owner.account.address, thief.account.address, T(1), deadline, forged.v, forged.r, forged.s]),
      'ERC2612InvalidSigner',
      [thief.account.address, owner.account.address],
    );
    expect(error.message).toContain('Sign the permit with the owner');
    const real = await signPermit(owner, owner.account.address, spender.account.address, T(1), deadline, nonce);
    await expectRevert(
      call(spender, f.token, MycelTokenAbi, 'permit', [owner.account.address, spender.account.address, T(2), deadline, real.v, real.r, real.s]),
      'ERC2612InvalidSigner',
    );
    expect(await readContract(f.publicClient, { address: f.token, abi: MycelTokenAbi, functionName: 'allowance', args: [owner.account.address, spender.account.address] })).toBe(0n);
  });
});
