/**
 * The whole network on one machine: a chain (an embedded anvil, or any EVM chain given its RPC URL and a funded key),
 * the contracts with the real DisputeGame, funded and registered accounts, a submitter, an honest solver, a cheating
 * solver and a verifier. Job A goes to the honest solver (unchallenged: finalized and paid); job B to the cheater
 * (re-executed by the verifier, challenged, the dispute played on chain, the cheater slashed: half its stake burned,
 * half to the verifier, the submitter refunded).
 *
 * The solvers and the verifier are separate processes (child.ts) that share nothing with each other or with this one
 * but the chain and libp2p: the submitter's libp2p node (in this process) is their bootstrap peer; job specs, step
 * hashes and the model are blobs whose CIDs are announced on the market's gossip topic; dispute moves are read back
 * from the chain.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatEther, formatUnits, parseEther, parseUnits, type Address, type Hex, type PublicClient, type TestClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getBalance, getBlockNumber, readContract, sendTransaction, waitForTransactionReceipt } from 'viem/actions';
import { MycelError } from '../platform/errors.js';
import { startAnvil, type Anvil } from '../chain/anvil.js';
import { deployMycel } from '../chain/deploy.js';
import { connect, createClients } from '../chain/clients.js';
import { send, type MycelWalletClient } from '../chain/actions/send.js';
import { AccountUnfundedError, approve, getJob, register, WrongChainError } from '../chain/index.js';
import { MycelTokenAbi } from '../chain/generated/MycelToken.js';
import { parseJobSpec, PRESETS, type JobSpec, type JobSpecInput } from '../train/index.js';
import { sleep, type Contracts, type Emit, type NodeConfig, type NodeContext, type NodeEvent } from './context.js';
import { spawnRole } from './spawn.js';
import { awaitJob, describeStanding, jobOf, submitJob, type SolverResult, type SubmitterResult, type VerifierResult } from './roles.js';
import { bootstrapAddr } from './p2p.js';
import { isDevChain } from './join.js';
import { startNode, type RunningNode } from './run.js';
import { runDevnetSwarm, type DevnetSwarmSummary } from './devnet-swarm.js';
import { startingPolicy, type StartingPolicy } from './devnet-policy.js';

const TOKENS = (n: number | string) => parseUnits(String(n), 18);

export type DevnetOptions = {
  /** Training steps of each job (default 40). */
  steps?: number;
  /** The job spec before `steps` is applied; default the `quick` preset (a small GPT sorting digits). */
  spec?: JobSpecInput;
  /** The step the cheater cheats at; default a random step. */
  cheatAt?: number;
  /** Blocks a committed root can be challenged (default: sized from the job, node/window.ts; at least 10). */
  challengeWindow?: number;
  /**
   * Wait out the challenge window of a job that the verifier agrees with, as a real chain does. By default a dev
   * chain mines the rest of that window at once: the devnet's only verifier has checked the job, so nobody is left to
   * challenge it. A window with a challenge to come (job B's) is never shortened.
   */
  waitWindows?: boolean;
  /** Where the nodes keep their stores; default a new temp dir. */
  dir?: string;
  reward?: bigint;
  stake?: bigint;
  /** Use this chain instead of an embedded anvil; `key` deploys and funds the role accounts. */
  rpcUrl?: string;
  key?: Hex;
  /** With `rpcUrl`: refuse a node on another chain. */
  chainId?: number;
  /** With `rpcUrl`: ETH (for gas) sent from `key` to each role account (default 0.05). */
  ethPerNode?: string;
  /** Progress lines and transactions, as they happen. */
  onEvent?: (e: NodeEvent) => void;
  /** After the market's jobs, a few swarm rounds on chain (devnet-swarm.ts; dev chains only); default true. */
  swarm?: boolean;
  /** Only the swarm's rounds: no market jobs (and no node processes). */
  swarmOnly?: boolean;
  /** The swarm's paid rounds (default 3). */
  swarmRounds?: number;
  /** Where the swarm's pre-trained starting policy is kept between runs (default: `dir`/cache, made again each run). */
  cacheDir?: string;
  /** Once the contracts are deployed and the submitter's node is up (the dashboard watches from then on). */
  onReady?: (net: DevnetReady) => void;
  /** Awaited before the chain and the submitter's node stop, whether the scenario ended or failed. */
  onEnd?: () => Promise<void>;
  signal?: AbortSignal;
};

