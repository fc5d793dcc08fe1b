/**
 * Nodes check the code of every contract they use against this build (chain/code.ts checkDeployment) before they act:
 * a real deployment passes; a market wired to a resolver where anyone picks the winner (MockResolver), an address
 * with no code, and addresses from different deployments are each refused, naming the address and what to do, by the
 * check itself, by startNode and by `mycel node run`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, keccak256, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getCode } from 'viem/actions';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { builtCodeHash, checkDeployment, ContractCodeMismatchError, ContractWiringError, maskedCodeHash, BUILT_CODE, type Deployment } from '../../src/chain/code.js';
import { deployMycel } from '../../src/chain/deploy.js';
import type { MycelWalletClient } from '../../src/chain/actions/send.js';
import { MockResolverAbi, MockResolverBytecode } from '../../src/chain/generated/MockResolver.js';
import { startNode } from '../../src/node/run.js';
import { NodeProcessError, spawnRole } from '../../src/node/spawn.js';
import { spawnMycel } from '../cli/spawn-mycel.js';

let anvil: Anvil;
let dir: string;
let publicClient: PublicClient;
let real: Deployment;
let other: Deployment;
let mocked: Deployment;

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  dir = await mkdtemp(join(tmpdir(), 'mycel-code-check-'));
  const deployer = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
  publicClient = deployer.publicClient as PublicClient;
  const wallet = deployer.walletClient as MycelWalletClient;
  const of = (d: Awaited<ReturnType<typeof deployMycel>>, disputeGame: string): Deployment => ({ token: d.token, registry: d.registry, market: d.market, disputeGame: getAddress(disputeGame) });
  const a = await deployMycel(wallet, { disputeGame: {} });
  real = of(a, a.disputeGame!);
  const b = await deployMycel(wallet, { disputeGame: { clock: 10 } });
  other = of(b, b.disputeGame!);
  const mock = (await deployContract(wallet, { abi: MockResolverAbi, bytecode: MockResolverBytecode })).address;
  mocked = of(await deployMycel(wallet, { resolver: mock }), mock);
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('checkDeployment', () => {
  it("passes a deployment of this build and returns the game's referee", async () => {
    const { referee } = await checkDeployment(publicClient, real);
    expect(maskedCodeHash((await getCode(publicClient, { address: referee }))!, BUILT_CODE.OneStepReferee)).toBe(builtCodeHash('OneStepReferee'));
    // Two deployments differ in their immutables (addresses, timeout) only: masked, their code hashes are equal.
    const [x, y] = [await getCode(publicClient, { address: real.disputeGame }), await getCode(publicClient, { address: other.disputeGame })];
    expect(keccak256(x!)).not.toBe(keccak256(y!));
    expect(maskedCodeHash(x!, BUILT_CODE.DisputeGame)).toBe(maskedCodeHash(y!, BUILT_CODE.DisputeGame));
  });

  it('refuses a market wired to a resolver that is not the DisputeGame, naming it and the fix', async () => {
    const error = await checkDeployment(publicClient, mocked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractCodeMismatchError);
    expect((error as Error).message).toContain(`The code at ${mocked.disputeGame} (the market's dispute resolver) is not this build's DisputeGame`);
    expect((error as ContractCodeMismatchError).metaMessages.join('\n')).toContain('mycel chain deploy');
  });

  it('refuses an address with no code, and addresses that belong to different deployments', async () => {
    const dead = getAddress('0x000000000000000000000000000000000000dEaD');
    await expect(checkDeployment(publicClient, { ...real, market: dead })).rejects.toThrow(`There is no contract at ${dead} (the market)`);
    const mixed = await checkDeployment(publicClient, { ...real, disputeGame: other.disputeGame }).catch((e: unknown) => e);
    expect(mixed).toBeInstanceOf(ContractWiringError);
    expect((mixed as Error).message).toContain(`The market ${real.market}'s dispute resolver is ${real.disputeGame}, not ${other.disputeGame}.`);
    // A token of this build, but not the market's.
    await expect(checkDeployment(publicClient, { ...real, token: other.token })).rejects.toThrow(ContractWiringError);
    // Another contract at the market's address: the registry's code is not a JobMarket's.
    await expect(checkDeployment(publicClient, { ...real, market: real.registry })).rejects.toThrow(`The code at ${real.registry} (the market) is not this build's JobMarket`);
  });
});

describe('nodes refuse an unchecked market', () => {
  it('startNode throws before it starts anything', async () => {
    const config = { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, privateKey: anvil.accounts[1].privateKey, contracts: mocked, dataDir: join(dir, 'node'), name: 'solver', bootstrap: [], fromBlock: 0n, confirmations: 0 };
    await expect(startNode(config, () => {})).rejects.toBeInstanceOf(ContractCodeMismatchError);
  });

  it('a devnet node process that refuses says which node, why and what to do, without a stack trace', async () => {
    const p = spawnRole({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, privateKey: anvil.accounts[2].privateKey, contracts: mocked, dataDir: join(dir, 'verifier'), name: 'verifier', bootstrap: [], fromBlock: '0', confirmations: 0, role: 'verifier', maxJobs: 1 }, () => {});
    const error = await p.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeProcessError);
    const text = `${(error as Error).message}\n${(error as NodeProcessError).metaMessages.join('\n')}`;
    expect(text).toMatch(/^Node verifier \(pid \d+\) exited with 1: .*not this build's DisputeGame/);
    expect(text).toContain(join(dir, 'verifier'));
    expect(text).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('`mycel node run --market` names the address, the reason and the fix, without a stack trace', async () => {
    const keyFile = join(dir, 'node.key');
    await writeFile(keyFile, `${anvil.accounts[1].privateKey}\n`, { mode: 0o600 });
    const r = await spawnMycel(['node', 'run', '--role', 'verifier', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--market', mocked.market]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`The code at ${mocked.disputeGame} (the market's dispute resolver) is not this build's DisputeGame`);
    expect(r.stderr).toContain('mycel chain deploy');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
