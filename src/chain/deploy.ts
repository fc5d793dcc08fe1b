/**
 * Deploys the mycel contracts: MycelToken, NodeRegistry and JobMarket, wired together.
 *
 * The registry must know the market (only it may lock nodes) and the market the registry; neither has an admin
 * that could set the other later. So the market's address is predicted from the deployer's nonce before the
 * registry is deployed, and checked after the market is.
 *
 * ```ts
 * const { token, registry, market } = await deployMycel(walletClient, { resolver, minStake: 100n * 10n ** 18n })
 * ```
 */
import { getAddress, getContractAddress, parseUnits, type Address } from 'viem';
import { getTransactionCount } from 'viem/actions';
import { deployContract } from './clients.js';
import { toMycelError } from './errors.js';
import { DisputeGameAbi, DisputeGameBytecode } from './generated/DisputeGame.js';
import { JobMarketAbi, JobMarketBytecode } from './generated/JobMarket.js';
import { OneStepRefereeAbi, OneStepRefereeBytecode } from './generated/OneStepReferee.js';
import { MycelTokenAbi, MycelTokenBytecode } from './generated/MycelToken.js';
import { NodeRegistryAbi, NodeRegistryBytecode } from './generated/NodeRegistry.js';
import { MycelError } from '../platform/errors.js';
import { assertChain, rpcUrlOf, type MycelWalletClient } from './actions/send.js';

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
  constructor({ predicted, actual }: { predicted: Address; actual: Address }) {
    super(`The JobMarket was deployed at ${actual}, not at the predicted ${predicted}; the registry points to the wrong market.`, {
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