export type DevnetReady = { rpcUrl: string; chainId: number; contracts: Contracts; spec: JobSpec; submitter: RunningNode; accounts: { role: string; address: Address }[] };

export type Party = { role: string; address: Address; before: string; after: string; delta: string };

export type DevnetSummary = {
  rpcUrl: string;
  chainId: number;
  contracts: Contracts;
  dir: string;
  spec: { steps: number; model: JobSpec['model']; task: string };
  cheatAt: number;
  /** `verification`, for a Finalized job: "verified by re-execution" only if the verifier re-executed it and agreed; else what the chain shows. */
  jobs: { job: string; jobId: string; solver: string; phase: string; verification?: string; root: Hex; dispute?: { loser: string; at: string; moves: number } }[];
  parties: Party[];
  totalSupply: { before: string; after: string; burned: string };
  gas: { action: string; count: number; total: string }[];
  /** The honest solver's model: `cid` is its libp2p blob, `path` the submitter's copy fetched over libp2p. */
  model?: { jobId: string; path: string; root: Hex; cid: string };
  /**
   * What went wrong, if anything: a node process that failed (which, why, what to do), or an outcome the protocol
   * forbids (the cheater paid). The summary above it is what happened until then, read from the chain.
   */
  failures: string[];
  /** The swarm's rounds on chain (dev chains only): per node its scores, claims, payouts and net. */
  swarm?: DevnetSwarmSummary;
  /** What crossed libp2p: announcements heard by the submitter, and step-hash lists the nodes fetched and checked. */
  p2p: { stepHashesFetched: number; specsFetched: number };
  seconds: number;
  /** Where the time went: setup (chain, contracts, accounts), the market's jobs, the swarm; in seconds. */
  time: { phase: string; seconds: number }[];
};

/** Thrown inside the scenario to skip the market's jobs (--swarm-only). */
class SkipMarket extends Error {}

/** Ctrl-C (the signal) stopped the devnet: anvil and every node process are stopped. */
export class DevnetStoppedError extends MycelError {
  override name = 'DevnetStoppedError';
  constructor(dir: string) {
    super('The devnet was stopped before the scenario finished; the chain it started and every node are stopped.', { metaMessages: [`Node data so far: ${dir}`] });
  }
}

/** The devnet's scenario did not end as the protocol says it must (a node failed, or a ruling went the wrong way). */
export class DevnetScenarioError extends MycelError {
  override name = 'DevnetScenarioError';
  constructor(problem: string, dir: string) {
    super(`The devnet scenario failed: ${problem}.`, { metaMessages: [`Each node's data and store: ${dir}`, 'Run it again with --json to see every node\'s progress lines.'] });
  }
}

