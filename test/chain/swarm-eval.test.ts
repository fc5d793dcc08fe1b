/**
 * contracts/SwarmEval.sol against src/swarm/eval-program.ts on anvil: the same eval data drawn from a beacon, the same
 * h_0 (from the policy's state-tree leaves) and the same score leaf, for several beacons and policies; and the gas of
 * evalH0 for the SAPO policy, which a claim pays.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, Hex, PublicClient } from 'viem';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { read } from '../../src/chain/actions/send.js';
import { SwarmEvalHarnessAbi, SwarmEvalHarnessBytecode } from '../../src/chain/generated/SwarmEvalHarness.js';
import { toHex } from '../../src/platform/sha256.js';
import { runJob, stateHash, stateLeaves, type TrainState } from '../../src/train/index.js';
import { tempStore } from '../train/helpers.js';
import { SWARM_MODEL, buildProgram, policySpec, type PolicyModel } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import { SWARM_EVAL, evalData, evalDataLeaves, evalH0, evalLayout, evalProgram, evalTreeOf, scoreClaim, scoreLeaf } from '../../src/swarm/eval-program.js';

let anvil: Anvil;
let publicClient: PublicClient;
let harness: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  const clients = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
  publicClient = clients.publicClient as PublicClient;
  harness = (await deployContract(clients.walletClient, { abi: SwarmEvalHarnessAbi, bytecode: SwarmEvalHarnessBytecode })).address;
});

afterAll(() => anvil?.stop());

const call = <T>(functionName: string, args: readonly unknown[]) => read<T>(publicClient, { address: harness, abi: SwarmEvalHarnessAbi, functionName, args });
const hex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

const BEACONS: Uint8Array[] = [
  new Uint8Array(32),
  new Uint8Array(32).fill(0xff),
  Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff),
  Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff),
  Uint8Array.from(Buffer.from('6f1c0ac2a53b2e6b0a0d4c1f9e7a4b33c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7', 'hex')),
];

const TINY: PolicyModel = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };

/** A swarm policy of `model`: the SAPO preset's program, `steps` steps pre-trained from `seed`'s init. */
function policy(model: PolicyModel, seed: number, steps: number) {
  const program = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model, seed, steps: Math.max(1, steps), batchSize: 4 }));
  let state: TrainState = program.init();
  for (let t = 0; t < steps; t++) state = program.step(state).state;
  return { program, state };
}

