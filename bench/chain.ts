// `npm run bench -- chain [--json]`: gas of the chain's actions, each a real transaction on a local anvil (default
// hardfork): one OneStepReferee.ruleAndEmit per element-machine opcode, each instruction proven against an op rule
// by an 8-hash path in a 256-instruction program (a load also with its input descriptor's path and its chunk and
// state-tree proofs: a 64 Ki-element tensor, an 8-hash chunk path and a 5-hash path in a 20-leaf state tree), then the
// JobMarket actions (register, post, claim, commit, challenge, finalize) with MockResolver as the dispute game.
// Last, a full dispute on chain over a 1,000-step job (--job micro, the default: the tests' micro GPT run for 1,000
// steps; --job quick: the README's quick preset run for 1,000 steps, about 10 minutes in all here: three 1,000-step
// runs and the job's facts tree, for which dispute-moves.ts jobFacts traces every step): a solver flipped one bit of one parameter-writing
// op output at a random step (bench/dispute.ts cheatedJob, --seed), the TS game between it and an honest challenger is
// replayed move by move on the real DisputeGame behind the JobMarket (test/chain/dispute-replay.ts): a dispute_job
// row (job, model, flip, ruling), one row per move, then dispute_total (gas of all game moves, rounds, seconds of the
// on-chain replay, steps of the job), the last line; before it, challenge_second_dispute and second_dispute_total: a
// second challenger's dispute on the same job, opened while the first is open and played to its ruling first. Before those, the same step skipped by a solver, a
// dispute that ends at the state level: state_dispute_move rows and state_dispute_total. Between the market rows and the
// disputes, the swarm coordinator's rows (bench/chain-swarm.ts: swarm_<action>, score_dispute_total); --swarm-only runs them alone.
import { getAddress, parseUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../src/chain/anvil.js';
import { createClients, deployContract } from '../src/chain/clients.js';
import { deployMycel } from '../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../src/chain/actions/send.js';
import { approve, challenge, claimJob, commitRoot, finalize, postJob, register, setRules } from '../src/chain/index.js';
import { MockResolverAbi, MockResolverBytecode } from '../src/chain/generated/MockResolver.js';
import { MycelTokenAbi } from '../src/chain/generated/MycelToken.js';
import { OneStepRefereeAbi, OneStepRefereeBytecode } from '../src/chain/generated/OneStepReferee.js';
import { EMPTY_LOAD, encodeInstructionHex, encodeStateHex, refereeOpening, type RuleArgs } from '../src/chain/referee.js';
import { toHex } from '../src/platform/sha256.js';
import { makeOpRule, ruleOpening } from '../src/verify/game/op-rule.js';
import { Rng } from '../src/tensor/index.js';
import { buildProgram, parseJobSpec, PRESETS } from '../src/train/index.js';
import { playGame, stateHashOf } from '../src/verify/index.js';
import { machineCases, OPCODES, padded, PROGRAM_LENGTH, syntheticLoad } from '../test/chain/referee-harness.js';
import { microSpec } from '../test/train/helpers.js';
import { acceptedMoves, openJobDispute, replayOnChain, setupGameChain } from '../test/chain/dispute-replay.js';
import { cheatedJob, disputeParties, skippedRun } from './dispute.js';
import { makeReporter } from './report.js';
import { swarmOnChain } from './chain-swarm.js';

/** Steps of the disputed job (the figure is a full dispute on a 1,000-step job). */
const DISPUTE_STEPS = 1000;

const T = (n: number) => parseUnits(String(n), 18);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- chain [--json] [--job quick|micro] [--seed 1] [--swarm-only]   (gas per one-step ruling, per JobMarket and SwarmCoordinator action and per dispute move, on anvil; --swarm-only: the coordinator rows alone)');
    return;
  }
  const job = args.includes('--job') ? args[args.indexOf('--job') + 1] : 'micro';
  if (job !== 'quick' && job !== 'micro') throw new Error(`--job must be quick or micro, not ${job}`);
  const seed = args.includes('--seed') ? Number(args[args.indexOf('--seed') + 1]) : 1;
  const report = makeReporter(args);
  if (args.includes('--swarm-only')) return swarmOnChain(report);
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
      // Case 1 of the differential tests' generator: not halted, registers mixing special and random words; its
      // program padded to PROGRAM_LENGTH and committed in an op rule, so the instruction path is as long as a real one's.
      const c = machineCases(op, 2, 1000 + OPCODES.indexOf(op))[1];
      const ins = c.program[c.state.pc];
      const rule = makeOpRule(padded(c.program, PROGRAM_LENGTH), []);
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
        `0x${toHex(rule.rule)}`,
        refereeOpening(ruleOpening(rule, c.state.pc)),
      ];
      report({ action: 'one_step', instruction: op, proof: `${PROGRAM_LENGTH}-instruction program`, gas: Number(await ruleTx(ruleArgs)) });
    }
    report({ action: 'one_step', instruction: 'load', proof: `state tree, 65536-element tensor, ${PROGRAM_LENGTH}-instruction program`, gas: Number(await ruleTx(syntheticLoad().args)) });
    report({
      action: 'one_step', instruction: 'load', proof: `state tree, 256-element tensor, ${PROGRAM_LENGTH}-instruction program`,
      gas: Number(await ruleTx(syntheticLoad({ size: 256, address: 200 }).args)),
    });

    // JobMarket: deploy as test/chain/mycel-fixture.ts does, with MockResolver as the dispute game.
    const resolver = getAddress((await deployContract(wallets[0], { abi: MockResolverAbi, bytecode: MockResolverBytecode })).address);
    const challengeWindow = 600n;
    const m = await deployMycel(wallets[0], { resolver, minStake: T(100), unbondingDelay: 1_000n, minChallengeWindow: challengeWindow });
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
      await setRules(submitter, { market: m.market, jobId: posted.jobId, h0: ZERO, factsRoot: ZERO, factsSize: 1n });
      const claimed = await claimJob(solver, { market: m.market, jobId: posted.jobId, spec });
      const committed = await commitRoot(solver, { market: m.market, jobId: posted.jobId, root: `0x${'11'.repeat(32)}` });
      return { jobId: posted.jobId, gas: { post: posted.gasUsed, claim: claimed.gasUsed, commit: committed.gasUsed } };
    };
    const a = await job();
    for (const [action, gas] of Object.entries(a.gas)) report({ action, gas: Number(gas) });
    const b = await job();
    report({ action: 'challenge', gas: Number((await challenge(challenger, { market: m.market, jobId: b.jobId, root: `0x${'22'.repeat(32)}` })).gasUsed) });
    const { testClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
    await testClient.mine({ blocks: Number(challengeWindow) });
    report({ action: 'finalize', gas: Number((await finalize(submitter, { market: m.market, jobId: a.jobId })).gasUsed) });
  } finally {
    await anvil.stop();
  }
  await swarmOnChain(report);
  await disputeOnChain(report, job, seed);
}

