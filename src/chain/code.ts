/**
 * Checking a deployment's code against this build before trusting it. A market is only as honest as the contracts
 * behind its addresses: a JobMarket wired to a resolver where anyone picks the winner answers every call a real one
 * answers. So a node reads the runtime code at each address (market, its resolver the DisputeGame, the game's
 * OneStepReferee, the token, the registry) and compares it, immutables masked, with the code this build compiled;
 * then it checks the wiring that the immutables hold (the market's token, registry and resolver; the game's referee;
 * the registry's market and token), which the verified code reports truthfully.
 *
 * ```ts
 * const { referee } = await checkDeployment(publicClient, { token, registry, market, disputeGame })
 * ```
 */
import { getAddress, keccak256, type Address, type Hex, type PublicClient } from 'viem';
import { getCode, readContract } from 'viem/actions';
import { MycelError } from '../platform/errors.js';
import { DisputeGameAbi, DisputeGameDeployedBytecode, DisputeGameImmutables } from './generated/DisputeGame.js';
import { JobMarketAbi, JobMarketDeployedBytecode, JobMarketImmutables } from './generated/JobMarket.js';
import { MycelTokenDeployedBytecode, MycelTokenImmutables } from './generated/MycelToken.js';
import { NodeRegistryAbi, NodeRegistryDeployedBytecode, NodeRegistryImmutables } from './generated/NodeRegistry.js';
import { OneStepRefereeDeployedBytecode, OneStepRefereeImmutables } from './generated/OneStepReferee.js';
import { swarmAvailabilityAddress } from './actions/swarm-availability.js';
import { SwarmAvailabilityDeployedBytecode, SwarmAvailabilityImmutables } from './generated/SwarmAvailability.js';
import { SwarmCoordinatorAbi, SwarmCoordinatorDeployedBytecode, SwarmCoordinatorImmutables } from './generated/SwarmCoordinator.js';
import { SwarmProgramsDeployedBytecode, SwarmProgramsImmutables } from './generated/SwarmPrograms.js';

type Built = { deployed: Hex; immutables: readonly (readonly [number, number])[] };

/** The runtime code of each contract a node uses, as this build compiled it. */
export const BUILT_CODE = {
  JobMarket: { deployed: JobMarketDeployedBytecode, immutables: JobMarketImmutables },
  DisputeGame: { deployed: DisputeGameDeployedBytecode, immutables: DisputeGameImmutables },
  OneStepReferee: { deployed: OneStepRefereeDeployedBytecode, immutables: OneStepRefereeImmutables },
  MycelToken: { deployed: MycelTokenDeployedBytecode, immutables: MycelTokenImmutables },
  NodeRegistry: { deployed: NodeRegistryDeployedBytecode, immutables: NodeRegistryImmutables },
  SwarmCoordinator: { deployed: SwarmCoordinatorDeployedBytecode, immutables: SwarmCoordinatorImmutables },
  SwarmPrograms: { deployed: SwarmProgramsDeployedBytecode, immutables: SwarmProgramsImmutables },
  SwarmAvailability: { deployed: SwarmAvailabilityDeployedBytecode, immutables: SwarmAvailabilityImmutables },
} as const satisfies Record<string, Built>;

export type ContractName = keyof typeof BUILT_CODE;

/** The code hash a contract of this build has once its immutables are zeroed (what checkCode compares). */
export const builtCodeHash = (name: ContractName): Hex => keccak256(BUILT_CODE[name].deployed);

/** keccak256 of `code` with the byte ranges of `built`'s immutables zeroed. */
export function maskedCodeHash(code: Hex, built: Built): Hex {
  let hex = code.slice(2);
  for (const [start, length] of built.immutables) {
    if ((start + length) * 2 > hex.length) break; // shorter code: the hashes differ anyway
    hex = hex.slice(0, start * 2) + '0'.repeat(length * 2) + hex.slice((start + length) * 2);
  }
  return keccak256(`0x${hex}`);
}

/** The code at an address is not the contract of this build that the node expected there. */
export class ContractCodeMismatchError extends MycelError {
  override name = 'ContractCodeMismatchError';
  constructor({ address, role, contract, actual, expected }: { address: Address; role: string; contract: ContractName; actual: Hex | undefined; expected: Hex }) {
    super(
      actual === undefined
        ? `There is no contract at ${address} (${role}); a mycel ${contract} was expected there.`
        : `The code at ${address} (${role}) is not this build's ${contract}: its code hash (immutables masked) is ${actual}, not ${expected}.`,
      {
        metaMessages: [
          'This node refuses to use it: a market wired to other code could let anyone pick the winner of a dispute, or pay a wrong result.',
          'If it is a mycel deployment of another version, run the mycel version that deployed it; otherwise deploy your own with `mycel chain deploy`, or check the address and --rpc.',
        ],
      },
    );
  }
}

/** The deployment's contracts are not wired to each other (an address in the file is not the one the market uses). */
export class ContractWiringError extends MycelError {
  override name = 'ContractWiringError';
  constructor({ what, expected, actual }: { what: string; expected: Address; actual: Address }) {
    super(`${what} is ${actual}, not ${expected}.`, {
      metaMessages: ['The contract addresses do not belong to one deployment: take them all from `mycel chain deploy --json` (or pass --market ADDR alone).'],
    });
  }
}

