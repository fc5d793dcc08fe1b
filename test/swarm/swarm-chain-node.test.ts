/**
 * The swarm on chain end to end with node processes: three `mycel swarm start --rpc` nodes (the built CLI) on anvil
 * with half-second blocks, a few rounds. Each commits, fixes the beacon, evaluates and claims; every node
 * re-executes every peer's claim (--check 1). One node claims an inflated score (--hostile inflate-score): the
 * honest nodes challenge it and win the dispute on chain, it loses its claim bonds, the honest nodes are paid, and
 * the tokens add up. The nodes train on each other's rollouts: a user's commit logs the used leaves, and their authors
 * prove the use from those logs and collect a use share.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseEventLogs } from 'viem';
import { getContractEvents } from 'viem/actions';
import { swarmGetEntry } from '../../src/chain/index.js';
import { SwarmCoordinatorAbi } from '../../src/chain/generated/SwarmCoordinator.js';
import { SWARM_NODES_CONFIG, SWARM_NODES_ECONOMICS, SWARM_NODES_TIMING } from '../../src/cli/commands/devnet-swarm.js';
import { spawnMycel } from '../cli/spawn-mycel.js';
import { swarmNodesFixture } from './swarm-node-process.js';

const ROUNDS = 3;

const swarm = swarmNodesFixture('swarm-chain-node');
afterAll(() => swarm.stop());

test('three node processes on anvil: commits, claims, an inflated score challenged and slashed on chain, honest nodes paid, tokens add up', async () => {
  // Longer windows than the devnet's: the nodes train (GRPO on peers' rollouts) and evaluate their policy and every
  // peer's, and on a loaded machine (load 15-18) they missed the devnet's 24-block (12 s) commit and claim windows.
  // The coordinator's GRPO step is the nodes' (--split 2/2 --completions 4).
  const chain = await swarm.start({ ...SWARM_NODES_TIMING, commitBlocks: 32, claimBlocks: 36 }, { ...SWARM_NODES_CONFIG, completions: 4 });
  const { publicClient, addresses } = chain;
  const { procs, codes, events: chainEvents, report, tokens } = await swarm.run({
    args: (i) => [
      '--check', '1',
      // Each its own starting policy: a check must fetch the peer's committed policy by CID over libp2p.
      '--model', 'micro', '--seed', String(i + 1), '--split', '2/2', '--reexec', '1', '--rounds', String(ROUNDS),
      // A little pre-training on an easy task, so that some groups hold right and wrong answers: GRPO trains on peers'
      // rollouts (an untrained policy answers nothing right and every group is dropped), and their authors prove the use.
      '--tasks', 'parity', '--pretrain-steps', '60', '--completions', '4',
      ...(i === 2 ? ['--hostile', 'inflate-score'] : []),
    ],
  });
  expect(codes, report).toEqual([0, 0, 0]);

  // Every round each node committed and claimed; the inflater's claims were refuted on chain.
  const claims = chainEvents.map((es) => es.filter((e) => e.action === 'claim'));
  // (A claim window a busy machine missed is the node's loss only: each node claims at least once.)
  for (const c of claims) expect(c.length, report).toBeGreaterThanOrEqual(1);
  expect(claims[2].every((e) => e.score === 16), report).toBe(true);
  const challenges = chainEvents.slice(0, 2).flatMap((es) => es.filter((e) => e.action === 'challenge'));
  // Honest peers' claims were re-executed from their fetched policies and agreed with.
  expect(chainEvents.slice(0, 2).flatMap((es) => es.filter((e) => e.action === 'check' && e.agreed === true)).length, report).toBeGreaterThan(0);
  expect(chainEvents.flat().some((e) => e.action === 'check-skipped'), report).toBe(false);
  expect(challenges.every((e) => e.node === addresses[2]), report).toBe(true);
  expect(challenges.some((e) => e.loser === 'solver'), report).toBe(true);
  expect(challenges.every((e) => e.loser === 'solver' || e.at === 'refuted'), report).toBe(true);
  for (const e of claims[2]) expect((await swarmGetEntry(publicClient, { coordinator: chain.coordinator, round: BigInt(e.round as number), node: addresses[2] })).refuted, report).toBe(true);
  for (const i of [0, 1]) for (const e of claims[i]) expect((await swarmGetEntry(publicClient, { coordinator: chain.coordinator, round: BigInt(e.round as number), node: addresses[i] })).refuted, report).toBe(false);

  // Tokens: the inflater lost a claim bond per claim, honest nodes ended with more; what the nodes gained plus what
  // was burned is what left the coordinator.
  const { net, burned, paidOut } = await tokens();
  console.log(`swarm on chain, ${ROUNDS} rounds: net per node ${net.map((n) => `${Number(n) / 1e18} MYC`).join(', ')}; burned ${Number(burned) / 1e18}; left the coordinator ${Number(paidOut) / 1e18}`);
  expect(net[2], report).toBe(-SWARM_NODES_ECONOMICS.claimBond * BigInt(claims[2].length));
  // An honest node never loses; the challengers of the refuted claims gained (a second challenger of a claim already
  // refuted gets its bond back, or does not challenge it at all).
  expect(net[0] >= 0n && net[1] >= 0n && net[0] + net[1] > 0n, report).toBe(true);
  expect(net[0] + net[1] + net[2] + burned, report).toBe(paidOut);
  const done = procs.map((p) => p.events.find((e) => e.type === 'chain-done'));
  expect(done.map((e) => BigInt(e!.net as string)), report).toEqual(net);

  // Use: a node trained on an honest peer's rollouts (its commit logged their leaves), the peer proved the use from
  // those logs and collected a use share > 0; every proof the nodes made stands on chain; no round paid more than its
  // use part (USE_SHARE_BPS of the round's reward).
  const used = chainEvents.flat().filter((e) => e.action === 'commit' && (e.used as number) > 0);
  expect(used.length, report).toBeGreaterThan(0);
  const proofs = chainEvents.map((es) => es.filter((e) => e.action === 'prove-use'));
  const useCollects = chainEvents.map((es) => es.filter((e) => e.action === 'collect-use'));
  expect(useCollects.slice(0, 2).flat().some((e) => BigInt(e.paid as string) > 0n), report).toBe(true);
  for (const [i, ps] of proofs.entries()) {
    for (const round of new Set(ps.map((e) => e.round as number))) {
      const entry = await swarmGetEntry(publicClient, { coordinator: chain.coordinator, round: BigInt(round), node: addresses[i] });
      expect(entry.uses, report).toBe(ps.filter((e) => e.round === round).length);
    }
  }
  expect(useCollects[2], report).toEqual([]);
  const logs = await getContractEvents(publicClient, { address: chain.coordinator, abi: SwarmCoordinatorAbi, eventName: 'UseCollected', fromBlock: 0n });
  const usePart = (SWARM_NODES_ECONOMICS.rewardPerRound * BigInt(SWARM_NODES_ECONOMICS.useShareBps)) / 10_000n;
  const perRound = new Map<bigint, bigint>();
  for (const l of parseEventLogs({ abi: SwarmCoordinatorAbi, logs, eventName: 'UseCollected' })) perRound.set(l.args.round, (perRound.get(l.args.round) ?? 0n) + l.args.reward);
  for (const paid of perRound.values()) expect(paid <= usePart, report).toBe(true);
  const usePaid = done.map((e) => BigInt(e!.usePaid as string));
  expect(usePaid.reduce((a, b) => a + b, 0n), report).toBe([...perRound.values()].reduce((a, b) => a + b, 0n));
  console.log(`use: ${used.length} commits with used leaves, proofs per node ${proofs.map((p) => p.length).join(', ')}, use share paid per node ${usePaid.map((n) => `${Number(n) / 1e18} MYC`).join(', ')}`);
}, 240_000);

test('a wrong RPC URL is a clear error naming the fix, and no stack trace', async () => {
  const key = join(await mkdtemp(join(tmpdir(), 'mycel-swarm-bad-rpc-')), 'node.key');
  await writeFile(key, `0x${'11'.repeat(32)}`, { mode: 0o600 });
  const run = await spawnMycel(['swarm', 'start', '--rpc', 'http://127.0.0.1:9', '--key-file', key, '--coordinator', '0x0000000000000000000000000000000000000001', '--model', 'micro', '--pretrain-steps', '0', '--data-dir', join(tmpdir(), 'mycel-swarm-chain-bad-rpc')]);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/No EVM JSON-RPC node answers at http:\/\/127.0.0.1:9/);
  expect(run.stderr).toMatch(/Check the URL/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
});

test('mycel devnet --swarm-nodes refuses the market scenario\'s flags with a clear message', async () => {
  const run = await spawnMycel(['devnet', '--swarm-nodes', '--steps', '3']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--steps is about the devnet's market scenario; --swarm-nodes runs only the swarm's node processes/);
});
