// The embedded anvil: start, answer, deploy, stop; clear errors for a wrong URL or binary; no orphans.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { AnvilStartError, anvilBinaryPath, startAnvil } from '../../src/chain/anvil.js';
import { ChainUnreachableError, InvalidRpcUrlError, connect, deployContract } from '../../src/chain/clients.js';
import { F32HarnessAbi, F32HarnessBytecode, F32HarnessDeployedBytecode } from '../../src/chain/generated/F32Harness.js';

const run = promisify(execFile);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitDead(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe('anvil harness', () => {
  it('starts on a free port, answers, holds the default dev accounts, deploys, and stops', async () => {
    const anvil = await startAnvil();
    try {
      expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const account = privateKeyToAccount(anvil.accounts[0].privateKey);
      const { chainId, publicClient, walletClient } = await connect({ rpcUrl: anvil.rpcUrl, account });
      expect(chainId).toBe(anvil.chainId);
      expect(chainId).toBe(31337);
      // the keys we hand out are the ones anvil funded
      const onChain = await walletClient.request({ method: 'eth_accounts' });
      expect(onChain.map((a) => a.toLowerCase())).toEqual(anvil.accounts.map((a) => a.address.toLowerCase()));
      expect(anvil.accounts.map((a) => privateKeyToAccount(a.privateKey).address)).toEqual(anvil.accounts.map((a) => a.address));

      const { address } = await deployContract(walletClient, { abi: F32HarnessAbi, bytecode: F32HarnessBytecode });
      // The runtime code at the address is the build's (no immutables in the harness).
      expect(await publicClient.getCode({ address })).toBe(F32HarnessDeployedBytecode);
      expect(await publicClient.readContract({ address, abi: F32HarnessAbi, functionName: 'add', args: [0x3f800000, 0x40000000] })).toBe(0x40400000);
    } finally {
      await anvil.stop();
    }
    expect(await waitDead(anvil.pid, 100)).toBe(true);
    await expect(connect({ rpcUrl: anvil.rpcUrl })).rejects.toBeInstanceOf(ChainUnreachableError);
    await anvil.stop(); // idempotent
  });

  it('two instances run side by side on different ports', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 1337 })]);
    try {
      expect(a.rpcUrl).not.toBe(b.rpcUrl);
      expect((await connect({ rpcUrl: b.rpcUrl })).chainId).toBe(1337);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a wrong RPC URL gives a clear error naming the URL', async () => {
    const error = await connect({ rpcUrl: 'http://127.0.0.1:1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainUnreachableError);
    expect((error as Error).message).toContain('No EVM JSON-RPC node answers at http://127.0.0.1:1');
    const bad = await connect({ rpcUrl: 'localhost:8545' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidRpcUrlError);
    expect((bad as Error).message).toContain('"localhost:8545" is not an http(s) JSON-RPC URL');
  });

  it('a binary that cannot run gives an error naming its path', async () => {
    const error = await startAnvil({ binary: '/nonexistent/anvil' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnvilStartError);
    expect((error as Error).message).toContain('Anvil (/nonexistent/anvil) did not start');
    // a binary that exits at once (bad flag) reports anvil's own output
    const exited = await startAnvil({ args: ['--no-such-flag'] }).catch((e: unknown) => e);
    expect(exited).toBeInstanceOf(AnvilStartError);
    expect((exited as Error).message).toContain(anvilBinaryPath());
    expect((exited as Error).message).toMatch(/exited with code \d+/);
  });

  it('leaves no orphan when the owning process exits without stop()', async () => {
    const script = [
      "const { startAnvil } = await import('./src/chain/anvil.ts');",
      'const anvil = await startAnvil();',
      'console.log(anvil.pid);',
      // no stop(): the event loop empties and the process exits
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await waitDead(pid)).toBe(true);
  });
});
