/**
 * Deploys the mycel contracts: MycelToken, NodeRegistry and JobMarket, wired together; and a SwarmCoordinator beside
 * them (deploySwarmCoordinator), its reward pool funded at deployment.
 *
 * The registry must know the market (only it may lock nodes) and the market the registry; neither has an admin
 * that could set the other later. So the market's address is predicted from the deployer's nonce before the
 * registry is deployed, and checked after the market is.
 *
 * ```ts
 * const { token, registry, market } = await deployMycel(walletClient, { resolver, minStake: 100n * 10n ** 18n })
 * ```
 */
import { getAddress, getContractAddress, parseUnits, stringToHex, type Address, type Hex } from 'viem';
import { getTransactionCount } from 'viem/actions';
import { deployContract } from './clients.js';
import { toMycelError } from './errors.js';
import { DisputeGameAbi, DisputeGameBytecode } from './generated/DisputeGame.js';
import { JobMarketAbi, JobMarketBytecode } from './generated/JobMarket.js';
import { OneStepRefereeAbi, OneStepRefereeBytecode } from './generated/OneStepReferee.js';
import { MycelTokenAbi, MycelTokenBytecode } from './generated/MycelToken.js';
import { NodeRegistryAbi, NodeRegistryBytecode } from './generated/NodeRegistry.js';
import { SwarmCoordinatorAbi, SwarmCoordinatorBytecode } from './generated/SwarmCoordinator.js';
import { SwarmProgramsAbi, SwarmProgramsBytecode } from './generated/SwarmPrograms.js';
import { swarmAvailabilityAddress } from './actions/swarm-availability.js';
import type { SwarmProgramOnChain } from './actions/swarm-read.js';
import { MycelError } from '../platform/errors.js';
import { assertChain, rpcUrlOf, send, type MycelWalletClient } from './actions/send.js';

export type DeployMycelParameters = {
  /** The dispute game (an IDisputeResolver). Fixed for the market's lifetime. Give this or `disputeGame`. */
  resolver?: Address;
  /**
   * Deploy the real on-chain game (contracts/DisputeGame.sol) as the market's resolver: `referee` is an
   * OneStepReferee (deployed here when left out), `clock` each party's chess clock: the blocks it has for all its
   * moves of one dispute (default 50,400: a week of 12-second blocks, time for an honest node to come back from a
   * restart; a dispute ends within twice that).
   */
  disputeGame?: { referee?: Address; clock?: number };
  /** Token supply, minted once to `holder`; default 1,000,000,000 tokens (18 decimals). */
  supply?: bigint;
  /** Default: the deploying account. */
  holder?: Address;
  name?: string;
  symbol?: string;
  /** Least node bond; default 100 tokens. */
  minStake?: bigint;
  /** Blocks from requestWithdraw to withdraw; default 50,400 (7 days of 12-second blocks). */
  unbondingDelay?: bigint;
  /** The least challenge window a job may ask for, in blocks; default 600 (2 hours of 12-second blocks). */
  minChallengeWindow?: bigint;
};

export type DeployMycelReturnType = {
  token: Address;
  registry: Address;
  market: Address;
  gasUsed: { token: bigint; registry: bigint; market: bigint; referee?: bigint; disputeGame?: bigint };
  /** With `disputeGame`: the game (also the market's resolver) and its referee. */
  disputeGame?: Address;
  referee?: Address;
};

/** The predicted market address was not where the market landed (another transaction used the nonce). */
export class MycelDeployError extends MycelError {
  override name = 'MycelDeployError';
  constructor({ predicted, actual, contract = 'JobMarket' }: { predicted: Address; actual: Address; contract?: 'JobMarket' | 'SwarmCoordinator' }) {
    const consequence = contract === 'JobMarket' ? 'the registry points to the wrong market' : 'the pool was approved for another address';
    super(`The ${contract} was deployed at ${actual}, not at the predicted ${predicted}; ${consequence}.`, {
      metaMessages: ['Deploy from an account that sends nothing else meanwhile, and deploy again.'],
    });
  }
}

/**
 * Deploys MycelToken, NodeRegistry and JobMarket from the client's account.
 * @throws ChainUnreachableError, WrongChainError, AccountUnfundedError, MycelDeployError
 */
