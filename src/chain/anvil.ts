/**
 * The embedded default chain: anvil (Foundry's local EVM node) from npm (`@foundry-rs/anvil`, binary in the
 * platform package `@foundry-rs/anvil-<os>-<arch>`), started on a free 127.0.0.1 port and stopped cleanly.
 *
 * ```ts
 * const anvil = await startAnvil();
 * const { publicClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId });
 * await anvil.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { Hex } from 'viem';
import { MycelError } from '../platform/errors.js';

/** Anvil's default chain id. */
export const ANVIL_CHAIN_ID = 31337;
/** How long anvil may take to answer eth_chainId after spawn (it is ready in ~0.25 s on a quiet machine). */
export const ANVIL_START_TIMEOUT_MS = 15_000;
/** How long stop() waits after SIGTERM before it sends SIGKILL. */
export const ANVIL_STOP_TIMEOUT_MS = 5_000;

/**
 * Anvil's ten default dev accounts (mnemonic "test test test test test test test test test test test junk",
 * m/44'/60'/0'/0/i), each funded with 10,000 ETH. Public knowledge: never use them on a real chain.
 */
export const ANVIL_ACCOUNTS: readonly { address: Hex; privateKey: Hex }[] = [
  ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'],
  ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'],
  ['0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'],
  ['0x90F79bf6EB2c4f870365E785982E1f101E93b906', '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'],
  ['0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65', '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a'],
  ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc', '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'],
  ['0x976EA74026E726554dB657fA54763abd0C3a0aa9', '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e'],
  ['0x14dC79964da2C08b23698B3D3cc7Ca32193d9955', '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356'],
  ['0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f', '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97'],
  ['0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'],
].map(([address, privateKey]) => ({ address: address as Hex, privateKey: privateKey as Hex }));

export type StartAnvilOptions = {
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  chainId?: number;
  /** Block gas limit (anvil --gas-limit); large batched eth_calls need more than the default 30M. */
  gasLimit?: bigint;
  /** Extra command-line arguments for anvil. */
  args?: string[];
  /** The anvil binary; default: the one in the installed @foundry-rs platform package. */
  binary?: string;
  startTimeoutMs?: number;
};

export type Anvil = {
  rpcUrl: string;
  chainId: number;
  accounts: readonly { address: Hex; privateKey: Hex }[];
  /** The anvil process id. */
  pid: number;
  /** SIGTERM, then wait for exit (SIGKILL after ANVIL_STOP_TIMEOUT_MS). Idempotent. */
  stop(): Promise<void>;
};

/** The anvil binary cannot be found in node_modules. */
export class AnvilNotFoundError extends MycelError {
  override name = 'AnvilNotFoundError';
  constructor({ packageName, cause }: { packageName: string; cause?: unknown }) {
    super(`The anvil binary is not installed: no ${packageName}/bin/anvil in node_modules.`, {
      metaMessages: [
        'Run: npm ci (the platform package is an optional dependency of @foundry-rs/anvil),',
        'or pass { binary: "/path/to/anvil" }, or use any EVM JSON-RPC URL instead.',
      ],
      cause,
    });
  }
}

/** Anvil exited or did not answer eth_chainId in time. */
export class AnvilStartError extends MycelError {
  override name = 'AnvilStartError';
  constructor({ binary, reason, output }: { binary: string; reason: string; output: string }) {
    super(`Anvil (${binary}) did not start: ${reason}.`, {
      metaMessages: ['Check that the binary runs: ' + binary + ' --version'],
      ...(output.trim() ? { details: output.trim().split('\n').slice(-10).join('\n') } : {}),
    });
  }
}

const PLATFORM_PACKAGES: Record<string, Record<string, string>> = {
  linux: { x64: 'anvil-linux-amd64', arm64: 'anvil-linux-arm64' },
  darwin: { x64: 'anvil-darwin-amd64', arm64: 'anvil-darwin-arm64' },
  win32: { x64: 'anvil-win32-amd64' },
};

/** The path of the anvil binary shipped in this platform's `@foundry-rs/anvil-<os>-<arch>` package. */
export function anvilBinaryPath(): string {
  const packageName = `@foundry-rs/${PLATFORM_PACKAGES[process.platform]?.[process.arch] ?? `anvil-${process.platform}-${process.arch}`}`;
  const binaryName = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    // Resolved from the wrapper package when it is installed, since npm may nest its optional dependency there.
    let base = import.meta.url;
    try {
      base = require.resolve('@foundry-rs/anvil/package.json');
    } catch {}
    path = createRequire(base).resolve(`${packageName}/bin/${binaryName}`);
  } catch (cause) {
    throw new AnvilNotFoundError({ packageName, cause });
  }
  if (!existsSync(path)) throw new AnvilNotFoundError({ packageName });
  return path;
}

/** A port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// Every live anvil, killed synchronously when this process exits so none outlives it.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
}

/** Starts anvil and resolves once it answers eth_chainId. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const binary = options.binary ?? anvilBinaryPath();
  // A port picked by freePort() can be taken before anvil binds it; try again on a fresh port.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options.port ?? (await freePort()), options);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof AnvilStartError) || !/exited/.test(error.shortMessage)) throw error;
    }
  }
}

async function startOnce(binary: string, port: number, options: StartAnvilOptions): Promise<Anvil> {
  const chainId = options.chainId ?? ANVIL_CHAIN_ID;
  // --prune-history: anvil otherwise writes every old state it evicts from memory under ~/.foundry/anvil/tmp and,
  // killed rather than stopped, leaves it there (63 GB on this machine after a day of tests). Nothing in mycel reads
  // state at an old block (logs, blocks and receipts stay); 64 recent states cover a reorg's evm_revert.
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--accounts', '10', '--prune-history', '64'];
  if (options.gasLimit !== undefined) args.push('--gas-limit', options.gasLimit.toString());
  args.push(...(options.args ?? []));

  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new AnvilStartError({ binary, reason: `spawn failed (${(error as Error).message})`, output: '' });
  }
  live.add(child);
  if (!exitHookInstalled) {
    process.on('exit', killAllOnExit);
    exitHookInstalled = true;
  }
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not be run (${error.message})`));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  exited.then(() => live.delete(child));
  // anvil must not keep this process alive; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  const rpcUrl = `http://127.0.0.1:${port}`;
  const timeoutMs = options.startTimeoutMs ?? ANVIL_START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let failure: string | undefined;
  exited.then((reason) => (failure = reason));
  for (;;) {
    if (failure !== undefined) throw new AnvilStartError({ binary, reason: failure, output });
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AnvilStartError({ binary, reason: `no answer to eth_chainId at ${rpcUrl} within ${timeoutMs} ms`, output });
    }
    const answered = await rpcChainId(rpcUrl).catch(() => undefined);
    if (answered !== undefined) {
      if (answered !== chainId) {
        child.kill('SIGKILL');
        throw new AnvilStartError({ binary, reason: `${rpcUrl} answered chain id ${answered}, not ${chainId} (another node on the port?)`, output });
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  let stopping: Promise<void> | undefined;
  return {
    rpcUrl,
    chainId,
    accounts: ANVIL_ACCOUNTS,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ANVIL_STOP_TIMEOUT_MS)));
        if ((await Promise.race([exited, timedOut])) === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function rpcChainId(rpcUrl: string): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(1000),
  });
  const body = (await response.json()) as { result?: string };
  if (typeof body.result !== 'string') throw new Error('no result');
  return Number(body.result);
}
