// `npm run bench -- chain [--json]`: gas of the chain's actions, each a real transaction on a local anvil (default
// hardfork): one OneStepReferee.ruleAndEmit per element-machine opcode (a load with its chunk and state-tree
// proofs: a 64 Ki-element tensor, an 8-hash chunk path and a 5-hash path in a 20-leaf state tree), then the
// JobMarket actions (register, post, claim, commit, challenge, finalize) with MockResolver as the dispute game.
// Last, a full dispute on chain: a TS game (a solver that flipped one op output of step 3 of the micro job) replayed
// move by move on the real DisputeGame behind the JobMarket (test/chain/dispute-replay.ts): one row per move, then
// dispute_total (gas of all game moves, rounds, seconds of the on-chain replay).
import { getAddress, parseUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../src/chain/anvil.js';
import { createClients, deployContract } from '../src/chain/clients.js';
import { deployMycel } from '../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../src/chain/actions/send.js';
import { approve, challenge, claimJob, commitRoot, finalize, postJob, register } from '../src/chain/index.js';
import { MockResolverAbi, MockResolverBytecode } from '../src/chain/generated/MockResolver.js';
import { MycelTokenAbi } from '../src/chain/generated/MycelToken.js';
import { OneStepRefereeAbi, OneStepRefereeBytecode } from '../src/chain/generated/OneStepReferee.js';
import { EMPTY_LOAD, encodeInstructionHex, encodeStateHex, type RuleArgs } from '../src/chain/referee.js';
import { stateHashOf } from '../src/verify/index.js';
import { machineCases, OPCODES, syntheticLoad } from '../test/chain/referee-harness.js';
import { adversary, playGame, replayParty } from '../src/verify/index.js';
import { honest, rules, runOf } from '../test/verify/game-helpers.js';
import { acceptedMoves, openJobDispute, replayOnChain, setupGameChain } from '../test/chain/dispute-replay.js';
import { makeReporter } from './report.js';

const T = (n: number) => parseUnits(String(n), 18);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- chain [--json]   (gas per one-step ruling and per JobMarket action, on anvil)');
    return;
  }
  const report = makeReporter(args);
  const anvil = await startAnvil();
  try {
    const wallets = anvil.accounts.map(
      (a) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }).walletClient as MycelWalletClient,
    );
    const { address: referee, gasUsed: refereeDeploy } = await deployContract(wallets[0], { abi: OneStepRefereeAbi, bytecode: OneStepRefereeBytecode });
    report({ action: 'deploy_referee', gas: Number(refereeDeploy) });

    const ruleTx = async (ruleArgs: RuleArgs) =>
      (await send(wallets[0], { address: referee, abi: OneStepRefereeAbi, functionName: 'ruleAndEmit', args: ruleArgs })).gasUsed;
    for (const op of OPCODES) {
      if (op === 'load') continue;
      // Case 1 of the differential tests' generator: not halted, registers mixing special and random words.
      const c = machineCases(op, 2, 1000 + OPCODES.indexOf(op))[1];
      const ins = c.program[c.state.pc];
      const ruleArgs: RuleArgs = [
        encodeStateHex(c.state),
        encodeInstructionHex(ins),
        {
          agreed: `0x${stateHashOf(c.state)}`,
          nodeSolver: `0x${'ab'.repeat(32)}`,
          nodeChallenger: `0x${c.post}`,
          hPrev: ZERO,
          stepRootSolver: ZERO,
          stepRootChallenger: ZERO,
          batchCommitment: ZERO,
        },
        EMPTY_LOAD,
      ];
      report({ action: 'one_step', instruction: op, gas: Number(await ruleTx(ruleArgs)) });
    }
    report({ action: 'one_step', instruction: 'load', proof: 'state tree, 65536-element tensor', gas: Number(await ruleTx(syntheticLoad().args)) });
    report({
      action: 'one_step', instruction: 'load', proof: 'state tree, 256-element tensor',
      gas: Number(await ruleTx(syntheticLoad({ size: 256, address: 200 }).args)),
    });

    // JobMarket: deploy as test/chain/mycel-fixture.ts does, with MockResolver as the dispute game.
    const resolver = getAddress((await deployContract(wallets[0], { abi: MockResolverAbi, bytecode: MockResolverBytecode })).address);
    const challengeWindow = 600n;
    const m = await deployMycel(wallets[0], { resolver, minStake: T(100), unbondingDelay: 1_000n, challengeWindow });
    const [submitter, solver, challenger] = [wallets[1], wallets[2], wallets[3]];
    for (const w of [submitter, solver, challenger]) {
      await send(wallets[0], { address: m.token, abi: MycelTokenAbi, functionName: 'transfer', args: [w.account.address, T(10_000)] });
      await approve(w, { token: m.token, spender: m.registry, amount: T(100) });
      await approve(w, { token: m.token, spender: m.market, amount: T(5_000) });
    }
    report({ action: 'register', gas: Number((await register(solver, { registry: m.registry, stake: T(100) })).gasUsed) });
    await register(challenger, { registry: m.registry, stake: T(100) });
    const spec = '0x73706563' as Hex;
    const job = async () => {
      const posted = await postJob(submitter, { market: m.market, spec, steps: 10n, reward: T(25), stake: T(5) });
      const claimed = await claimJob(solver, { market: m.market, jobId: posted.jobId, spec });
      const committed = await commitRoot(solver, { market: m.market, jobId: posted.jobId, root: `0x${'11'.repeat(32)}` });
      return { jobId: posted.jobId, gas: { post: posted.gasUsed, claim: claimed.gasUsed, commit: committed.gasUsed } };
    };
    const a = await job();
    for (const [action, gas] of Object.entries(a.gas)) report({ action, gas: Number(gas) });
    const b = await job();
    report({ action: 'challenge', gas: Number((await challenge(challenger, { market: m.market, jobId: b.jobId, root: `0x${'22'.repeat(32)}` })).gasUsed) });
    const { testClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
    await testClient.increaseTime({ seconds: Number(challengeWindow) });
    await testClient.mine({ blocks: 1 });
    report({ action: 'finalize', gas: Number((await finalize(submitter, { market: m.market, jobId: a.jobId })).gasUsed) });
  } finally {
    await anvil.stop();
  }
  await disputeOnChain(report);
}

