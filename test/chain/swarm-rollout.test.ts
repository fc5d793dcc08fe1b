/**
 * contracts/SwarmRollout.sol (through SwarmPrograms.rolloutRun and a harness) against the TypeScript rollout program
 * on anvil: the round's beacon, a question's seed, its addends and uniforms (u = (word >> 8) · 2^-24 as float32), and
 * h_0, h_1 and the run root of a group from the generating policy's leaves.
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
import { END_ID, TASKS, beaconWords } from '../../src/data/index.js';
import { evalTokenizer } from '../../src/swarm/eval-program.js';
import { concatBytes } from '../../src/platform/bytes.js';
import { sha256 } from '../../src/platform/sha256.js';
import { chunkRoot } from '../../src/train/tensor-commitment.js';
import { buildProgram, commitmentFromChunkRoot, headerLeaf, merkleRoot, namedLeaf, runCommitment, stateLeaves, tensorLeaf, type Hash } from '../../src/train/index.js';
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

/**
 * The rollout program's h_t built from ROLLOUT.md's spec with the state tree's own functions, independently of the
 * contract: header (t, t), the policy's leaves but its header, prompt [W], answer [K], uniforms [L, K], rows
 * [L, 3, W] (by chunk root), useful [].
 */
function specLeaves(policyLeaves: readonly Hash[], beacon: Uint8Array, author: Hex, index: number, rows: { root: Uint8Array; useful: boolean } | undefined, l: Layout, t: 0 | 1): Hash[] {
  const index4 = new Uint8Array(4);
  new DataView(index4.buffer).setUint32(0, index);
  const seed = sha256(concatBytes([new TextEncoder().encode('mycel.rollout.seed.v1'), beacon, Buffer.from(author.slice(2), 'hex'), index4]));
  const { prompt, answer } = TASKS.addition.fromWords(beaconWords(seed, 0, 2 * l.digits), { digits: l.digits });
  const tokenizer = evalTokenizer();
  const promptIds = new Int32Array(l.width);
  promptIds.set(tokenizer.encode(prompt));
  const answerIds = new Int32Array(l.maxTokens);
  const ids = tokenizer.encode(answer);
  if (ids.length > l.maxTokens) answerIds.fill(-1);
  else {
    answerIds.set(ids);
    if (ids.length < l.maxTokens) answerIds[ids.length] = END_ID;
  }
  const uniforms = new Float32Array(l.completions * l.maxTokens);
  for (let c = 0; c < l.completions; c++) beaconWords(seed, 2 + c, l.maxTokens).forEach((w, i) => (uniforms[c * l.maxTokens + i] = (w >>> 8) * 2 ** -24));
  const rowsRoot = rows?.root ?? chunkRoot(new Float32Array(l.completions * 3 * l.width));
  return [
    headerLeaf(t, t),
    ...policyLeaves.slice(1),
    tensorLeaf('opt.gen.prompt', 'int32', [l.width], promptIds),
    tensorLeaf('opt.gen.answer', 'int32', [l.maxTokens], answerIds),
    tensorLeaf('opt.gen.uniforms', 'float32', [l.completions, l.maxTokens], uniforms),
    namedLeaf('opt.gen.rows', commitmentFromChunkRoot('float32', [l.completions, 3, l.width], rowsRoot)),
    tensorLeaf('opt.gen.useful', 'float32', [], Float32Array.of(rows?.useful ? 1 : 0)),
  ];
}

describe('SwarmPrograms.rolloutRun computes the rollout program\'s states', () => {
  const policy = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 }, seed: 3, steps: 1 }));
  const policyLeaves = stateLeaves(policy.init());
  const hex = (h: Uint8Array): Hex => bytesToHex(h);

  test('h_0, h_1 and the run root equal the spec\'s for generated groups and layouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.boolean(),
        fc.record({ completions: fc.integer({ min: 1, max: 6 }), digits: fc.integer({ min: 1, max: 5 }), maxTokens: fc.integer({ min: 1, max: 12 }), spare: fc.integer({ min: 0, max: 9 }) }),
        async (beacon, authorBytes, index, groupHash, useful, k) => {
          const l: Layout = { completions: k.completions, digits: k.digits, maxTokens: k.maxTokens, width: 2 * k.digits + 2 + k.maxTokens + k.spare };
          const author = bytesToHex(authorBytes);
          const h0 = merkleRoot(specLeaves(policyLeaves, beacon, author, index, undefined, l, 0));
          const h1 = merkleRoot(specLeaves(policyLeaves, beacon, author, index, { root: groupHash, useful }, l, 1));
          const run = await onPrograms<{ policyHash: Hex; h0: Hex; h1: Hex; runRoot: Hex }>('rolloutRun', [hex(beacon), policyLeaves.map(hex), { author, index, groupHash: hex(groupHash), useful }, l]);
          expect(run).toEqual({ policyHash: hex(merkleRoot(policyLeaves)), h0: hex(h0), h1: hex(h1), runRoot: `0x${runCommitment([bytesToHex(h0).slice(2), bytesToHex(h1).slice(2)])}` });
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