export async function runDevnet(o: DevnetOptions = {}): Promise<DevnetSummary> {
  const started = performance.now();
  const steps = o.steps ?? 40;
  const base = o.spec ?? PRESETS.quick;
  const spec = parseJobSpec({ ...base, steps, checkpointEvery: Math.max(1, Math.min(base.checkpointEvery ?? steps, Math.ceil(steps / 4))) });
  const cheatAt = o.cheatAt ?? 1 + Math.floor(Math.random() * steps);
  const reward = o.reward ?? TOKENS(25);
  const stake = o.stake ?? TOKENS(5);
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'mycel-devnet-')));
  const events: NodeEvent[] = [];
  let onAgreed: ((jobId: bigint) => void) | undefined;
  const emit: Emit = (e) => {
    events.push(e);
    o.onEvent?.(e);
    if (e.type === 'agreed') onAgreed?.(BigInt(e.jobId));
  };
  const log = (text: string) => emit({ type: 'log', node: 'devnet', text });

  let anvil: Anvil | undefined;
  let submitter: RunningNode | undefined;
  let pretraining: { ready: Promise<StartingPolicy>; stop(): void } | undefined;
  const marks: { phase: string; at: number }[] = [];
  const mark = (phase: string) => marks.push({ phase, at: performance.now() });
  const stopChain = () => void anvil?.stop();
  o.signal?.addEventListener('abort', stopChain, { once: true });
  try {
    // The chain, and the key that deploys and funds.
    let rpcUrl: string;
    let chainId: number;
    let deployerKey: Hex;
    let roleKeys: Hex[];
    if (o.rpcUrl === undefined) {
      anvil = await startAnvil({ gasLimit: 1_000_000_000n });
      log(`anvil at ${anvil.rpcUrl} (pid ${anvil.pid})`);
      [rpcUrl, chainId] = [anvil.rpcUrl, anvil.chainId];
      [deployerKey, ...roleKeys] = anvil.accounts.slice(0, 5).map((a) => a.privateKey);
    } else {
      if (!o.key) throw new MycelError('The devnet on --rpc needs a key to deploy and fund from.', { metaMessages: ['Pass --key-file FILE (a mode-600 file holding a funded 0x private key).'] });
      rpcUrl = o.rpcUrl;
      deployerKey = o.key;
      ({ chainId } = await connect({ rpcUrl }));
      if (o.chainId !== undefined && o.chainId !== chainId) throw new WrongChainError({ expected: o.chainId, actual: chainId, rpcUrl });
      const deployerAddress = privateKeyToAccount(deployerKey).address;
      const has = await getBalance(createClients({ rpcUrl, chainId }).publicClient, { address: deployerAddress });
      // Four role accounts, plus about as much again for the deployment's gas.
      if (has < parseEther(o.ethPerNode ?? DEFAULT_ETH_PER_NODE) * 5n) throw new AccountUnfundedError({ address: deployerAddress });
      // Fresh keys for the four roles, kept (mode 600) so that whatever is left on them can be recovered.
      roleKeys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey(), generatePrivateKey()];
      await mkdir(join(dir, 'keys'), { recursive: true, mode: 0o700 });
      for (const [i, k] of roleKeys.entries()) await writeFile(join(dir, 'keys', `${ROLE_NAMES[i]}.key`), `${k}\n`, { mode: 0o600 });
      log(`chain ${chainId} at ${rpcUrl}; deployer ${deployerAddress} holds ${formatEther(has)} ETH; role keys in ${join(dir, 'keys')}`);
    }
    const { testClient, publicClient } = createClients({ rpcUrl, chainId });
    // A dev chain does not reorg, but mines only when a transaction comes: the nodes act on events at once, and a
    // block a second (below) moves the chain's clock on. Elsewhere they wait for two confirmations.
    const dev = anvil !== undefined || (await isDevChain(publicClient as PublicClient));
    // The swarm's starting policy, pre-trained meanwhile (or read from the cache): the market leaves a core idle.
    if (dev && (o.swarm !== false || o.swarmOnly)) pretraining = startingPolicy(o.cacheDir ?? join(dir, 'cache'), log);
    pretraining?.ready.catch(() => undefined);
    // fromBlock: the role processes get the block the scenario starts at.
    const mkConfig = (name: string, key: Hex, contracts: Contracts, bootstrap: string[]): NodeConfig =>
      ({ rpcUrl, chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock: 0n, confirmations: dev ? 0 : 2 });
    const deployer = accountOf({ rpcUrl, chainId, privateKey: deployerKey, name: 'deployer' }, emit);
    const ethPerNode = parseEther(o.ethPerNode ?? DEFAULT_ETH_PER_NODE);
    // A dispute move has 600 blocks: 10 minutes at the dev chain's block a second.
    const d = await deployMycel(deployer.wallet, { disputeGame: { clock: 600 }, minStake: TOKENS(100), unbondingDelay: 3_600n, minChallengeWindow: 10n });
    const contracts: Contracts = { token: d.token, registry: d.registry, market: d.market, disputeGame: d.disputeGame! };
    for (const [k, v] of Object.entries(d.gasUsed)) if (v !== undefined) deployer.tx(`deploy ${k}`, v);
    log(`deployed token ${d.token}, registry ${d.registry}, market ${d.market}, DisputeGame ${d.disputeGame}`);

    // The dispute facts first: building them keeps this process busy for a while, and it must not be busy once its
    // libp2p node serves as the others' bootstrap peer.
    const factsStarted = performance.now();
    if (!o.swarmOnly) void jobOf(spec).facts;
    if (!o.swarmOnly) log(`built the job's program, dispute rules and facts tree in ${((performance.now() - factsStarted) / 1000).toFixed(1)} s`);
    // The submitter runs in this process; its libp2p node is the bootstrap peer of the others.
    submitter = await startNode(mkConfig('submitter', roleKeys[0], contracts, []), emit);
    const bootstrap = [bootstrapAddr(submitter.p2p)];
    log(`libp2p bootstrap node ${bootstrap[0]}`);
    const configs = ROLE_NAMES.map((name, i) => mkConfig(name, roleKeys[i], contracts, bootstrap));
    const accounts = configs.map((c) => accountOf(c, emit));
    const labels = ['submitter', 'honest solver', 'cheating solver', 'verifier'];
    o.onReady?.({ rpcUrl, chainId, contracts, spec, submitter, accounts: accounts.map((n, i) => ({ role: labels[i], address: n.address })) });
    for (const n of accounts) {
      if (o.rpcUrl !== undefined) {
        const hash = await sendTransaction(deployer.wallet, { to: n.address, value: ethPerNode, account: deployer.wallet.account, chain: deployer.wallet.chain });
        const receipt = await waitForTransactionReceipt(publicClient, { hash });
        deployer.tx('fund (ETH)', receipt.gasUsed);
      }
      const t = await send(deployer.wallet, { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [n.address, TOKENS(1_000)] });
      deployer.tx('fund (transfer)', t.gasUsed);
      n.tx('approve', (await approve(n.wallet, { token: d.token, spender: d.market, amount: TOKENS(1_000) })).gasUsed);
      if (n.name === 'submitter') continue;
      n.tx('approve', (await approve(n.wallet, { token: d.token, spender: d.registry, amount: TOKENS(100) })).gasUsed);
      n.tx('register', (await register(n.wallet, { registry: d.registry, stake: TOKENS(100) })).gasUsed);
    }
    log(`funded 1,000 MYC each${o.rpcUrl === undefined ? '' : ` and ${formatEther(ethPerNode)} ETH`}; solvers and verifier registered with 100 MYC bonds`);
    const balance = (a: Address) => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [a] });
    const supply = () => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
    const before = await Promise.all(accounts.map((n) => balance(n.address)));
    const supplyBefore = await supply();
    // The nodes act on market events from here on.
    const fromBlock = await getBlockNumber(publicClient, { cacheTime: 0 });

    mark('setup: chain, contracts, accounts, submitter node');
    // Tick a block a second on a dev chain so that its clock moves on (the challenge window closes, deadlines pass).
    const ticker = dev ? setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), 1_000) : undefined;
    if (dev && !o.waitWindows) {
      onAgreed = (jobId) => {
        void (async () => {
          const job = await getJob(publicClient as PublicClient, { market: d.market, jobId });
          const left = job.challengeEnds - (await getBlockNumber(publicClient, { cacheTime: 0 }));
          if (job.phase !== 'Committed' || left <= 0n) return;
          // In steps: a busy anvil takes seconds per hundred blocks, and one long request would time out.
          for (let mined = 0n; mined < left; mined += 100n) await testClient.mine({ blocks: Number(left - mined < 100n ? left - mined : 100n) });
          log(`job ${jobId}: the verifier agrees with its root and no other verifier is on this devnet: mined the ${left} blocks left of its challenge window at once (a real chain waits them out; --wait-windows does too)`);
        })().catch((error: Error) => log(`job ${jobId}: could not mine the rest of its challenge window (${error.message.split('\n')[0]}); waiting it out`));
      };
    }
    const ac = new AbortController();
    const stop = () => ac.abort(new Error('devnet stopped'));
    o.signal?.addEventListener('abort', stop, { once: true });
    const children: { stop(): void }[] = [];
    // The first failure (a node process, a transaction of the submitter) stops the scenario; the summary is still
    // built, from the chain, with the failure in it.
    const failures: string[] = [];
    const failed = (error: unknown) => {
      if (ac.signal.aborted) return;
      failures.push(error instanceof MycelError ? error.message.split('\n')[0] : String((error as Error)?.message ?? error));
      stop();
    };
    const role = <R>(i: number, spec: { role: 'solver' | 'verifier'; maxJobs: number; cheatAt?: number }) => {
      // Each node process serves its Prometheus metrics on a free port (its first log line names the URL).
      const p = spawnRole<R>({ ...configs[i], fromBlock: fromBlock.toString(), metricsPort: 0, ...spec }, emit);
      children.push(p);
      log(`started ${spec.role} ${configs[i].name} as process ${p.child.pid}`);
      p.result.catch(failed);
      // Ready: its libp2p node is up, and it will act on every market event from fromBlock (or it has failed).
      return { result: p.result, ready: Promise.race([p.ready, p.result.then(() => {}, () => {})]) };
    };
    ac.signal.addEventListener('abort', () => children.forEach((c) => c.stop()), { once: true });
    let results: Partial<[SolverResult[], SolverResult[], VerifierResult[], SubmitterResult, SubmitterResult]> = [];
    const jobIds: bigint[] = [];
    try {
      // --swarm-only: no market jobs, only the swarm round below.
      if (o.swarmOnly) throw new SkipMarket();
      const verifying = role<VerifierResult[]>(3, { role: 'verifier', maxJobs: 2 });
      const solvingA = role<SolverResult[]>(1, { role: 'solver', maxJobs: 1 });
      // On the dev chain a block comes every second and with every transaction: half a second a block is conservative.
      const window = { ...(o.challengeWindow === undefined ? {} : { challengeWindow: BigInt(o.challengeWindow) }), blockSeconds: dev ? 0.5 : 12 };
      // A busy machine can take tens of seconds to start a process: no job is posted before its verifier listens.
      await Promise.all([verifying.ready, solvingA.ready]);
      ac.signal.throwIfAborted();
      const jobA = await submitJob(submitter, { spec, reward, stake, ...window });
      jobIds.push(jobA.jobId);
      const settledA = awaitJob(submitter, jobA.jobId, ac.signal, spec);
      settledA.catch(failed);
      // Job B is posted once A is claimed, and only then does the cheater start: each solver gets its job.
      await awaitPhaseAfter(submitter, jobA.jobId, 'Open', ac.signal);
      const solvingB = role<SolverResult[]>(2, { role: 'solver', maxJobs: 1, cheatAt });
      await solvingB.ready;
      ac.signal.throwIfAborted();
      const jobB = await submitJob(submitter, { spec, reward, stake, ...window });
      jobIds.push(jobB.jobId);
      const settledB = awaitJob(submitter, jobB.jobId, ac.signal, spec);
      settledB.catch(failed);
      results = await Promise.all([solvingA.result, solvingB.result, verifying.result, settledA, settledB]);
    } catch (error) {
      if (o.signal?.aborted) throw error;
      if (!(error instanceof SkipMarket)) failed(error);
    } finally {
      children.forEach((c) => c.stop());
      clearInterval(ticker);
      o.signal?.removeEventListener('abort', stop);
    }
    if (!o.swarmOnly) mark('market: jobs A and B, the dispute');
    const [[a] = [], [b] = [], checked = [], gotA, gotB] = results;
    // Each job as the chain has it (whatever the nodes managed to report).
    const onChain = await Promise.all(jobIds.map((jobId) => getJob(publicClient as PublicClient, { market: d.market, jobId })));
    const ruled = b ? (checked.find((v) => String(v.jobId) === String(b.jobId))?.dispute ?? b.dispute) : undefined;
    if (failures.length === 0 && !o.swarmOnly) {
      if (onChain[0]?.phase !== 'Finalized') failures.push(`the honest solver's job A ended ${onChain[0]?.phase ?? 'unposted'}, not Finalized`);
      if (onChain[1]?.phase !== 'Refuted') failures.push(`the cheater's job B ended ${onChain[1]?.phase ?? 'unposted'}, not Refuted: the verifier did not win a dispute on it within its challenge window (a busy machine? give a longer --window)`);
      if (gotA && (!gotA.model || !gotA.modelCid)) failures.push(`the submitter did not get the model of job ${jobIds[0]} over libp2p`);
    }

    const after = await Promise.all(accounts.map((n) => balance(n.address)));
    const supplyAfter = await supply();
    // The swarm round on chain (devnet-swarm.ts), on a dev chain whose windows it can mine through, once the market's
    // scenario ended as it must; after the market's balances are read (the round reports its own).
    let swarm: DevnetSwarmSummary | undefined;
    if (o.swarmOnly && !dev) failures.push('--swarm-only needs a dev chain (the embedded anvil): the swarm round mines through its windows');
    if (dev && (o.swarm !== false || o.swarmOnly) && failures.length === 0 && !ac.signal.aborted) {
      try {
        swarm = await runDevnetSwarm({
          publicClient: publicClient as PublicClient,
          testClient: testClient as TestClient,
          deployer: deployer.wallet,
          contracts,
          nodes: [1, 2, 3].map((i) => ({ role: labels[i], privateKey: configs[i].privateKey, wallet: accounts[i].wallet, tx: accounts[i].tx, dataDir: configs[i].dataDir })) as Parameters<typeof runDevnetSwarm>[0]['nodes'],
          policy: pretraining!.ready,
          ...(o.swarmRounds === undefined ? {} : { rounds: o.swarmRounds }),
          log,
        });
        mark('swarm: rounds on chain');
      } catch (error) {
        failed(new Error(`the swarm round: ${(error as Error).message.split('\n')[0]}`));
      }
    }
    const fmt = (x: bigint) => formatUnits(x, 18);
    const gas = new Map<string, { count: number; total: bigint }>();
    for (const e of events) {
      if (e.type !== 'tx') continue;
      const g = gas.get(e.action) ?? { count: 0, total: 0n };
      g.count++;
      g.total += BigInt(e.gas);
      gas.set(e.action, g);
    }
    const fetched = (kind: string) => events.filter((e) => e.type === 'log' && e.text.includes(`got the ${kind} over libp2p`)).length;
    return {
      rpcUrl,
      chainId,
      contracts,
      dir,
      spec: { steps, model: spec.model, task: spec.data.kind === 'task' ? spec.data.task : spec.data.kind },
      cheatAt: Math.min(Math.max(1, cheatAt), steps),
      jobs: onChain.map((j, i) => ({
        job: i === 0 ? 'A' : 'B',
        jobId: j.jobId.toString(),
        solver: i === 0 ? 'honest solver' : 'cheating solver',
        phase: j.phase,
        ...(j.phase === 'Finalized' ? { verification: verificationOf(i === 0 ? gotA : gotB, checked.find((v) => String(v.jobId) === String(j.jobId))) } : {}),
        root: j.root,
        ...(i === 1 && ruled ? { dispute: ruled } : {}),
      })),
      parties: accounts.map((n, i) => ({ role: labels[i], address: n.address, before: fmt(before[i]), after: fmt(after[i]), delta: fmt(after[i] - before[i]) })),
      totalSupply: { before: fmt(supplyBefore), after: fmt(supplyAfter), burned: fmt(supplyBefore - supplyAfter) },
      gas: [...gas].map(([action, g]) => ({ action, count: g.count, total: g.total.toString() })),
      ...(a && gotA?.model && gotA.modelCid ? { model: { jobId: a.jobId.toString(), path: gotA.model, root: a.root, cid: gotA.modelCid } } : {}),
      ...(swarm ? { swarm } : {}),
      failures,
      p2p: { stepHashesFetched: fetched('steps'), specsFetched: fetched('spec') },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      time: marks.map((m, i) => ({ phase: m.phase, seconds: Math.round((m.at - (i === 0 ? started : marks[i - 1].at)) / 100) / 10 })),
    };
  } catch (error) {
    if (o.signal?.aborted) throw new DevnetStoppedError(dir);
    throw error;
  } finally {
    o.signal?.removeEventListener('abort', stopChain);
    pretraining?.stop();
    await o.onEnd?.().catch(() => undefined);
    await submitter?.stop();
    await anvil?.stop();
  }
}

