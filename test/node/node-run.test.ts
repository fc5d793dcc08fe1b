// `mycel node run` and `mycel devnet --rpc`, spawned from dist/ (run `npm run build` first) against an anvil this test
// starts: bad input gets an error naming the cause and the fix, before any node starts or anything is sent.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { spawnMycel, type MycelRun } from '../cli/spawn-mycel.js';


let anvil: Anvil;
let dir: string;
let keyFile: string;
let deployment: string;
beforeAll(async () => {
  anvil = await startAnvil();
  dir = await mkdtemp(join(tmpdir(), 'mycel-node-run-'));
  keyFile = join(dir, 'node.key');
  await writeFile(keyFile, `${anvil.accounts[1].privateKey}\n`, { mode: 0o600 });
  deployment = join(dir, 'deployment.json');
  await writeFile(deployment, JSON.stringify({ token: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }));
}, 30_000);
afterAll(async () => {
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mycel node run', () => {
  it('--help names the roles and the flags to join a network', async () => {
    const r = await spawnMycel(['node', 'run', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--role', '--rpc URL', '--key-file FILE', '--contracts FILE', '--market ADDR', '--bootstrap MULTIADDR', 'submitter', 'verifier']) expect(r.stdout).toContain(s);
  });

  it('a missing or unknown role is a usage error', async () => {
    const r = await spawnMycel(['node', 'run', '--role', 'miner', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--contracts', deployment]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--role must be one of submitter, solver, verifier, got "miner"');
  });

  it('an unreachable RPC URL, a wrong chain id and a deployment file without the contracts each say what to fix', async () => {
    const unreachable = await spawnMycel(['node', 'run', '--role', 'solver', '--rpc', 'http://127.0.0.1:1', '--key-file', keyFile, '--contracts', deployment]);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/http:\/\/127\.0\.0\.1:1/);
    const wrongChain = await spawnMycel(['node', 'run', '--role', 'solver', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--contracts', deployment, '--chain-id', '5']);
    expect(wrongChain.stderr).toContain(`is on chain ${anvil.chainId}, not chain 5`);
    const noContracts = await spawnMycel(['node', 'run', '--role', 'solver', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--contracts', deployment]);
    expect(noContracts.code).not.toBe(0);
    expect(noContracts.stderr).toContain(`Cannot read the contract addresses from ${deployment}: it has no registry address`);
    expect(noContracts.stderr).toContain('mycel chain deploy --json');
  }, 60_000);

  it('a market address with no market behind it is named', async () => {
    const r = await spawnMycel(['node', 'run', '--role', 'verifier', '--rpc', anvil.rpcUrl, '--key-file', keyFile, '--market', '0x000000000000000000000000000000000000dEaD']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('does not answer as a mycel JobMarket on this chain');
  });
});

describe('mycel devnet --rpc', () => {
  it('an unfunded key is refused before anything is deployed', async () => {
    const empty = join(dir, 'empty.key');
    await writeFile(empty, `0x${'11'.repeat(32)}\n`, { mode: 0o600 });
    const r = await spawnMycel(['devnet', '--rpc', anvil.rpcUrl, '--key-file', empty, '--dir', join(dir, 'devnet')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/The account 0x[0-9a-fA-F]{40} cannot pay for gas/);
  });

  it('--rpc without --key-file is a usage error', async () => {
    const r = await spawnMycel(['devnet', '--rpc', anvil.rpcUrl]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--rpc and --key-file go together');
  });
});
