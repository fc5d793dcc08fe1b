import { join } from 'node:path';
import { getAddress, type Address, type PublicClient } from 'viem';
import { checkContractsFlags, tokenFlag } from '../wallet-context.js';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlockNumber } from 'viem/actions';
import { connect, WrongChainError } from '../../chain/index.js';
import { UsageError } from '../../platform/errors.js';
import {
  type VerifyPolicy, awaitJob, bootstrapAddr, contractsFromFile, contractsOfMarket, isDevChain, prepareRole, runSolver, runVerifier, startNode, submitJob, type NodeEvent,
} from '../../node/index.js';
import { intFlag, maxMemoryFlag, type Command, type Flags } from '../command.js';
import { createNodeMetrics, serveMetrics, type NodeMetrics } from '../../node/metrics.js';
import { currentLog, openNodeLog } from '../../node/log.js';
import { resolveSpec } from '../job.js';
import { readKeyFile } from './chain-deploy.js';
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';

const ROLES = ['submitter', 'solver', 'verifier'] as const;
type Role = (typeof ROLES)[number];

/** --sample-steps K [--full-budget STEPS]: the verifier's policy (roles.ts VerifyPolicy); full by default. */
function verifyPolicy(flags: Flags): VerifyPolicy {
  if (flags['sample-steps'] === undefined) {
    if (flags['full-budget'] !== undefined) throw new UsageError('--full-budget needs --sample-steps K: the check made once the budget is spent.');
    return { kind: 'full' };
  }
  const steps = intFlag(flags, 'sample-steps', 1, 1);
  return flags['full-budget'] === undefined ? { kind: 'sample', steps } : { kind: 'budget', steps, fullSteps: intFlag(flags, 'full-budget', 0, 0) };
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;

export const nodeRun: Command = {
  name: 'node run',
  summary: 'join a deployed mycel network as a submitter, solver or verifier',
  usage: '--role submitter|solver|verifier --rpc URL --key-file FILE (--contracts FILE | --market ADDR) [--bootstrap MULTIADDR] [--json]',
  description: `
Runs one role against contracts already deployed (mycel chain deploy, mycel devnet), with its own key
(also its libp2p identity) and its own data dir; it shares nothing with the other nodes but the chain
and libp2p.

  submitter  posts one job (--spec, --steps, --reward, --stake), announces its spec over libp2p,
             waits until it is settled and fetches the model.
  solver     claims posted jobs, trains them, announces step hashes and model, commits the run root,
             finalizes or plays the dispute on chain.
  verifier   re-executes every committed job and challenges a root it disagrees with; with
             --sample-steps K it checks K sampled steps per job (see docs/verification.md for
             the catch probability that buys) and re-executes in full only where they disagree.

A solver or verifier that is not registered registers itself with the registry's minimum bond. The
market is approved to take stakes and rewards. Nodes act on market events from the block they first
join at; restarted, from where they stopped reading (kept in <data-dir>/nodes/<address>/state.lmdb),
so a job posted while the node was down is still taken (--from-block N reads from block N instead). Progress goes to stderr; with --json every event and the result are JSON
lines on stdout. Ctrl-C stops the node.

Examples:
  mycel chain deploy --rpc http://127.0.0.1:8545 --key-file deployer.key --json > deployment.json
  mycel node run --role verifier --rpc http://127.0.0.1:8545 --key-file verifier.key --contracts deployment.json --port 4101
  mycel node run --role solver --rpc http://127.0.0.1:8545 --key-file solver.key --market 0xDc64… \\
      --bootstrap /ip4/127.0.0.1/tcp/4101/p2p/16Uiu2…`,
  flags: {
    role: { type: 'string', value: 'ROLE', description: 'submitter, solver or verifier' },
    rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL of the chain the contracts are on' },
    'key-file': { type: 'string', value: 'FILE', description: 'this node\'s private key (0x-hex, mode 600): its account and libp2p identity' },
    'chain-id': { type: 'string', value: 'ID', description: 'refuse a node on another chain' },
    contracts: { type: 'string', value: 'FILE', description: 'deployment JSON (mycel chain deploy --json or mycel devnet --json)' },
    market: { type: 'string', value: 'ADDR', description: 'the JobMarket address (the other contracts are read from it)' },
    bootstrap: { type: 'string', value: 'MULTIADDR', multiple: true, description: 'a libp2p peer to join through (repeatable)' },
    ...DATA_DIR_FLAGS,
    host: { type: 'string', value: 'IP', description: 'libp2p listen interface (default 127.0.0.1)' },
    port: { type: 'string', value: 'N', description: 'libp2p TCP port (default 0: any free port)' },
    confirmations: { type: 'string', value: 'N', description: 'blocks on top of an event before the node acts on it (default 0 on a dev chain, else 2)' },
    'max-memory': { type: 'string', value: 'GIB', description: 'solver, verifier: refuse a job estimated to need more memory than this, before staking (default: 80% of RAM)' },
    'metrics-port': { type: 'string', value: 'N', description: 'serve Prometheus metrics on http://127.0.0.1:N/metrics (0: any free port; default: off)' },
    'from-block': { type: 'string', value: 'N', description: 'act on market events from this block (default: where this node stopped reading, or the head at its first start)' },
    'sample-steps': { type: 'string', value: 'K', description: 'verifier: re-execute K steps per job, sampled from a public seed, instead of all (full re-execution where they disagree)' },
    'full-budget': { type: 'string', value: 'STEPS', description: 'verifier with --sample-steps: re-execute jobs in full while the steps so re-executed stay within STEPS, then sample' },
    'max-jobs': { type: 'string', value: 'N', description: 'solver, verifier: stop after this many jobs (default: run until Ctrl-C)' },
    'cheat-at': { type: 'string', value: 'T', description: 'solver, for demos: flip one bit at step T (this node will lose its stake)' },
    spec: { type: 'string', value: 'PRESET|FILE', description: 'submitter: the job (a preset name or a spec .json; default quick)' },
    steps: { type: 'string', value: 'N', description: 'submitter: training steps (default: the spec\'s)' },
    reward: { type: 'string', value: 'MYC', description: 'submitter: reward in tokens (default 25)' },
    stake: { type: 'string', value: 'MYC', description: 'submitter: the stake a solver or challenger puts up (default 5)' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length > 0) throw new UsageError('node run takes no arguments; the role goes in --role.');
    const role = flags.role as Role | undefined;
    if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}${role ? `, got "${String(role)}"` : ''}.`);
    if (typeof flags.rpc !== 'string' || typeof flags['key-file'] !== 'string') throw new UsageError('node run needs --rpc URL and --key-file FILE: the chain to act on and the key that acts.');
    checkContractsFlags(flags);
    const maxMemoryBytes = maxMemoryFlag(flags);
    const policy = verifyPolicy(flags);
    const reward = tokenFlag(flags, 'reward', '25');
    const stake = tokenFlag(flags, 'stake', '5');
    const privateKey = await readKeyFile(flags['key-file']);
    const rpcUrl = flags.rpc;
    const { publicClient, chainId } = await connect({ rpcUrl });
    if (flags['chain-id'] !== undefined) {
      const expected = intFlag(flags, 'chain-id', 0, 1);
      if (expected !== chainId) throw new WrongChainError({ expected, actual: chainId, rpcUrl });
    }
    const contracts = typeof flags.contracts === 'string' ? await contractsFromFile(flags.contracts) : await contractsOfMarket(publicClient as PublicClient, getAddress(flags.market as Address));
    const fromBlock = flags['from-block'] === undefined ? await getBlockNumber(publicClient, { cacheTime: 0 }) : BigInt(intFlag(flags, 'from-block', 0, 0));
    const address = privateKeyToAccount(privateKey).address;
    const dataDir = join(dataDirOf(flags), 'nodes', address.toLowerCase());
    let metrics: NodeMetrics | undefined;
    const log = await openNodeLog(join(dataDir, 'logs'), role);
    const emit = (e: NodeEvent) => {
      metrics?.observe(e);
      log.event(e);
      if (out.json) out.result(plain(e));
      else if (e.type === 'log') out.log(`${e.node.padEnd(10)} ${e.text}`);
      else if (e.type === 'tx') out.log(`${e.node.padEnd(10)} ${e.action} (gas ${e.gas})`);
    };
    const node = await startNode(
      { rpcUrl, chainId, privateKey, contracts, dataDir, name: role, bootstrap: (flags.bootstrap as string[] | undefined) ?? [], fromBlock, fromBlockOverridesCursor: flags['from-block'] !== undefined, confirmations: intFlag(flags, 'confirmations', (await isDevChain(publicClient as PublicClient)) ? 0 : 2, 0, 1_000) },
      emit,
      { host: typeof flags.host === 'string' ? flags.host : '127.0.0.1', port: intFlag(flags, 'port', 0, 0, 65_535) },
    ).catch(async (error: unknown) => {
      log.logger.error({ err: error }, (error as Error).message);
      await log.close();
      throw error;
    });
    let served: Awaited<ReturnType<typeof serveMetrics>> | undefined;
    try {
      node.log(`${address} on chain ${chainId} (market ${contracts.market}); libp2p ${bootstrapAddr(node.p2p)}; log ${currentLog(join(dataDir, 'logs'))}`);
      if (flags['metrics-port'] !== undefined) {
        metrics = createNodeMetrics({ name: role, p2p: node.p2p, chain: { address, publicClient: publicClient as PublicClient, contracts } });
        served = await serveMetrics(metrics.registry, { port: intFlag(flags, 'metrics-port', 0, 0, 65_535) });
        node.log(`metrics at ${served.url}`);
      }
      await prepareRole(node, role);
      const maxJobs = flags['max-jobs'] === undefined ? {} : { maxJobs: intFlag(flags, 'max-jobs', 1, 1) };
      let result: unknown;
      if (role === 'submitter') {
        const { spec: base } = await resolveSpec(typeof flags.spec === 'string' ? flags.spec : 'quick');
        const spec = flags.steps === undefined ? base : { ...base, steps: intFlag(flags, 'steps', base.steps, 1, 1_000_000) };
        const posted = await submitJob(node, { spec, reward, stake });
        result = await awaitJob(node, posted.jobId, signal, spec);
      } else if (role === 'solver') {
        result = await runSolver(node, { ...maxJobs, signal, maxMemoryBytes, ...(flags['cheat-at'] === undefined ? {} : { cheatAt: intFlag(flags, 'cheat-at', 1, 1) }) });
      } else {
        result = await runVerifier(node, { ...maxJobs, signal, maxMemoryBytes, policy });
      }
      const done = plain({ role, address, result });
      log.logger.info({ result: done }, 'done');
      out.result(done, JSON.stringify(done, null, 2));
    } catch (error) {
      log.logger.error({ err: error }, (error as Error).message);
      throw error;
    } finally {
      await served?.close();
      await node.stop();
      await log.close();
    }
  },
};
