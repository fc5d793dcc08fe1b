import { UsageError } from '../../platform/errors.js';
import { interruptedExit, intFlag, type Command } from '../command.js';
import { DevnetScenarioError, DevnetStoppedError, devnetDashboard, formatSummary, runDevnet } from '../../node/index.js';
import { readKeyFile } from './chain-deploy.js';
import { dataDirOf } from './p2p-flags.js';
import { formatSwarmSummary, runSwarmDevnet } from './devnet-swarm.js';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What a devnet run leaves in its folder: one data dir per node, and the role keys (with --rpc). */
const DEVNET_ENTRIES = new Set(['submitter', 'solver-honest', 'solver-cheater', 'verifier', 'keys', 'swarm']);

/**
 * The default devnet folder, emptied of the previous run's data: runs do not pile up (each left tens of
 * MB in the system temp folder before). Anything else found there is left alone and the run refused.
 */
export async function freshDevnetDir(dir: string): Promise<string> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const foreign = entries.filter((e) => !DEVNET_ENTRIES.has(e));
  if (foreign.length > 0) {
    throw new UsageError(`${dir} holds files a devnet did not write (${foreign.slice(0, 3).join(', ')}), so it is not emptied.`, {
      metaMessages: ['Move them elsewhere, or pass --dir DIR for this run\'s data.'],
    });
  }
  for (const e of entries) await rm(join(dir, e), { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export const devnet: Command = {
  name: 'devnet',
  summary: 'the whole network on one machine: a chain, contracts, a submitter, two solvers (one cheats) and a verifier',
  usage: '[--steps N] [--cheat-at T] [--rpc URL --key-file FILE] [--swarm-only | --no-swarm | --swarm-nodes] [--swarm-rounds R] [--dashboard-port N] [--serve | --exit] [--json]',
  description: `
Starts anvil (or uses the chain at --rpc), deploys the token, registry, job market and the real
DisputeGame, funds four accounts, and runs the scenario: job A (a small GPT sorting digits) goes to
the honest solver, is left unchallenged and is paid after the challenge window (on a dev chain the
verifier's agreement closes it: the devnet mines the window's remaining blocks at once, as nobody
else could challenge; --wait-windows waits it out as a real chain does); job B goes to a
solver that flips one bit at a random step: the verifier re-executes it, challenges, and the dispute
is played on chain move by move until the one-step proof; the cheater loses its stake (half burned,
half to the verifier) and the submitter is refunded.

Then, on a dev chain, a short swarm on chain (docs/swarm-chain.md): a SwarmCoordinator for a small
policy model (d=32, 2 layers), and the solvers and the verifier as three SAPO nodes in this process
(the node code of \`mycel swarm start\` over an in-memory transport), from one starting policy
pre-trained on 2-digit addition (beside the market's jobs, in a child process; kept in
$MYCEL_HOME/cache, default ~/.mycel/cache, for the next run).
Each of --swarm-rounds rounds (default 3): real rollouts, peer checks and GRPO steps; on chain each
node commits its policy, rollout and used roots, evaluates its policy on the round's beacon and claims
its score; the cheating solver inflates its own, the verifier re-executes it from the committed policy
blob, challenges and wins the dispute at one instruction; the uses of each rollout are proven and
everyone collects bonds, score share and use share (the windows are mined through at once). The
summary gives each node's scores, claims, payouts and net, all read from the chain, and where the time
went. --swarm-only plays the swarm alone; --no-swarm leaves it out.

The solvers and the verifier are separate processes that share only the chain and libp2p with each
other and with the submitter (this process, their bootstrap peer): job specs, step hashes and the
model are libp2p blobs announced on the market's gossip topic and checked against the chain; each
party learns the other's dispute moves from the chain. Progress goes to stderr; the summary (balances
before and after, gas per action, time, where the trained model is) to stdout. Ctrl-C stops every
process it started; stopped before the scenario finished, it exits 130 (Ctrl-C) or 143 (SIGTERM).

It serves a dashboard (peers, jobs and their phases, the dispute replayed move by move, loss curves,
balances and stakes, logs; live) at http://127.0.0.1:PORT and prints its URL, with its token, first.
On a terminal it keeps serving the final state after the scenario until Ctrl-C; elsewhere (a pipe, a
test, CI) the devnet ends with the scenario. --serve and --exit choose either way explicitly.

With --rpc, the key in --key-file (mode 600) deploys the contracts and funds four fresh role accounts
with --eth-per-node ETH each and 1,000 MYC; their keys are written to <dir>/keys. A dev chain
(anvil, hardhat) gets a block a second so that its clock moves.

Examples:
  mycel devnet
  mycel devnet --steps 10 --json
  mycel devnet --rpc http://127.0.0.1:8545 --key-file ~/.mycel/devnet.key
  mycel devnet --swarm-nodes

--swarm-nodes runs the swarm on chain alone, with node processes: an embedded anvil (half-second blocks),
the contracts and a SwarmCoordinator, and three \`mycel swarm start --rpc\` nodes (micro policies, one
claiming an inflated score) that play --swarm-rounds rounds: commit, fix the beacon, claim, re-execute
every peer's claim, challenge the inflated one and play its dispute on chain, collect. The summary is
each node's commits, claims, challenges, disputes and net MYC, what was burned and paid from the pool.
It is not part of the default run: its rounds on blocks take about a minute of their own.`,
  flags: {
    steps: { type: 'string', value: 'N', description: 'training steps of each job (default 40)' },
    'cheat-at': { type: 'string', value: 'T', description: 'the step the cheater cheats at (default: random)' },
    window: { type: 'string', value: 'BLOCKS', description: 'challenge window in blocks (default: sized from the job, so that a verifier can re-execute it)' },
    'wait-windows': { type: 'boolean', description: 'wait out the challenge window of a job the verifier agrees with (default on a dev chain: mine its rest at once)' },
    dir: { type: 'string', value: 'DIR', description: 'where the nodes keep their data (default: $MYCEL_HOME/devnet or ~/.mycel/devnet, replaced by each run)' },
    rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL to use instead of an embedded anvil' },
    'key-file': { type: 'string', value: 'FILE', description: 'with --rpc: the funded key that deploys and funds (mode 600)' },
    'chain-id': { type: 'string', value: 'ID', description: 'with --rpc: refuse a node on another chain' },
    'eth-per-node': { type: 'string', value: 'ETH', description: 'with --rpc: ETH for gas sent to each role account (default 0.05)' },
    'dashboard-port': { type: 'string', value: 'N', description: 'the dashboard\'s port on 127.0.0.1 (default 0: any free port)' },
    serve: { type: 'boolean', description: 'keep serving the dashboard after the scenario until Ctrl-C (default on a terminal)' },
    exit: { type: 'boolean', description: 'end with the scenario, even on a terminal' },
    'swarm-only': { type: 'boolean', description: 'only the swarm round on chain (no market jobs, no node processes; dev chain only)' },
    'no-swarm': { type: 'boolean', description: 'leave the swarm round out' },
    'swarm-nodes': { type: 'boolean', description: 'run only the swarm on chain for a few rounds, with three swarm node processes (see below)' },
    'swarm-rounds': { type: 'string', value: 'R', description: 'the swarm\'s paid rounds (default 3; with --swarm-nodes: its node processes\' rounds)' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length > 0) throw new UsageError('devnet takes no arguments.');
    if (flags['swarm-nodes']) {
      for (const f of ['steps', 'cheat-at', 'window', 'wait-windows', 'rpc', 'key-file', 'chain-id', 'eth-per-node', 'dashboard-port', 'serve', 'swarm-only', 'no-swarm']) {
        if (flags[f] !== undefined) throw new UsageError(`--${f} is about the devnet's market scenario; --swarm-nodes runs only the swarm's node processes (on an embedded anvil).`);
      }
      const dir = typeof flags.dir === 'string' ? flags.dir : await freshDevnetDir(join(dataDirOf(flags), 'devnet'));
      try {
        const summary = await runSwarmDevnet({ out, signal }, { rounds: intFlag(flags, 'swarm-rounds', 3, 1, 50), dir: join(dir, 'swarm'), pretrainSteps: 0 });
        out.result(summary, formatSwarmSummary(summary));
      } catch (error) {
        if (!signal.aborted) throw error;
        return interruptedExit(signal);
      }
      return;
    }
    const steps = intFlag(flags, 'steps', 40, 1, 100_000);
    const cheatAt = flags['cheat-at'] === undefined ? undefined : intFlag(flags, 'cheat-at', 1, 1, steps);
    const rpcUrl = typeof flags.rpc === 'string' ? flags.rpc : undefined;
    const keyFile = typeof flags['key-file'] === 'string' ? flags['key-file'] : undefined;
    if ((rpcUrl === undefined) !== (keyFile === undefined)) throw new UsageError('--rpc and --key-file go together: the key deploys the contracts and funds the nodes on that chain.');
    const eth = flags['eth-per-node'];
    if (eth !== undefined && (typeof eth !== 'string' || !/^\d+(\.\d+)?$/.test(eth))) throw new UsageError(`--eth-per-node must be an amount of ETH such as 0.05, got "${String(eth)}".`);
    if (flags.serve && flags.exit) throw new UsageError('--serve and --exit contradict each other: pick one.');
    if (flags['swarm-only'] && flags['no-swarm']) throw new UsageError('--swarm-only and --no-swarm contradict each other: pick one.');
    if (flags['swarm-rounds'] !== undefined && flags['no-swarm']) throw new UsageError('--swarm-rounds is about the swarm, which --no-swarm leaves out: drop one of them.');
    if (flags['swarm-only'] && rpcUrl !== undefined) throw new UsageError('--swarm-only runs on the embedded chain only: its swarm round mines through the windows. Leave out --rpc.');
    const keepServing = Boolean(flags.serve) || (!flags.exit && Boolean(process.stdout.isTTY));
    const started = performance.now();
    const dashboard = await devnetDashboard({
      port: intFlag(flags, 'dashboard-port', 0, 0, 65_535),
      onEvent: (e) => {
        const at = `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
        if (e.type === 'log') out.log(`${at}  ${e.node.padEnd(15)} ${e.text}`);
        else if (e.type === 'tx' && (e.action.startsWith('dispute') || e.action.startsWith('swarm dispute'))) out.log(`${at}  ${e.node.padEnd(15)} ${e.action} (gas ${e.gas})`);
      },
    });
    out.log(`Dashboard: ${dashboard.server.url}`);
    try {
      let summary;
      try {
        summary = await runDevnet({
          steps,
          ...(cheatAt === undefined ? {} : { cheatAt }),
          ...(flags.window === undefined ? {} : { challengeWindow: intFlag(flags, 'window', 20, 10, 1_000_000) }),
          ...(flags['wait-windows'] === true ? { waitWindows: true } : {}),
          dir: typeof flags.dir === 'string' ? flags.dir : await freshDevnetDir(join(dataDirOf(flags), 'devnet')),
          ...(rpcUrl === undefined ? {} : { rpcUrl, key: await readKeyFile(keyFile!) }),
          ...(flags['chain-id'] === undefined ? {} : { chainId: intFlag(flags, 'chain-id', 0, 1) }),
          ...(typeof eth === 'string' ? { ethPerNode: eth } : {}),
          ...(flags['swarm-only'] === true ? { swarmOnly: true } : {}),
          ...(flags['no-swarm'] === true ? { swarm: false } : {}),
          ...(flags['swarm-rounds'] === undefined ? {} : { swarmRounds: intFlag(flags, 'swarm-rounds', 3, 1, 20) }),
          cacheDir: join(dataDirOf(flags), 'cache'),
          signal,
          ...dashboard.hooks,
        });
      } catch (error) {
        // Ctrl-C or SIGTERM during the scenario: every process it started is stopped and the nodes' data kept; the
        // scenario did not finish, so the exit status is 130 or 143, as the shell expects.
        if (!(error instanceof DevnetStoppedError && signal.aborted)) throw error;
        out.log(error.message);
        return interruptedExit(signal);
      }
      out.result(summary, formatSummary(summary));
      // Stopped while only serving the final state (the scenario finished): like `node start`, a normal end (exit 0).
      if (keepServing && !signal.aborted) {
        out.log(`The dashboard still shows the devnet's final state at ${dashboard.server.url}; Ctrl-C to stop.`);
        await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
      }
      // The summary is out; the exit status says whether the scenario ended as the protocol says it must.
      if (summary.failures.length > 0) throw new DevnetScenarioError(summary.failures.join('; '), summary.dir);
    } finally {
      await dashboard.close();
    }
  },
};
