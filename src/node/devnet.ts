/**
 * The whole network on one machine: anvil, the contracts with the real DisputeGame, funded and registered accounts,
 * a submitter, an honest solver, a cheating solver and a verifier. Job A goes to the honest solver (unchallenged:
 * finalized and paid); job B to the cheater (re-executed by the verifier, challenged, the dispute played on chain,
 * the cheater slashed: half its stake burned, half to the verifier, the submitter refunded). Each node runs a libp2p
 * node on 127.0.0.1 (the submitter's, in this process, is the bootstrap peer): the job spec goes to the solvers and
 * the verifier as a blob by CID, and the honest solver's model comes back to the submitter as a blob. The published
 * step hashes and the dispute move logs still go through the shared dir.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUnits, parseUnits, type Address, type Hex } from 'viem';
import { readContract } from 'viem/actions';
import { MycelError } from '../platform/errors.js';
import { startAnvil, type Anvil } from '../chain/anvil.js';
import { deployMycel } from '../chain/deploy.js';
import { createClients } from '../chain/clients.js';
import { send } from '../chain/actions/send.js';
import { approve, getJob, register } from '../chain/index.js';
import { MycelTokenAbi } from '../chain/generated/MycelToken.js';
import { parseJobSpec, PRESETS, type JobSpec, type JobSpecInput } from '../train/index.js';
import { nodeContext, sleep, type Contracts, type Emit, type NodeContext, type NodeEvent } from './context.js';
import { spawnRole } from './spawn.js';
import { putSpec, runSolver, runVerifier, submitJob, type SolverResult, type VerifierResult } from './roles.js';
import { bootstrapAddr, getBlobTo, startP2p } from './p2p.js';
import type { MycelNode } from '../p2p/node.js';

const TOKENS = (n: number | string) => parseUnits(String(n), 18);

export type DevnetOptions = {
  /** Training steps of each job (default 40). */
  steps?: number;
  /** The job spec before `steps` is applied; default the `quick` preset (a small GPT sorting digits). */
  spec?: JobSpecInput;
  /** The step the cheater cheats at; default a random step. */
  cheatAt?: number;
  /** Seconds a committed root can be challenged (default 20). */
  challengeWindow?: number;
  /** Where the nodes keep their stores and the shared exchange dir; default a new temp dir. */
  dir?: string;
  reward?: bigint;
  stake?: bigint;
  /** Progress lines and transactions, as they happen. */
  onEvent?: (e: NodeEvent) => void;
  /** Run the solvers and the verifier in this process instead of one process each. */
  inProcess?: boolean;
  signal?: AbortSignal;
};

export type Party = { role: string; address: Address; before: string; after: string; delta: string };

export type DevnetSummary = {
  rpcUrl: string;
  contracts: Contracts;
  dir: string;
  spec: { steps: number; model: JobSpec['model']; task: string };
  cheatAt: number;
  jobs: { job: string; jobId: string; solver: string; phase: string; root: Hex; dispute?: { loser: string; at: string; moves: number } }[];
  parties: Party[];
  totalSupply: { before: string; after: string; burned: string };
  gas: { action: string; count: number; total: string }[];
  /** The honest solver's model: `cid` is its libp2p blob, `path` the submitter's copy fetched over libp2p. */
  model: { jobId: string; path: string; root: Hex; cid?: string };
  seconds: number;
};