async function disputeOnChain(report: ReturnType<typeof makeReporter>): Promise<void> {
  const t = 3;
  const good = await runOf(honest);
  const writer = (rules.structure(t).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
  const cheat = await runOf(adversary.flipOpOutput(honest, t, writer, 37, 3));
  const roots = { solver: cheat.record.commitment!, challenger: good.record.commitment! };
  const game = await playGame(
    rules,
    replayParty({ role: 'solver', program: cheat.program, reference: honest, store: cheat.store, record: cheat.record, opponentHashes: good.record.stepHashes }),
    replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record, opponentHashes: cheat.record.stepHashes }),
    { solverRoot: roots.solver, challengerRoot: roots.challenger },
  );
  const c = await setupGameChain(rules);
  try {
    report({ action: 'deploy_dispute_game', gas: Number(c.gasUsed.disputeGame ?? 0n) });
    const { disputeId, challengeGas } = await openJobDispute(c, rules, c.wallets[2], c.wallets[3], roots);
    report({ action: 'challenge_open_dispute', gas: Number(challengeGas) });
    const started = performance.now();
    let gas = 0n;
    await replayOnChain(c, rules, disputeId, acceptedMoves(rules, game, roots), { solver: c.wallets[2], challenger: c.wallets[3] }, (m) => {
      gas += m.gas;
      report({ action: 'dispute_move', move: m.kind, by: m.by, level: m.level, gas: Number(m.gas) });
    });
    const seconds = (performance.now() - started) / 1000;
    report({ action: 'dispute_total', gas: Number(gas), rounds: game.totalRounds, seconds: Number(seconds.toFixed(2)) });
  } finally {
    await c.anvil.stop();
  }
}

const ZERO = `0x${'00'.repeat(32)}` as Hex;
