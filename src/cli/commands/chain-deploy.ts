import { readFile, stat } from 'node:fs/promises';
import { isHex, parseUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../chain/anvil.js';
import { connect, createClients } from '../../chain/clients.js';
import { deployMycel, deploySwarmCoordinator } from '../../chain/deploy.js';
import { DEFAULT_SWARM_CONFIG, swarmProgramOf } from '../../node/swarm-chain.js';
import { SWARM_MODEL } from '../../swarm/sapo-policy.js';
import { MycelError, UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';

/** The key file cannot be used: missing, unreadable, readable by others, or not a 0x-prefixed private key. */
export class ChainKeyFileError extends MycelError {
  override name = 'ChainKeyFileError';
  constructor(path: string, problem: string, cause?: unknown) {
    super(`Cannot use the key file ${path}: ${problem}.`, {
      cause,
      metaMessages: ['The file must hold one 0x-prefixed 32-byte hex private key and be readable only by you (chmod 600).'],
    });
  }
}

/** Reads a 0x-prefixed secp256k1 private key from a file that only its owner may read. */
export async function readKeyFile(path: string): Promise<Hex> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChainKeyFileError(path, code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'it is not readable' : String(code ?? error), error);
  }
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    throw new ChainKeyFileError(path, `it is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const key = text.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key) || !isHex(key)) throw new ChainKeyFileError(path, 'it does not hold a 0x-prefixed 32-byte hex private key');
  try {
    privateKeyToAccount(key);
  } catch (error) {
    throw new ChainKeyFileError(path, 'the key is outside the secp256k1 range', error);
  }
  return key;
}

export const chainDeploy: Command = {
  name: 'chain deploy',
  summary: 'deploy the mycel contracts (token, registry, market, DisputeGame; with --swarm a SwarmCoordinator) to anvil or any EVM chain',
  usage: '[--rpc URL --key-file FILE] [--swarm] [--json]',
  description: `
With --rpc, deploys from the key in --key-file to that chain, prints the addresses and exits.
Without --rpc, starts an embedded anvil, deploys from its first dev account, prints the addresses
(and the RPC URL) and keeps anvil running until Ctrl-C.

The key file holds one 0x-prefixed private key and must be mode 0600. --chain-id makes the deploy
refuse a node on another chain.

--swarm also deploys a SwarmCoordinator (docs/swarm-chain.md) for the SAPO policy model: rounds of
--swarm-commit-blocks (default 300), claims for 300 and challenges for 600 blocks after each commit
window, bonds of 10 (commit) and 100 MYC (claim, challenge), and a pool of --swarm-reward MYC a round
(default 1000) for --swarm-rounds rounds (default 100), funded by the deployer at deployment.

Examples:
  mycel chain deploy --json
  mycel chain deploy --rpc https://sepolia.base.org --key-file ~/.mycel/deployer.key --chain-id 84532`,
  flags: {
    rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL (default: start an embedded anvil)' },
    'key-file': { type: 'string', value: 'FILE', description: 'file holding the deployer private key (needed with --rpc)' },
    'chain-id': { type: 'string', value: 'ID', description: 'expected chain id (default: whatever the node reports)' },
    swarm: { type: 'boolean', description: 'also deploy a SwarmCoordinator, its pool funded by the deployer' },
    'swarm-commit-blocks': { type: 'string', value: 'N', description: 'blocks of a round\'s commit window (default 300)' },
    'swarm-reward': { type: 'string', value: 'MYC', description: 'reward per round (default 1000)' },
    'swarm-rounds': { type: 'string', value: 'N', description: 'rounds paid from the pool (default 100)' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length > 0) throw new UsageError('chain deploy takes no arguments.');
    const rpc = typeof flags.rpc === 'string' ? flags.rpc : undefined;
    const keyFile = typeof flags['key-file'] === 'string' ? flags['key-file'] : undefined;
    if (rpc !== undefined && keyFile === undefined) throw new UsageError('--rpc needs --key-file FILE: the key that pays for the deployment.');
    const expectedChainId = flags['chain-id'] === undefined ? undefined : intFlag(flags, 'chain-id', 0, 1);
    const swarm = flags.swarm === true;
    const commitBlocks = intFlag(flags, 'swarm-commit-blocks', 300, 1);
    const rounds = intFlag(flags, 'swarm-rounds', 100, 1);
    const reward = intFlag(flags, 'swarm-reward', 1000, 0);
    let anvil: Anvil | undefined;
    try {
      let rpcUrl: string;
      let key: Hex;
      if (rpc === undefined) {
        anvil = await startAnvil();
        rpcUrl = anvil.rpcUrl;
        key = keyFile === undefined ? anvil.accounts[0].privateKey : await readKeyFile(keyFile);
      } else {
        key = await readKeyFile(keyFile!);
        rpcUrl = rpc;
      }
      const account = privateKeyToAccount(key);
      const { walletClient, chainId } =
        expectedChainId === undefined
          ? await connect({ rpcUrl, account })
          : { ...createClients({ rpcUrl, account, chainId: expectedChainId }), chainId: expectedChainId };
      out.log(`Deploying from ${account.address} to ${rpcUrl} (chain ${chainId})…`);
      const d = await deployMycel(walletClient, { disputeGame: {} });
      let coordinator: string | undefined;
      if (swarm) {
        out.log('Deploying the SwarmCoordinator (tracing the SAPO policy\'s eval program for its facts)…');
        const s = await deploySwarmCoordinator(walletClient, {
          token: d.token,
          registry: d.registry,
          game: d.disputeGame!,
          timing: { commitBlocks, claimBlocks: 300, challengeBlocks: 600 },
          economics: { commitBond: parseUnits('10', 18), claimBond: parseUnits('100', 18), rewardPerRound: parseUnits(String(reward), 18), rounds, useShareBps: 2_000 },
          programs: [swarmProgramOf(SWARM_MODEL)],
          swarmId: DEFAULT_SWARM_CONFIG.swarmId,
        });
        coordinator = s.coordinator;
      }
      const result = {
        rpc_url: rpcUrl,
        chain_id: chainId,
        deployer: account.address,
        token: d.token,
        registry: d.registry,
        market: d.market,
        dispute_game: d.disputeGame,
        referee: d.referee,
        ...(coordinator ? { swarm_coordinator: coordinator } : {}),
        embedded_anvil: anvil !== undefined,
      };
      out.result(result, [
        `rpc           ${rpcUrl} (chain ${chainId})`,
        `token         ${d.token}`,
        `registry      ${d.registry}`,
        `market        ${d.market}`,
        `dispute game  ${d.disputeGame}`,
        `referee       ${d.referee}`,
        ...(coordinator ? [`coordinator   ${coordinator}`] : []),
      ].join('\n'));
      if (anvil) {
        out.log('Embedded anvil is running; Ctrl-C stops it.');
        // anvil's process is unref'd, and a pending promise alone does not keep node alive: hold a timer until Ctrl-C.
        const keepAlive = setInterval(() => {}, 1 << 30);
        try {
          if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        } finally {
          clearInterval(keepAlive);
        }
      }
    } finally {
      await anvil?.stop();
    }
  },
};