/** Ctrl-C (the signal) stopped the devnet: anvil and every node process are stopped. */
export class DevnetStoppedError extends MycelError {
  override name = 'DevnetStoppedError';
  constructor(dir: string) {
    super('The devnet was stopped before the scenario finished; anvil and every node it started are stopped.', { metaMessages: [`Node data so far: ${dir}`] });
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
  const emit: Emit = (e) => {
    events.push(e);
    onModel(e);
    o.onEvent?.(e);
  };
  const log = (text: string) => emit({ type: 'log', node: 'devnet', text });
  // The submitter fetches the honest solver's model over libp2p as soon as it is announced (the solver's process,
  // its only provider, ends after the job is finalized).
  let p2p: MycelNode | undefined;
  const models = new Map<string, Promise<string>>();
  const onModel = (e: NodeEvent) => {
    if (e.type !== 'model' || !e.cid || !p2p || e.node !== 'solver-honest' || models.has(e.jobId)) return;
    const out = join(dir, 'submitter', 'models', `job-${e.jobId}.safetensors`);
    const got = getBlobTo(p2p, e.cid, out).then(() => {
      log(`submitter fetched the model of job ${e.jobId} over libp2p (blob ${e.cid!.slice(0, 12)}…)`);
      return out;
    });
    got.catch(() => {});
    models.set(e.jobId, got);
  };

  const anvil: Anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  const stopAnvil = () => void anvil.stop();
  o.signal?.addEventListener('abort', stopAnvil, { once: true });
  try {
    log(`anvil at ${anvil.rpcUrl} (pid ${anvil.pid})`);
    const keys = anvil.accounts.map((a) => a.privateKey);
    const mk = (name: string, i: number, contracts: Contracts) =>
      nodeContext({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, privateKey: keys[i], contracts, dataDir: join(dir, name), sharedDir: join(dir, 'shared'), name }, emit);
    const zero = '0x0000000000000000000000000000000000000000' as Address;
    const deployer = mk('deployer', 0, { token: zero, registry: zero, market: zero, disputeGame: zero });
    const d = await deployMycel(deployer.wallet, { disputeGame: { timeout: 600n }, minStake: TOKENS(100), unbondingDelay: 3_600n, challengeWindow: BigInt(o.challengeWindow ?? 20) });
    const contracts: Contracts = { token: d.token, registry: d.registry, market: d.market, disputeGame: d.disputeGame! };
    for (const [k, v] of Object.entries(d.gasUsed)) if (v !== undefined) deployer.tx(`deploy ${k}`, v);
    log(`deployed token ${d.token}, registry ${d.registry}, market ${d.market}, DisputeGame ${d.disputeGame}`);

    const submitter = mk('submitter', 1, contracts);
    // The submitter's libp2p node is the bootstrap peer; it puts the spec before the other nodes start, so each gets
    // the spec's CID with its config.
    let p2pConfig: { bootstrap: string[]; specCids: Record<string, string> } | undefined;
    if (!o.inProcess) {
      p2p = submitter.p2p = await startP2p({ privateKey: submitter.privateKey, dataDir: submitter.dataDir });
      const put = await putSpec(submitter, spec);
      p2pConfig = { bootstrap: [bootstrapAddr(p2p)], specCids: { [put.specHash.toLowerCase()]: put.cid! } };
      log(`libp2p bootstrap node ${p2pConfig.bootstrap[0]}; job spec put as blob ${put.cid}`);
    }
    const honest = mk('solver-honest', 2, contracts);
    const cheater = mk('solver-cheater', 3, contracts);
    const verifier = mk('verifier', 4, contracts);
    const nodes: [string, NodeContext][] = [['submitter', submitter], ['honest solver', honest], ['cheating solver', cheater], ['verifier', verifier]];
    for (const [, n] of nodes) {
      const t = await send(deployer.wallet, { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [n.address, TOKENS(1_000)] });
      deployer.tx('fund (transfer)', t.gasUsed);
      n.tx('approve', (await approve(n.wallet, { token: d.token, spender: d.market, amount: TOKENS(1_000) })).gasUsed);
      if (n === submitter) continue;
      n.tx('approve', (await approve(n.wallet, { token: d.token, spender: d.registry, amount: TOKENS(100) })).gasUsed);
      n.tx('register', (await register(n.wallet, { registry: d.registry, stake: TOKENS(100) })).gasUsed);
    }
    log('funded 1,000 MYC each; solvers and verifier registered with 100 MYC bonds');
    const balance = (a: Address) => readContract(deployer.publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [a] });
    const supply = () => readContract(deployer.publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
    const before = await Promise.all(nodes.map(([, n]) => balance(n.address)));
    const supplyBefore = await supply();

    // Anvil mines only when a transaction comes: tick a block a second so that the chain's clock moves on (the
    // challenge window closes, deadlines pass) as on a real chain.
    const { testClient } = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId });
    const ticker = setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), 1_000);
    const ac = new AbortController();
    const stop = () => ac.abort(new Error('devnet stopped'));
    o.signal?.addEventListener('abort', stop, { once: true });
    const children: { stop(): void }[] = [];
    // Each node runs as its own process (child.ts) unless `inProcess`; either way with its own key and clients.
    const role = <R>(n: NodeContext, spec: { role: 'solver' | 'verifier'; maxJobs: number; cheatAt?: number }): Promise<R> => {
      if (o.inProcess) {
        const opts = { maxJobs: spec.maxJobs, signal: ac.signal, ...(spec.cheatAt === undefined ? {} : { cheatAt: spec.cheatAt }) };
        const r = (spec.role === 'solver' ? runSolver(n, opts) : runVerifier(n, opts)) as Promise<R>;
        r.catch(() => {});
        return r;
      }
      const { rpcUrl, chainId, privateKey, dataDir, sharedDir, name } = n;
      const p = spawnRole<R>({ rpcUrl, chainId, privateKey, contracts, dataDir, sharedDir, name, ...p2pConfig, ...spec }, emit);
      children.push(p);
      log(`started ${spec.role} ${name} as process ${p.child.pid}`);
      p.result.catch(() => {}); // awaited below; a stop before then is not an unhandled rejection
      return p.result;
    };
    ac.signal.addEventListener('abort', () => children.forEach((c) => c.stop()), { once: true });
    const verifying = role<VerifierResult[]>(verifier, { role: 'verifier', maxJobs: 2 });
    const solvingA = role<SolverResult[]>(honest, { role: 'solver', maxJobs: 1 });
    const jobA = await submitJob(submitter, { spec, reward, stake });
    while ((await getJob(submitter.publicClient, { market: d.market, jobId: jobA.jobId })).phase === 'Open') await sleep(100, ac.signal);
    const solvingB = role<SolverResult[]>(cheater, { role: 'solver', maxJobs: 1, cheatAt });
    const jobB = await submitJob(submitter, { spec, reward, stake });
    let results: [SolverResult[], SolverResult[], VerifierResult[]];
    try {
      results = await Promise.all([solvingA, solvingB, verifying]);
    } catch (error) {
      stop();
      throw error;
    } finally {
      children.forEach((c) => c.stop());
      clearInterval(ticker);
      o.signal?.removeEventListener('abort', stop);
    }
    const [[a], [b], checked] = results;
    const fetched = models.get(a.jobId.toString());
    const modelPath = fetched ? await fetched : a.model;
    const ruled = checked.find((v) => String(v.jobId) === String(b.jobId))?.dispute ?? b.dispute;

    const after = await Promise.all(nodes.map(([, n]) => balance(n.address)));
    const supplyAfter = await supply();
    const fmt = (x: bigint) => formatUnits(x, 18);
    const gas = new Map<string, { count: number; total: bigint }>();
    for (const e of events) {
      if (e.type !== 'tx') continue;
      const g = gas.get(e.action) ?? { count: 0, total: 0n };
      g.count++;
      g.total += BigInt(e.gas);
      gas.set(e.action, g);
    }
    return {
      rpcUrl: anvil.rpcUrl,
      contracts,
      dir,
      spec: { steps, model: spec.model, task: spec.data.kind === 'task' ? spec.data.task : spec.data.kind },
      cheatAt: Math.min(Math.max(1, cheatAt), steps),
      jobs: [
        { job: 'A', jobId: jobA.jobId.toString(), solver: 'honest solver', phase: a.phase, root: a.root },
        { job: 'B', jobId: jobB.jobId.toString(), solver: 'cheating solver', phase: b.phase, root: b.root, ...(ruled ? { dispute: ruled } : {}) },
      ],
      parties: nodes.map(([role, n], i) => ({ role, address: n.address, before: fmt(before[i]), after: fmt(after[i]), delta: fmt(after[i] - before[i]) })),
      totalSupply: { before: fmt(supplyBefore), after: fmt(supplyAfter), burned: fmt(supplyBefore - supplyAfter) },
      gas: [...gas].map(([action, g]) => ({ action, count: g.count, total: g.total.toString() })),
      model: { jobId: a.jobId.toString(), path: modelPath, root: a.root, ...(a.modelCid ? { cid: a.modelCid } : {}) },
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } catch (error) {
    if (o.signal?.aborted) throw new DevnetStoppedError(dir);
    throw error;
  } finally {
    o.signal?.removeEventListener('abort', stopAnvil);
    await p2p?.stop().catch(() => undefined);
    await anvil.stop();
  }
}