async function disputeOnChain(report: ReturnType<typeof makeReporter>, job: 'quick' | 'micro', seed: number): Promise<void> {
  const spec = job === 'quick' ? parseJobSpec({ ...PRESETS.quick, steps: DISPUTE_STEPS }) : microSpec({ steps: DISPUTE_STEPS, checkpointEvery: 50 });
  const honest = buildProgram(spec);
  const { rules, good, bad, flip, jobSeconds } = await cheatedJob(honest, new Rng(seed));
  const { model } = spec;
  const roots = { solver: bad.record.commitment!, challenger: good.record.commitment! };
  const { solver, challenger } = disputeParties(honest, good, bad);
  const game = await playGame(rules, solver, challenger, { solverRoot: roots.solver, challengerRoot: roots.challenger });
  const r = game.ruling;
  report({
    action: 'dispute_job', job, steps: spec.steps, checkpoint_every: spec.checkpointEvery, seconds_per_run: Number(jobSeconds.toFixed(1)),
    model: model.kind === 'gpt' ? `gpt ctx${model.contextLength} d${model.dModel} L${model.layers} h${model.heads} mlp${model.mlpHidden}, batch ${spec.batchSize}` : model.kind,
    ops_per_step: rules.structure(flip.t).ops.length, flipped: `step ${flip.t} op ${flip.op} (${flip.name}) element ${flip.element} bit ${flip.bit}`,
    ruling: `${r.loser} loses at ${r.at}: step ${r.t}, op ${r.op}, element ${r.element}, instruction ${r.instruction} (${r.opcode})`,
  });
  const c = await setupGameChain(rules);
  try {
    report({ action: 'deploy_dispute_game', gas: Number(c.gasUsed.disputeGame ?? 0n) });
    // The cheated step skipped by the solver instead: the game ends at the state level (Decisions 5), ruled by proveState.
    const skipped = await skippedRun(honest, flip.t);
    const stateRoots = { solver: skipped.record.commitment!, challenger: roots.challenger };
    const parties = disputeParties(honest, good, skipped);
    const stateGame = await playGame(rules, parties.solver, parties.challenger, { solverRoot: stateRoots.solver, challengerRoot: stateRoots.challenger });
    const sr = stateGame.ruling;
    const { disputeId: stateId } = await openJobDispute(c, rules, c.wallets[2], c.wallets[4], stateRoots);
    let stateGas = 0n;
    await replayOnChain(c, rules, stateId, acceptedMoves(rules, stateGame, stateRoots), { solver: c.wallets[2], challenger: c.wallets[4] }, (m) => {
      stateGas += m.gas;
      report({ action: 'state_dispute_move', move: m.kind, by: m.by, level: m.level, gas: Number(m.gas) });
    });
    report({ action: 'state_dispute_total', gas: Number(stateGas), rounds: stateGame.totalRounds, ruling: `${sr.loser} loses at ${sr.at}: step ${sr.t}, leaf ${sr.instruction} (${sr.opName})` });
    const { jobId, disputeId, challengeGas } = await openJobDispute(c, rules, c.wallets[2], c.wallets[3], roots);
    report({ action: 'challenge_open_dispute', gas: Number(challengeGas) });
    // A second, concurrent dispute on the same job (another challenger, its own game): it is played to its ruling
    // while the first is open; the first then refutes the job and the second's ruling refunds its challenger.
    const second = await challenge(c.wallets[5], { market: c.market, jobId, root: `0x${roots.challenger}` as Hex });
    report({ action: 'challenge_second_dispute', gas: Number(second.gasUsed) });
    let secondGas = 0n;
    await replayOnChain(c, rules, second.disputeId, acceptedMoves(rules, game, roots), { solver: c.wallets[2], challenger: c.wallets[5] }, (m) => {
      secondGas += m.gas;
    });
    report({ action: 'second_dispute_total', gas: Number(secondGas), rounds: game.totalRounds, concurrent_with: Number(disputeId) });
    const started = performance.now();
    let gas = 0n;
    await replayOnChain(c, rules, disputeId, acceptedMoves(rules, game, roots), { solver: c.wallets[2], challenger: c.wallets[3] }, (m) => {
      gas += m.gas;
      report({ action: 'dispute_move', move: m.kind, by: m.by, level: m.level, gas: Number(m.gas) });
    });
    const seconds = (performance.now() - started) / 1000;
    report({ action: 'dispute_total', gas: Number(gas), rounds: game.totalRounds, seconds: Number(seconds.toFixed(2)), steps: spec.steps });
  } finally {
    await c.anvil.stop();
  }
}

const ZERO = `0x${'00'.repeat(32)}` as Hex;