describe('SwarmEval.sol computes what eval-program.ts does', () => {
  test('the layout constants are SWARM_EVAL\'s', async () => {
    const L = evalLayout(SWARM_EVAL);
    expect(await call<readonly bigint[]>('evalLayout', [])).toEqual([BigInt(L.digits), BigInt(L.rows), BigInt(L.generated), BigInt(L.steps)]);
    for (const n of [1, 5, 88]) expect(await call<readonly bigint[]>('scoreLeafIndex', [BigInt(n)])).toEqual([BigInt(evalTreeOf(n).scoreIndex), BigInt(evalTreeOf(n).size)]);
  });

  test.each(BEACONS.map((b, i) => [i, b] as const))('beacon %i: the same questions and eval data leaves', async (_i, beacon) => {
    const { examples } = evalData(beacon);
    for (const [row, { prompt }] of examples.entries()) {
      const [a, b] = await call<readonly [bigint, bigint]>('drawRow', [hex(beacon), BigInt(row)]);
      expect(`${a}+${b}=`).toBe(prompt);
    }
    expect(await call<readonly Hex[]>('dataLeaves', [hex(beacon)])).toEqual(evalDataLeaves(beacon).slice(0, 3).map(hex));
  });

  test('generated beacons: the same eval data leaves (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (beacon) => {
        expect(await call<readonly Hex[]>('dataLeaves', [hex(beacon)])).toEqual(evalDataLeaves(beacon).slice(0, 3).map(hex));
      }),
      { numRuns: 25 },
    );
  });

  test('h_0 and the policy hash agree for several beacons and policies, and are the eval program\'s own', async () => {
    const policies = [policy(TINY, 1, 0), policy(TINY, 2, 3), policy(SWARM_MODEL, 1, 0)];
    for (const { program, state } of policies) {
      const leaves = stateLeaves(state);
      for (const beacon of BEACONS) {
        const ts = evalH0(beacon, leaves);
        const [policyHash, h0] = await call<readonly [Hex, Hex, bigint]>('evalH0', [hex(beacon), leaves.map(hex)]);
        expect(policyHash).toBe(`0x${stateHash(state)}`);
        expect(policyHash).toBe(`0x${ts.policyHash}`);
        expect(h0).toBe(`0x${ts.h0}`);
        // The leaves' root is the real eval program's initial state hash (what its run commits as h_0).
        expect(h0).toBe(`0x${stateHash(evalProgram(program.model, state, beacon).init())}`);
      }
    }
  });

  test('the score leaf agrees for several scores, and is the leaf of a real final state', async () => {
    for (const score of [0, 1, 7, 16, 3.5, -0]) {
      const bits = new Uint32Array(new Float32Array([score]).buffer)[0];
      expect(await call<Hex>('scoreLeaf', [bits])).toBe(hex(scoreLeaf(bits)));
    }
    const { program, state } = policy(TINY, 1, 0);
    const eval_ = evalProgram(program.model, state, BEACONS[2]);
    let s = eval_.init();
    for (let t = 0; t < eval_.spec.steps; t++) s = eval_.step(s).state;
    const leaves = stateLeaves(s);
    const { scoreIndex, size } = evalTreeOf(stateLeaves(state).length);
    expect(leaves.length).toBe(size);
    const bits = new Uint32Array(new Float32Array([eval_.score(s)]).buffer)[0];
    expect(hex(leaves[scoreIndex])).toBe(await call<Hex>('scoreLeaf', [bits]));
  });

  test('a claim\'s openings: the score leaf in the final state, the final state as the run\'s last leaf', async () => {
    const { program, state } = policy(TINY, 2, 1);
    const e = evalProgram(program.model, state, BEACONS[3]);
    const { record, state: final } = await runJob(e, { store: await tempStore() });
    const claim = scoreClaim(record.stepHashes, final);
    expect(claim.runRoot).toBe(record.commitment);
    expect(claim.score).toBe(e.score(final));
    const n = BigInt(stateLeaves(state).length);
    const opens = (o: Partial<typeof claim>) => {
      const x = { ...claim, ...o };
      return call<boolean>('scoreOpens', [`0x${x.runRoot}`, n, x.scoreBits, `0x${x.hFinal}`, x.scoreProof.map((h) => `0x${h}`), x.runProof.map((h) => `0x${h}`)]);
    };
    expect(await opens({})).toBe(true);
    expect(await opens({ scoreBits: new Uint32Array(new Float32Array([claim.score + 1]).buffer)[0] })).toBe(false);
    expect(await opens({ hFinal: record.stepHashes[0] })).toBe(false);
    expect(await opens({ runRoot: record.stepHashes[0] })).toBe(false);
  });

  test('evalH0 of the SAPO policy fits in a claim (printed)', async () => {
    const { state } = policy(SWARM_MODEL, 1, 0);
    const leaves = stateLeaves(state).map(hex);
    const [, , inside] = await call<readonly [Hex, Hex, bigint]>('evalH0', [hex(BEACONS[4]), leaves]);
    const transaction = await publicClient.estimateContractGas({ address: harness, abi: SwarmEvalHarnessAbi, functionName: 'evalH0', args: [hex(BEACONS[4]), leaves], account: anvil.accounts[0].address });
    console.log(`SwarmEval.evalH0, SAPO policy (${leaves.length} leaves, ${SWARM_EVAL.rows} rows): ${inside} gas inside the library, ${transaction} for a transaction calling it (calldata and intrinsic gas included)`);
    expect(transaction).toBeLessThan(1_000_000n);
  });
});