/** The summary as text. */
export function formatSummary(s: DevnetSummary): string {
  const lines = [
    `devnet: ${s.spec.steps}-step GPT (${s.spec.model.kind === 'gpt' ? `d=${s.spec.model.dModel}, ${s.spec.model.layers} layers` : s.spec.model.kind}) on ${s.spec.task}; cheater flipped a bit at step ${s.cheatAt}`,
    ...s.jobs.map((j) => `  job ${j.job} (#${j.jobId}) by the ${j.solver}: ${j.phase}${j.dispute ? ` — dispute: ${j.dispute.loser} lost at the ${j.dispute.at} level after ${j.dispute.moves} moves` : ''}`),
    'balances (MYC)        before → after (delta)',
    ...s.parties.map((p) => `  ${p.role.padEnd(16)} ${p.before} → ${p.after} (${p.delta.startsWith('-') ? '' : '+'}${p.delta})`),
    `  total supply     ${s.totalSupply.before} → ${s.totalSupply.after} (burned ${s.totalSupply.burned})`,
    'gas per action (count, total)',
    ...s.gas.map((g) => `  ${g.action.padEnd(24)} ${String(g.count).padStart(3)}  ${g.total}`),
    `trained model (job ${s.model.jobId}, root ${s.model.root.slice(0, 18)}…): ${s.model.path}`,
    ...(s.model.cid ? [`  libp2p blob: ${s.model.cid}`] : []),
    `time: ${s.seconds} s; node data under ${s.dir}`,
  ];
  return lines.join('\n');
}