/**
 * Throws ContractCodeMismatchError unless the runtime code at `address` is this build's `contract` (immutables masked).
 * `role` names the address in the error ("the market's resolver").
 */
export async function checkCode(client: PublicClient, { address, contract, role }: { address: Address; contract: ContractName; role: string }): Promise<void> {
  const code = await getCode(client, { address });
  const expected = builtCodeHash(contract);
  const actual = code && code !== '0x' ? maskedCodeHash(code, BUILT_CODE[contract]) : undefined;
  if (actual !== expected) throw new ContractCodeMismatchError({ address: getAddress(address), role, contract, actual, expected });
}

export type Deployment = { token: Address; registry: Address; market: Address; disputeGame: Address };

/**
 * Checks every contract of a deployment against this build and against each other: the market's code, then what it
 * points to (token, registry, resolver: each the given address and this build's contract), the game's referee, and the
 * back-pointers (the registry's market and token). Returns the referee's address.
 * @throws ContractCodeMismatchError, ContractWiringError
 */
export async function checkDeployment(client: PublicClient, d: Deployment): Promise<{ referee: Address }> {
  await checkCode(client, { address: d.market, contract: 'JobMarket', role: 'the market' });
  const read = <T>(address: Address, abi: typeof JobMarketAbi | typeof DisputeGameAbi | typeof NodeRegistryAbi, functionName: string) =>
    readContract(client, { address, abi, functionName } as Parameters<typeof readContract>[1]) as Promise<T>;
  const same = (what: string, expected: Address, actual: Address) => {
    if (getAddress(actual) !== getAddress(expected)) throw new ContractWiringError({ what, expected: getAddress(expected), actual: getAddress(actual) });
  };
  const [token, registry, resolver] = await Promise.all([
    read<Address>(d.market, JobMarketAbi, 'TOKEN'),
    read<Address>(d.market, JobMarketAbi, 'REGISTRY'),
    read<Address>(d.market, JobMarketAbi, 'RESOLVER'),
  ]);
  same(`The market ${d.market}'s token`, d.token, token);
  same(`The market ${d.market}'s registry`, d.registry, registry);
  same(`The market ${d.market}'s dispute resolver`, d.disputeGame, resolver);
  await checkCode(client, { address: resolver, contract: 'DisputeGame', role: "the market's dispute resolver" });
  await checkCode(client, { address: token, contract: 'MycelToken', role: "the market's token" });
  await checkCode(client, { address: registry, contract: 'NodeRegistry', role: "the market's node registry" });
  const [referee, registryMarket, registryToken] = await Promise.all([
    read<Address>(resolver, DisputeGameAbi, 'REFEREE'),
    read<Address>(registry, NodeRegistryAbi, 'MARKET'),
    read<Address>(registry, NodeRegistryAbi, 'TOKEN'),
  ]);
  same(`The registry ${registry}'s market`, d.market, registryMarket);
  same(`The registry ${registry}'s token`, d.token, registryToken);
  await checkCode(client, { address: referee, contract: 'OneStepReferee', role: "the DisputeGame's one-step referee" });
  return { referee: getAddress(referee) };
}

/**
 * Checks a swarm coordinator before a node commits to it: this build's SwarmCoordinator (its rules, bonds and pool
 * are in its code and immutables: no admin can change them), on the deployment's token, registry and game (checked
 * with checkDeployment), computing its programs' state hashes with this build's SwarmPrograms, its data-availability
 * requests served by this build's SwarmAvailability at the address its constructor created it at (which the actions
 * compute: swarmAvailabilityAddress).
 * @throws ContractCodeMismatchError, ContractWiringError
 */
export async function checkCoordinator(client: PublicClient, o: { coordinator: Address } & Omit<Deployment, 'market'>): Promise<void> {
  await checkCode(client, { address: o.coordinator, contract: 'SwarmCoordinator', role: 'the swarm coordinator' });
  const read = (functionName: 'TOKEN' | 'REGISTRY' | 'GAME' | 'PROGRAMS' | 'AVAILABILITY') => readContract(client, { address: o.coordinator, abi: SwarmCoordinatorAbi, functionName });
  const [token, registry, game, programs, availability] = await Promise.all([read('TOKEN'), read('REGISTRY'), read('GAME'), read('PROGRAMS'), read('AVAILABILITY')]);
  await checkCode(client, { address: programs, contract: 'SwarmPrograms', role: "the swarm coordinator's SwarmPrograms" });
  await checkCode(client, { address: availability, contract: 'SwarmAvailability', role: "the swarm coordinator's SwarmAvailability" });
  const wired = [['token', o.token, token], ['registry', o.registry, registry], ['dispute game', o.disputeGame, game], ['SwarmAvailability', swarmAvailabilityAddress(o.coordinator), availability]] as const;
  for (const [what, expected, actual] of wired) {
    if (getAddress(actual) !== getAddress(expected)) throw new ContractWiringError({ what: `The swarm coordinator ${o.coordinator}'s ${what}`, expected: getAddress(expected), actual: getAddress(actual) });
  }
}