export async function deployMycel(client: MycelWalletClient, params: DeployMycelParameters): Promise<DeployMycelReturnType> {
  await assertChain(client);
  const from = client.account.address;
  const ctx = { functionName: 'deployMycel', rpcUrl: rpcUrlOf(client), account: from };
  try {
    const token = await deployContract(client, {
      abi: MycelTokenAbi,
      bytecode: MycelTokenBytecode,
      args: [params.name ?? 'Mycel', params.symbol ?? 'MYC', params.holder ?? from, params.supply ?? parseUnits('1000000000', 18)],
    });
    if (!params.resolver === !params.disputeGame) throw new TypeError('deployMycel needs exactly one of resolver and disputeGame');
    const nonce = await getTransactionCount(client, { address: from, blockTag: 'pending' });
    // Deployed before the registry when asked for: the referee (unless given) and the game.
    const before = params.disputeGame ? (params.disputeGame.referee ? 1 : 2) : 0;
    const predicted = getContractAddress({ from, nonce: BigInt(nonce + before + 1) });
    let resolver = params.resolver;
    const extra: Pick<DeployMycelReturnType, 'disputeGame' | 'referee'> = {};
    const extraGas: { referee?: bigint; disputeGame?: bigint } = {};
    if (params.disputeGame) {
      let referee = params.disputeGame.referee;
      if (!referee) {
        const r = await deployContract(client, { abi: OneStepRefereeAbi, bytecode: OneStepRefereeBytecode });
        referee = r.address;
        extraGas.referee = r.gasUsed;
      }
      const game = await deployContract(client, {
        abi: DisputeGameAbi,
        bytecode: DisputeGameBytecode,
        args: [referee, params.disputeGame.clock ?? 50_400],
      });
      resolver = game.address;
      extraGas.disputeGame = game.gasUsed;
      extra.disputeGame = getAddress(game.address);
      extra.referee = getAddress(referee);
    }
    const registry = await deployContract(client, {
      abi: NodeRegistryAbi,
      bytecode: NodeRegistryBytecode,
      args: [token.address, predicted, params.minStake ?? parseUnits('100', 18), params.unbondingDelay ?? 50_400n],
    });
    const market = await deployContract(client, {
      abi: JobMarketAbi,
      bytecode: JobMarketBytecode,
      args: [token.address, registry.address, resolver!, params.minChallengeWindow ?? 600n],
    });
    if (market.address.toLowerCase() !== predicted.toLowerCase()) throw new MycelDeployError({ predicted, actual: market.address });
    return {
      token: getAddress(token.address),
      registry: getAddress(registry.address),
      market: getAddress(market.address),
      gasUsed: { token: token.gasUsed, registry: registry.gasUsed, market: market.gasUsed, ...extraGas },
      ...extra,
    };
  } catch (error) {
    throw toMycelError(error, ctx);
  }
}

export type DeploySwarmCoordinatorParameters = {
  token: Address;
  registry: Address;
  /** The dispute game (an IDisputeResolver; DisputeGame, deployed by deployMycel with `disputeGame`). */
  game: Address;
  /** Round lengths in blocks; `start` (default: the deployment's block) is round 0's first commit block. */
  timing: { start?: bigint; commitBlocks: number; claimBlocks: number; challengeBlocks: number };
  /** Bonds (the claim bond is also each challenge's), reward per round, paid rounds, use share in basis points. */
  economics: { commitBond: bigint; claimBond: bigint; rewardPerRound: bigint; rounds: number; useShareBps: number };
  /** The programs admitted, one entry per model config (node/swarm-chain.ts swarmProgramOf). */
  programs: readonly SwarmProgramOnChain[];
  /** The swarm's id (1 to 32 bytes of UTF-8): its rounds' rollout beacons are roundBeacon(swarmId, round), as its nodes draw their questions. */
  swarmId: string;
};

export type DeploySwarmCoordinatorReturnType = {
  coordinator: Address;
  /** The SwarmPrograms the coordinator computes its programs' state hashes with (deployed first, for it). */
  swarmPrograms: Address;
  /** The SwarmAvailability the coordinator's constructor created (its data-availability requests). */
  availability: Address;
  pool: bigint;
  /** The coordinator's deployment; `swarmProgramsGas` the SwarmPrograms'. */
  gasUsed: bigint;
  swarmProgramsGas: bigint;
};

/**
 * Deploys the SwarmCoordinator from the client's account, which funds its reward pool (rewardPerRound x rounds) at
 * deployment: the account approves the coordinator's address (predicted from its nonce) for the pool, and the
 * constructor pulls it. Its SwarmPrograms (the programs' state hashing, a contract of its own for room) is deployed
 * just before it; its SwarmAvailability (data-availability requests, also for room) is created by its constructor.
 * @throws ChainUnreachableError, WrongChainError, AccountUnfundedError, ContractRevertError, MycelDeployError
 */
export async function deploySwarmCoordinator(client: MycelWalletClient, params: DeploySwarmCoordinatorParameters): Promise<DeploySwarmCoordinatorReturnType> {
  await assertChain(client);
  const from = client.account.address;
  const ctx = { functionName: 'deploySwarmCoordinator', rpcUrl: rpcUrlOf(client), account: from };
  try {
    const e = params.economics;
    const pool = e.rewardPerRound * BigInt(e.rounds);
    const programs = await deployContract(client, { abi: SwarmProgramsAbi, bytecode: SwarmProgramsBytecode });
    const nonce = await getTransactionCount(client, { address: from, blockTag: 'pending' });
    const predicted = getContractAddress({ from, nonce: BigInt(nonce + (pool > 0n ? 1 : 0)) });
    if (pool > 0n) await send(client, { address: params.token, abi: MycelTokenAbi, functionName: 'approve', args: [predicted, pool] });
    const t = params.timing;
    const deployed = await deployContract(client, {
      abi: SwarmCoordinatorAbi,
      bytecode: SwarmCoordinatorBytecode,
      args: [
        params.token,
        params.registry,
        params.game,
        programs.address,
        { start: t.start ?? 0n, commitBlocks: t.commitBlocks, claimBlocks: t.claimBlocks, challengeBlocks: t.challengeBlocks },
        e,
        params.programs,
        stringToHex(params.swarmId),
      ],
    });
    if (deployed.address.toLowerCase() !== predicted.toLowerCase()) throw new MycelDeployError({ predicted, actual: deployed.address, contract: 'SwarmCoordinator' });
    return { coordinator: getAddress(deployed.address), swarmPrograms: getAddress(programs.address), availability: swarmAvailabilityAddress(getAddress(deployed.address)), pool, gasUsed: deployed.gasUsed, swarmProgramsGas: programs.gasUsed };
  } catch (error) {
    throw toMycelError(error, ctx);
  }
}
