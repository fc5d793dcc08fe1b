/**
 * contracts/SwarmRollout.sol (through SwarmPrograms.rolloutRun and a harness) against the TypeScript rollout program
 * (src/swarm/rollout-program.ts, rollout-seeds.ts) on anvil: the round's beacon, a question's seed, its addends and
 * uniforms (u = (word >> 8) · 2^-24 as float32), and h_0, h_1 and the run root of a group from the generating
 * policy's leaves.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { bytesToHex, stringToHex, type Address, type Hex, type PublicClient } from 'viem';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { read } from '../../src/chain/actions/send.js';
import { SwarmProgramsAbi, SwarmProgramsBytecode } from '../../src/chain/generated/SwarmPrograms.js';
import { SwarmRolloutHarnessAbi, SwarmRolloutHarnessBytecode } from '../../src/chain/generated/SwarmRolloutHarness.js';
import { roundBeacon } from '../../src/swarm/rollout-seeds.js';
import { evalTokenizer } from '../../src/swarm/eval-program.js';
import { rolloutInputs, rolloutLayout, rolloutRun } from '../../src/swarm/rollout-program.js';
import { rolloutQuestion, rolloutSeed } from '../../src/swarm/rollout-seeds.js';
import { buildProgram, merkleRoot, stateLeaves, type Hash } from '../../src/train/index.js';
import { policySpec } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';

let anvil: Anvil;
let publicClient: PublicClient;
let programs: Address;
let harness: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  const clients = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
  publicClient = clients.publicClient as PublicClient;
  programs = (await deployContract(clients.walletClient, { abi: SwarmProgramsAbi, bytecode: SwarmProgramsBytecode })).address;
  harness = (await deployContract(clients.walletClient, { abi: SwarmRolloutHarnessAbi, bytecode: SwarmRolloutHarnessBytecode })).address;
});

afterAll(() => anvil?.stop());

const onHarness = <T>(functionName: string, args: readonly unknown[]) => read<T>(publicClient, { address: harness, abi: SwarmRolloutHarnessAbi, functionName, args });
const onPrograms = <T>(functionName: string, args: readonly unknown[]) => read<T>(publicClient, { address: programs, abi: SwarmProgramsAbi, functionName, args });
const f32Bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

describe('the rollout draw on chain', () => {
  test('the values rollgen checked with Python: key 0\'s question 1 of round 3 of swarm "test"', async () => {
    const beacon = bytesToHex(roundBeacon('test', 3));
    expect(await onPrograms<Hex>('rolloutBeacon', [stringToHex('test'), 3n])).toBe(beacon);
    const seed = await onHarness<Hex>('seed', [beacon, '0x5Af116cc4A88c30b0FCAA6C700568D53e5727b5f', 1]);
    expect(seed).toBe('0xe59caee482160d17fdd90e7f2ca1849848fff6d63d0950b4b7da744b3631c3eb');
    expect(await onHarness<readonly bigint[]>('question', [seed, 2n])).toEqual([12n, 11n]);
  });

  test('the round beacon is roundBeacon for any swarm id and round', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 2 ** 40 }), async (id, round) => {
        expect(await onPrograms<Hex>('rolloutBeacon', [stringToHex(id), BigInt(round)])).toBe(bytesToHex(roundBeacon(id, round)));
      }),
      { numRuns: 20 },
    );
  });

  test('a uniform is (word >> 8) · 2^-24 in float32, exactly', async () => {
    const edges = [0, 1, 2, 3, 255, 2 ** 23 - 1, 2 ** 23, 2 ** 23 + 1, 2 ** 24 - 1];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 2 ** 24 - 1 })), async (m) => {
        expect(await onHarness<number>('unitFloat', [BigInt(m)])).toBe(f32Bits(m / 2 ** 24));
      }),
      { numRuns: 40 },
    );
  });
});

type Layout = { completions: number; width: number; maxTokens: number; digits: number };

/** h_0, h_1 and the run root of a group by src/swarm/rollout-program.ts (rollgen's): the question of `index` of `author` drawn from `beacon`. */
function programRun(policyLeaves: readonly Hash[], beacon: Uint8Array, author: Uint8Array, index: number, output: { groupHash: string; useful: boolean }, l: Layout) {
  const config = parseSapoConfig({ tasks: [{ name: 'addition', config: { digits: l.digits } }], completions: l.completions, maxTokens: l.maxTokens });
  const seed = rolloutSeed(beacon, author, index);
  const layout = rolloutLayout(config, l.width);
  return rolloutRun(policyLeaves, rolloutInputs(rolloutQuestion(seed, 'addition', config)!, seed, evalTokenizer(), layout), output, layout);
}

describe('SwarmPrograms.rolloutRun computes the rollout program\'s states', () => {
  const policy = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 }, seed: 3, steps: 1 }));
  const policyLeaves = stateLeaves(policy.init());
  const hex = (h: Uint8Array): Hex => bytesToHex(h);

  test('h_0, h_1 and the run root equal rollout-program.ts rolloutRun for generated groups and layouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.boolean(),
        fc.record({ completions: fc.integer({ min: 2, max: 6 }), digits: fc.integer({ min: 1, max: 5 }), maxTokens: fc.integer({ min: 1, max: 12 }), spare: fc.integer({ min: 0, max: 9 }) }),
        async (beacon, author, index, groupHash, useful, k) => {
          const l: Layout = { completions: k.completions, digits: k.digits, maxTokens: k.maxTokens, width: 2 * k.digits + 2 + k.maxTokens + k.spare };
          const want = programRun(policyLeaves, beacon, author, index, { groupHash: bytesToHex(groupHash).slice(2), useful }, l);
          const run = await onPrograms<{ policyHash: Hex; h0: Hex; h1: Hex; runRoot: Hex }>('rolloutRun', [hex(beacon), policyLeaves.map(hex), { author: bytesToHex(author), index, groupHash: hex(groupHash), useful }, l]);
          expect(run).toEqual({ policyHash: hex(merkleRoot(policyLeaves)), h0: `0x${want.h0}`, h1: `0x${want.h1}`, runRoot: `0x${want.runRoot}` });
        },
      ),
      { numRuns: 12 },
    );
  }, 60_000);

  test('a layout whose context cannot hold a question is refused', async () => {
    const run = onPrograms('rolloutRun', [`0x${'00'.repeat(32)}`, policyLeaves.map(hex), { author: `0x${'11'.repeat(20)}`, index: 0, groupHash: `0x${'22'.repeat(32)}`, useful: true }, { completions: 2, width: 9, maxTokens: 4, digits: 2 }]);
    await expect(run).rejects.toThrow(/SwarmRolloutLayout/);
  });
});