/** How a Finalized job stands, claiming no more than happened: re-executed and agreed, or only what the chain shows. */
function verificationOf(got: SubmitterResult | undefined, checked: VerifierResult | undefined): string {
  if (got?.unverified !== undefined) return `NOT verified: ${got.unverified.split('\n')[0]}`;
  if (checked?.agreed) return 'verified by re-execution: the verifier re-ran it and its root agreed';
  return got ? describeStanding(got) : 'not verified: the submitter did not report it';
}

/** Waits until the job has left `phase` (a solver claimed it). */
async function awaitPhaseAfter(ctx: NodeContext, jobId: bigint, phase: string, signal: AbortSignal): Promise<void> {
  while ((await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId })).phase === phase) await sleep(100, signal);
}

/** ETH sent to each role account on a chain given by RPC URL: a devnet's worth of gas at a few gwei. */
const DEFAULT_ETH_PER_NODE = '0.05';

const ROLE_NAMES = ['submitter', 'solver-honest', 'solver-cheater', 'verifier'] as const;

/** Chain clients for an account that needs no libp2p node (the deployer; the role accounts while they are funded). */
function accountOf(config: Pick<NodeConfig, 'rpcUrl' | 'chainId' | 'privateKey' | 'name'>, emit: Emit): Pick<NodeContext, 'address' | 'wallet' | 'tx' | 'name'> {
  const account = privateKeyToAccount(config.privateKey);
  const { walletClient } = createClients({ rpcUrl: config.rpcUrl, chainId: config.chainId, account });
  return {
    address: account.address,
    wallet: walletClient as MycelWalletClient,
    name: config.name,
    tx: (action, gas) => emit({ type: 'tx', node: config.name, action, gas: gas.toString() }),
  };
}

