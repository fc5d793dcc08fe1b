/**
 * `mycel devnet --swarm-nodes`: the swarm on chain alone, with node processes. An embedded anvil (half-second blocks,
 * transactions mined at once too), the contracts and a SwarmCoordinator for the micro policy model, three registered
 * accounts whose keys are three `mycel swarm start --rpc` processes' identities; the last claims an inflated score.
 * They play a few rounds (commit, beacon, claim, re-execute every peer's claim, challenge, dispute, collect); the
 * summary is each node's commits, claims, challenges and net MYC, what was burned and what left the pool, all read
 * from the chain.
 *
 * Why not inside `npm start` (or `--swarm-only`, its in-process swarm round alone, node/devnet-swarm.ts, whose windows
 * are mined through at once): the swarm's rounds on blocks (a commit window, then claim and challenge windows that
 * evaluations and disputes must fit on a loaded machine) take about a minute of their own, and `npm start` already
 * takes most of its 2-minute budget.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatUnits, parseUnits, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { startAnvil } from '../../chain/anvil.js';
import { createClients } from '../../chain/clients.js';
import { deployMycel, deploySwarmCoordinator } from '../../chain/deploy.js';
import { send, type MycelWalletClient } from '../../chain/actions/send.js';
import { approve, register } from '../../chain/index.js';
import { MycelTokenAbi } from '../../chain/generated/MycelToken.js';
import { swarmProgramOf } from '../../node/swarm-chain.js';
import { MycelError } from '../../platform/errors.js';
import type { CommandContext } from '../command.js';
import { SAPO_MODELS } from './sapo-flags.js';
import { SWARM_START_TEMPERATURE, parseSapoConfig, type SapoConfig } from '../../swarm/sapo-config.js';
import { startNode } from './swarm-local.js';

const T = (n: number) => parseUnits(String(n), 18);
const MODEL = 'micro';
const NAMES = ['honest-1', 'honest-2', 'inflater'];

export type SwarmDevnetNode = { name: string; address: Address; committed: number; claimed: number; challenged: number; challengesWon: number; defended: number; net: string };
export type SwarmDevnetSummary = { type: 'swarm-devnet'; rounds: number; coordinator: string; nodes: SwarmDevnetNode[]; burned: string; poolPaid: string; seconds: number };

/** The SwarmCoordinator's round lengths and economics the swarm's node processes play with (devnet and tests). */
export const SWARM_NODES_TIMING = { commitBlocks: 24, claimBlocks: 24, challengeBlocks: 30 };
/** The swarm config the node processes run with (--tasks addition --split 2/2 --completions 2): the coordinator's GRPO step and rollout program are theirs. */
export const SWARM_NODES_CONFIG = parseSapoConfig({ tasks: [{ name: 'addition' }], own: 2, external: 2, completions: 2, temperature: SWARM_START_TEMPERATURE });
export const SWARM_NODES_ECONOMICS = { commitBond: T(1), claimBond: T(10), rewardPerRound: T(100), rounds: 20, useShareBps: 2_000 };

export type SwarmNodesChain = Awaited<ReturnType<typeof startSwarmNodesChain>>;

/**
 * What the swarm's node processes play on: an embedded anvil (half-second blocks, transactions mined at once too), the
 * contracts, accounts 1-3 funded and registered as nodes, and a coordinator for the micro policy model whose round 0
 * starts 300 blocks on, time for the nodes to start (`mineToStart` then mines up to it); `timing` its windows, `config`
 * the swarm config its GRPO step is deployed for (the nodes' --split and --completions). `balance` and `supply` read the
 * token, for the summary's sums. The caller stops the anvil.
 */
