// `mycel chain deploy` and `mycel chain status`, spawned from dist/ (run `npm run build` first) against an anvil
// this test starts: deploy with a key file (and with --swarm, the coordinator), the key-file checks, wrong URL / chain id / unfunded key, and the embedded anvil.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnits, type Address } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { createClients } from '../../src/chain/clients.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { swarmModelConfig } from '../../src/node/swarm-chain.js';
import { SWARM_MODEL } from '../../src/swarm/sapo-policy.js';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { MYCEL_MAIN, spawnMycel, type MycelRun } from '../cli/spawn-mycel.js';

const json = (r: MycelRun) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

let anvil: Anvil;
let dir: string;
let keyFile: string;
beforeAll(async () => {
  anvil = await startAnvil();
  dir = await mkdtemp(join(tmpdir(), 'mycel-chain-cli-'));
  keyFile = join(dir, 'deployer.key');
  await writeFile(keyFile, `${anvil.accounts[0].privateKey}\n`, { mode: 0o600 });
}, 30_000);
afterAll(async () => {
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mycel chain deploy --rpc', () => {
  it('deploys with the key file and chain status reads the market', async () => {
    const r = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json(r);
    expect(d.chain_id).toBe(anvil.chainId);
    expect(d.deployer).toBe(anvil.accounts[0].address);
    for (const k of ['token', 'registry', 'market', 'dispute_game', 'referee']) expect(d[k]).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(d.embedded_anvil).toBe(false);

    const s = await spawnMycel(['chain', 'status', '--rpc', anvil.rpcUrl, '--market', d.market as string, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const st = json(s);
    expect(st).toMatchObject({ chain_id: anvil.chainId, job_count: 0, market: d.market });
    expect(st.block_number).toBeGreaterThan(0);

    const text = await spawnMycel(['chain', 'status', '--rpc', anvil.rpcUrl]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/chain id\s+31337/);
  }, 60_000);

  it('with --swarm also deploys a SwarmCoordinator on the game, its pool funded by the deployer', async () => {
    const r = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--swarm', '--swarm-rounds', '3', '--swarm-reward', '7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json(r);
    expect(d.swarm_coordinator).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const { publicClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId });
    const coordinator = d.swarm_coordinator as Address;
    expect(await readContract(publicClient, { address: coordinator, abi: SwarmCoordinatorAbi, functionName: 'GAME' })).toBe(d.dispute_game);
    expect(await readContract(publicClient, { address: d.token as Address, abi: MycelTokenAbi, functionName: 'balanceOf', args: [coordinator] })).toBe(parseUnits('21', 18));
    const [config] = await readContract(publicClient, { address: coordinator, abi: SwarmCoordinatorAbi, functionName: 'modelConfigs' });
    expect(config).toBe(swarmModelConfig(SWARM_MODEL));
  }, 120_000);

  it('refuses a group/world-readable, malformed or missing key file', async () => {
    const open = join(dir, 'open.key');
    await writeFile(open, anvil.accounts[0].privateKey, { mode: 0o644 });
    await chmod(open, 0o644);
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', { mode: 0o600 });
    const readable = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', open]);
    expect(readable.code).toBe(1);
    expect(readable.stderr).toMatch(/readable by other users \(mode 644\); run chmod 600/);
    const malformed = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', bad]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/does not hold a 0x-prefixed 32-byte hex private key/);
    const missing = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', join(dir, 'nope.key'), '--json']);
    expect(missing.code).toBe(1);
    expect(json(missing)).toMatchObject({ error: { name: 'ChainKeyFileError' } });
    const noKey = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--rpc needs --key-file/);
  }, 60_000);

  it('surfaces the clear errors for an unreachable URL, a wrong chain id and an unfunded key', async () => {
    const down = await spawnMycel(['chain', 'status', '--rpc', 'http://127.0.0.1:1', '--json']);
    expect(down.code).toBe(1);
    expect(json(down)).toMatchObject({ error: { name: 'ChainUnreachableError' } });
    const downDeploy = await spawnMycel(['chain', 'deploy', '--rpc', 'http://127.0.0.1:1', '--key-file', keyFile, '--json']);
    expect(json(downDeploy)).toMatchObject({ error: { name: 'ChainUnreachableError' } });
    const notUrl = await spawnMycel(['chain', 'status', '--rpc', 'ftp://x', '--json']);
    expect(json(notUrl)).toMatchObject({ error: { name: 'InvalidRpcUrlError' } });

    const wrong = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--chain-id', '10', '--json']);
    expect(wrong.code).toBe(1);
    expect(json(wrong)).toMatchObject({ error: { name: 'WrongChainError' } });

    const poor = join(dir, 'poor.key');
    await writeFile(poor, generatePrivateKey(), { mode: 0o600 });
    const unfunded = await spawnMycel(['chain', 'deploy', '--rpc', anvil.rpcUrl, '--key-file', poor, '--json']);
    expect(unfunded.code).toBe(1);
    expect(json(unfunded)).toMatchObject({ error: { name: 'AccountUnfundedError' } });
  }, 60_000);
});

describe('mycel chain deploy (embedded anvil)', () => {
  it('starts anvil, prints the addresses and keeps running until Ctrl-C', async () => {
    const child = spawn(process.execPath, [MYCEL_MAIN, 'chain', 'deploy', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      exited.then(() => reject(new Error(`exited early: ${stderr}`)));
    });
    const d = JSON.parse(line) as { rpc_url: string; market: string; embedded_anvil: boolean };
    expect(d.embedded_anvil).toBe(true);
    // anvil stays up: chain status against it works
    const s = await spawnMycel(['chain', 'status', '--rpc', d.rpc_url, '--market', d.market, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(json(s).job_count).toBe(0);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const after = await spawnMycel(['chain', 'status', '--rpc', d.rpc_url, '--json']);
    expect(json(after)).toMatchObject({ error: { name: 'ChainUnreachableError' } });
  }, 60_000);
});