/** The summary as text. */
export function formatSummary(s: DevnetSummary): string {
  const lines = [
    s.jobs.length === 0 ? 'devnet: the swarm only (--swarm-only)' : `devnet: ${s.spec.steps}-step GPT (${s.spec.model.kind === 'gpt' ? `d=${s.spec.model.dModel}, ${s.spec.model.layers} layers` : s.spec.model.kind}) on ${s.spec.task}; cheater flipped a bit at step ${s.cheatAt}`,
    ...s.jobs.map((j) => `  job ${j.job} (#${j.jobId}) by the ${j.solver}: ${j.phase}${j.verification ? ` (${j.verification})` : ''}${j.dispute ? ` — dispute: ${j.dispute.loser} lost at the ${j.dispute.at} level after ${j.dispute.moves} moves` : ''}`),
    ...(s.swarm ? formatSwarm(s.swarm) : []),
    'balances (MYC)        before → after (delta)',
    ...s.parties.map((p) => `  ${p.role.padEnd(16)} ${p.before} → ${p.after} (${p.delta.startsWith('-') ? '' : '+'}${p.delta})`),
    `  total supply     ${s.totalSupply.before} → ${s.totalSupply.after} (burned ${s.totalSupply.burned})`,
    'gas per action (count, total)',
    ...s.gas.map((g) => `  ${g.action.padEnd(24)} ${String(g.count).padStart(3)}  ${g.total}`),
    ...(s.model ? [`trained model (job ${s.model.jobId}, root ${s.model.root.slice(0, 18)}…): ${s.model.path}`, `  libp2p blob: ${s.model.cid}`] : []),
    `over libp2p: ${s.p2p.specsFetched} job specs and ${s.p2p.stepHashesFetched} step-hash lists fetched and checked against the chain`,
    `time: ${s.seconds} s (${s.time.map((t) => `${t.phase} ${t.seconds} s`).join('; ')}); node data under ${s.dir}`,
    ...(s.failures.length ? ['FAILED (the summary above is what happened until then, read from the chain):', ...s.failures.map((f) => `  ${f}`)] : []),
  ];
  return lines.join('\n');
}