export async function startSwarmNodesChain(timing: typeof SWARM_NODES_TIMING = SWARM_NODES_TIMING, config: SapoConfig = SWARM_NODES_CONFIG) {
  const anvil = await startAnvil({ gasLimit: 1_000_000_000n, args: ['--block-time', '0.5', '--mixed-mining'] });
  try {
    const clients = anvil.accounts.map((a) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }));
    const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
    const { publicClient, testClient } = clients[0];
    const d = await deployMycel(wallets[0], { disputeGame: { clock: 120 }, minStake: T(100), unbondingDelay: 1_000n, minChallengeWindow: 50n });
    const accounts = [1, 2, 3];
    for (const i of accounts) {
      await send(wallets[0], { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [wallets[i].account.address, T(1_000)] });
      await approve(wallets[i], { token: d.token, spender: d.registry, amount: T(100) });
      await register(wallets[i], { registry: d.registry, stake: T(100) });
    }
    const start = (await publicClient.getBlockNumber()) + 300n;
    const swarm = await deploySwarmCoordinator(wallets[0], { token: d.token, registry: d.registry, game: d.disputeGame!, timing: { start, ...timing }, economics: SWARM_NODES_ECONOMICS, programs: [swarmProgramOf(SAPO_MODELS[MODEL], config)], swarmId: config.swarmId });
    return {
      anvil,
      publicClient,
      coordinator: swarm.coordinator,
      start,
      /** The nodes' private keys and addresses (accounts 1-3). */
      keys: accounts.map((i) => anvil.accounts[i].privateKey),
      addresses: accounts.map((i) => wallets[i].account.address),
      balance: (who: Address) => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] }),
      supply: () => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'totalSupply' }),
      /** Mines up to just before round 0, once every node is up (none of them joins late). */
      async mineToStart() {
        for (let left = Number(start - 4n - (await publicClient.getBlockNumber())); left > 0; left -= 100) await testClient.mine({ blocks: Math.min(left, 100) });
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

export async function runSwarmDevnet({ out, signal }: Pick<CommandContext, 'out' | 'signal'>, o: { rounds: number; dir: string; pretrainSteps: number }): Promise<SwarmDevnetSummary> {
  const started = performance.now();
  const chain = await startSwarmNodesChain();
  const { anvil, addresses, balance, supply } = chain;
  const children: ReturnType<typeof startNode>[] = [];
  const stopAll = () => children.forEach((c) => c.stop());
  signal.addEventListener('abort', stopAll, { once: true });
  try {
    out.log(`anvil ${anvil.rpcUrl}; coordinator ${chain.coordinator}: rounds of ${SWARM_NODES_TIMING.commitBlocks} half-second blocks, claim ${SWARM_NODES_TIMING.claimBlocks}, challenge ${SWARM_NODES_TIMING.challengeBlocks}`);
    const before = await Promise.all(addresses.map(balance));
    const pool0 = await balance(chain.coordinator);
    const supply0 = await supply();

    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    const events: Record<string, unknown>[][] = addresses.map(() => []);
    const onEvent = (i: number, e: Record<string, unknown>) => {
      events[i].push(e);
      if (e.type === 'chain' && e.action !== 'retry') out.log(`${NAMES[i].padEnd(9)} ${typeof e.message === 'string' ? e.message : `round ${String(e.round)}: ${String(e.action)}${e.score !== undefined ? ` score ${String(e.score)}` : ''}${e.loser ? ` (${String(e.loser)} lost at ${String(e.at)})` : ''}`}`);
    };
    const args = async (i: number) => {
      const key = join(o.dir, `${NAMES[i]}.key`);
      await writeFile(key, chain.keys[i], { mode: 0o600 });
      return ['--rpc', anvil.rpcUrl, '--key-file', key, '--coordinator', chain.coordinator, '--check', '1', '--model', MODEL, '--pretrain-steps', String(o.pretrainSteps), '--tasks', 'addition', '--split', '2/2', '--completions', '2', '--reexec', '1', '--rounds', String(o.rounds), '--data-dir', join(o.dir, NAMES[i]), '--port', '0', '--host', '127.0.0.1', '--json'];
    };
    children.push(startNode(0, await args(0), onEvent));
    const bootstrap = ((await children[0].ready).multiaddrs as string[])[0];
    children.push(startNode(1, [...(await args(1)), '--bootstrap', bootstrap], onEvent));
    children.push(startNode(2, [...(await args(2)), '--bootstrap', bootstrap, '--hostile', 'inflate-score'], onEvent));
    await Promise.all(children.map((c) => c.ready));
    await chain.mineToStart();
    out.log(`3 swarm nodes up; round 0 starts at block ${chain.start}`);
    await Promise.all(children.map((c) => c.exited));

    const after = await Promise.all(addresses.map(balance));
    const nodes = addresses.map((address, i): SwarmDevnetNode => {
      const done = events[i].find((e) => e.type === 'chain-done');
      if (!done) throw new MycelError(`The swarm node ${NAMES[i]} ended without settling its rounds on chain.`, { metaMessages: [`Its data and log are in ${join(o.dir, NAMES[i])}.`] });
      return { name: NAMES[i], address, committed: Number(done.committed), claimed: Number(done.claimed), challenged: Number(done.challenged), challengesWon: Number(done.challengesWon), defended: Number(done.defended), net: formatUnits(after[i] - before[i], 18) };
    });
    return { type: 'swarm-devnet', rounds: o.rounds, coordinator: chain.coordinator, nodes, burned: formatUnits(supply0 - (await supply()), 18), poolPaid: formatUnits(pool0 - (await balance(chain.coordinator)), 18), seconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    stopAll();
    signal.removeEventListener('abort', stopAll);
    await Promise.allSettled(children.map((c) => c.exited));
    await anvil.stop();
  }
}

export function formatSwarmSummary(s: SwarmDevnetSummary): string {
  return [
    `The swarm on chain: ${s.rounds} rounds, coordinator ${s.coordinator}, ${s.seconds} s`,
    'node       commits  claims  challenges (won)  disputes defended  net MYC',
    ...s.nodes.map((n) => `${n.name.padEnd(9)}  ${String(n.committed).padStart(7)}  ${String(n.claimed).padStart(6)}  ${String(n.challenged).padStart(10)} (${n.challengesWon})  ${String(n.defended).padStart(17)}  ${n.net}`),
    `burned ${s.burned} MYC; paid from the pool ${s.poolPaid} MYC`,
  ].join('\n');
}
