// watchConfirmed: the confirmation bookkeeping against a fake chain, then on anvil with a reorg made by evm_snapshot/evm_revert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnits, type Address, type Hash } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract, type Clients } from '../../src/chain/clients.js';
import { MycelTokenAbi, MycelTokenBytecode } from '../../src/chain/generated/MycelToken.js';
import { ConfirmationTracker, watchConfirmed, type ChainView, type LogPosition } from '../../src/chain/watch.js';
import type { Account } from 'viem';

type FakeLog = LogPosition & { id: string };

/** A chain as a list of blocks, each a hash and its logs; tests replace the tail to reorg. */
function fakeChain() {
  const blocks: { hash: Hash; logs: string[] }[] = [];
  const hash = (n: number, salt: string) => `0x${(n.toString(16) + salt).padStart(64, '0')}` as Hash;
  let beforeHash: (() => void) | undefined;
  const view: ChainView<FakeLog> = {
    blockNumber: async () => BigInt(blocks.length - 1),
    logs: async (from, to) =>
      blocks.flatMap((b, n) => (BigInt(n) >= from && BigInt(n) <= to ? b.logs.map((id, i) => ({ id, blockNumber: BigInt(n), blockHash: b.hash, logIndex: i })) : [])),
    blockHash: async (n) => {
      beforeHash?.();
      beforeHash = undefined;
      return blocks[Number(n)]?.hash;
    },
  };
  return {
    view,
    mine: (logs: string[] = [], salt = 'a') => blocks.push({ hash: hash(blocks.length, salt), logs }),
    truncate: (length: number) => (blocks.length = length),
    /** Runs `f` just before the next blockHash call: a reorg between reading logs and confirming them. */
    onNextHashCheck: (f: () => void) => (beforeHash = f),
  };
}

describe('ConfirmationTracker', () => {
  it('delivers a log only once its block has `confirmations` blocks on top, and only once', async () => {
    const c = fakeChain();
    c.mine();
    const t = new ConfirmationTracker(c.view, 2, 1n);
    c.mine(['x', 'y']); // block 1
    expect(await t.poll()).toEqual([]);
    c.mine();
    expect(await t.poll()).toEqual([]);
    c.mine(); // head 3: block 1 has 2 on top
    expect((await t.poll()).map((l) => l.id)).toEqual(['x', 'y']);
    c.mine();
    c.mine();
    expect(await t.poll()).toEqual([]);
  });

  it('drops a log reorged out before confirmation and delivers its replacement', async () => {
    const c = fakeChain();
    c.mine();
    const t = new ConfirmationTracker(c.view, 2, 1n);
    c.mine(['a']); // 1
    c.mine(['b']); // 2
    expect(await t.poll()).toEqual([]);
    c.truncate(2); // block 2 reorged away
    c.mine(['c'], 'b'); // new block 2
    c.mine();
    c.mine(); // head 4
    expect((await t.poll()).map((l) => l.id)).toEqual(['a', 'c']);
  });

  it('re-checks the block hash at confirmation: a reorg between reading and confirming is not delivered, then replayed', async () => {
    const c = fakeChain();
    c.mine();
    const t = new ConfirmationTracker(c.view, 1, 1n);
    c.mine(['old']); // 1
    c.mine(); // 2
    c.onNextHashCheck(() => {
      c.truncate(1);
      c.mine(['new'], 'b');
      c.mine([], 'b');
    });
    expect(await t.poll()).toEqual([]);
    expect(t.cursor).toBe(1n);
    expect((await t.poll()).map((l) => l.id)).toEqual(['new']);
    expect(t.cursor).toBe(2n);
  });

  it('with 0 confirmations delivers at once; rejects a negative count', async () => {
    const c = fakeChain();
    c.mine(['z']);
    expect((await new ConfirmationTracker(c.view, 0, 0n).poll()).map((l) => l.id)).toEqual(['z']);
    expect(() => new ConfirmationTracker(c.view, -1)).toThrow(RangeError);
  });
});

describe('watchConfirmed on anvil', () => {
  let anvil: Anvil;
  let clients: Clients<Account>;
  let token: Address;
  beforeAll(async () => {
    anvil = await startAnvil();
    clients = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
    token = (
      await deployContract(clients.walletClient, {
        abi: MycelTokenAbi,
        bytecode: MycelTokenBytecode,
        args: ['Mycel', 'MYC', anvil.accounts[0].address, parseUnits('1000', 18)],
      })
    ).address;
  }, 30_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  const transfer = async (value: bigint) => {
    const hash = await clients.walletClient.writeContract({ address: token, abi: MycelTokenAbi, functionName: 'transfer', args: [anvil.accounts[1].address, value] } as never);
    await clients.publicClient.waitForTransactionReceipt({ hash });
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('delivers confirmed Transfer logs and drops one reverted by a reorg', async () => {
    const seen: bigint[] = [];
    const errors: unknown[] = [];
    const controller = new AbortController();
    const fromBlock = (await clients.publicClient.getBlockNumber()) + 1n;
    watchConfirmed(clients.publicClient, {
      address: token,
      abi: MycelTokenAbi,
      eventName: 'Transfer',
      confirmations: 3,
      fromBlock,
      pollingInterval: 20,
      signal: controller.signal,
      onLog: (log) => void seen.push((log.args as { value: bigint }).value),
      onError: (e) => errors.push(e),
    });
    try {
      await transfer(1n); // block n
      await clients.testClient.mine({ blocks: 1 });
      const snapshot = await clients.testClient.snapshot();
      await transfer(2n); // block n+2, to be reorged away
      await sleep(150);
      expect(seen).toEqual([]); // not enough confirmations yet
      await clients.testClient.revert({ id: snapshot });
      await transfer(3n); // the new block n+2
      await sleep(150);
      expect(seen).toEqual([]);
      await clients.testClient.mine({ blocks: 3 });
      for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(20);
      await sleep(100);
      expect(seen).toEqual([1n, 3n]);
      expect(errors).toEqual([]);
    } finally {
      controller.abort();
    }
  }, 30_000);
});