/** An amount of MYC to 2 decimals for the text (--json has it exact, to the wei). */
const myc = (x: string) => (Number.isInteger(Number(x)) ? x : Number(x).toFixed(2));
const signed = (x: string) => `${x.startsWith('-') ? '' : '+'}${myc(x)}`;

/** The swarm's part of the summary: per node its scores and claims by round, payouts and net; the disputes; the time. */
function formatSwarm(w: DevnetSwarmSummary): string[] {
  const col = (text: string | number, n: number) => String(text).padStart(n);
  return [
    `swarm on chain: ${w.rounds} rounds of 3 SAPO nodes (SwarmCoordinator ${w.coordinator}); starting policy ${w.policy.model}, ${w.policy.steps} pre-training steps (${w.policy.cached ? 'cached' : `made in ${w.policy.seconds} s beside the market`})`,
    `  node              scores/16 by round  claims stood/refuted  uses  bonds back  score share  use share  net MYC`,
    ...w.nodes.map((n) => `  ${n.role.padEnd(16)} ${col(n.scores.join(' '), 19)}  ${col(`${n.claims.filter((c) => c === 'stood').length}/${n.claims.filter((c) => c === 'refuted').length}`, 20)}  ${col(n.uses, 4)}  ${col(myc(n.bonds), 10)}  ${col(myc(n.scoreShare), 11)}  ${col(myc(n.useShare), 9)}  ${signed(n.net)}`),
    ...w.disputes.map((d) => `  round ${d.round}: the ${d.node}'s inflated score challenged by the ${d.challenger}: ${d.loser} lost at the ${d.at} level after ${d.moves} moves`),
    `  GRPO steps behind the used roots re-executed by the verifier: ${w.steps.checked}, ${w.steps.agreed} agreed (each could have been challenged until its round's challenge window closed)`,
    `  paid from the pool ${myc(w.poolPaid)} MYC; burned ${myc(w.burned)} MYC; left in the coordinator's pool ${w.poolLeft} MYC${Number.isInteger(Number(w.poolLeft)) ? '' : ' (shares round down to the wei)'}`,
    `  swarm time: ${w.policy.waited > 0 ? `waited ${w.policy.waited} s for the starting policy; ` : ''}${w.time.map((t) => `${t.phase} ${t.seconds} s`).join('; ')}`,
  ];
}
