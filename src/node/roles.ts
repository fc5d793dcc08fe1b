/**
 * The three roles of a node. A submitter posts a job (the spec goes out as a libp2p blob, or to the shared dir for a
 * node without libp2p; its keccak256 on chain, the
 * dispute-game facts with setRules while the job is Open). A solver claims an open job, trains it with runJob
 * (optionally cheating at step T: it flips one bit of an op that writes a parameter), publishes its step hashes and
 * model, commits its run root, then either finalizes after the challenge window or plays the dispute. A verifier
 * re-executes every committed job, challenges a root it disagrees with, and plays its side of the dispute.
 */
import { join } from 'node:path';
import { getAddress, keccak256, type Address, type Hex } from 'viem';
import { getContractEvents } from 'viem/actions';
import { send } from '../chain/actions/send.js';
import { challenge, claimJob, commitRoot, finalize, getJob, postJob, type GetJobReturnType } from '../chain/index.js';
import { DisputeGameAbi } from '../chain/generated/DisputeGame.js';
import { JobMarketAbi } from '../chain/generated/JobMarket.js';
import { jobFacts, type JobFacts } from '../chain/dispute-moves.js';
import { buildProgram, canonicalJson, parseJobSpec, runJob, Store, type JobSpec, type RunRecord, type TrainProgram } from '../train/index.js';
import { adversary, replayParty, rulesOf, type Rules } from '../verify/index.js';
import { playDispute, type DisputeOutcome } from './dispute.js';
import { chainNow, sleep, SharedDir, type NodeContext, type PublishedRun } from './context.js';
import { getBlob, putBlob } from './p2p.js';

export type Job = { spec: JobSpec; program: TrainProgram; rules: Rules; facts: JobFacts };

const jobCache = new Map<string, Job>();

/** The program, game rules and facts of a spec (cached per spec: rules and facts are pure functions of it). */
export function jobOf(spec: JobSpec): Job {
  const key = canonicalJson(spec);
  let job = jobCache.get(key);
  if (!job) {
    const program = buildProgram(spec);
    const rules = rulesOf(program);
    job = { spec, program, rules, facts: jobFacts(rules) };
    jobCache.set(key, job);
  }
  return job;
}

const specBytes = (spec: JobSpec) => new TextEncoder().encode(canonicalJson(spec));

/** The spec text checked against the on-chain spec hash. */
function checkedSpec(bytes: Uint8Array, specHash: Hex, from: string): JobSpec {
  if (keccak256(bytes).toLowerCase() !== specHash.toLowerCase()) throw new Error(`the spec for ${specHash} from ${from} does not hash to it`);
  return parseJobSpec(JSON.parse(new TextDecoder().decode(bytes)));
}

/**
 * Fetches a job's spec, over libp2p by its blob CID when this node has a libp2p node and knows the CID, else from the
 * shared dir, and checks it against the on-chain spec hash.
 */
async function fetchSpec(ctx: NodeContext, specHash: Hex, signal?: AbortSignal): Promise<JobSpec> {
  const cid = ctx.specCids?.[specHash.toLowerCase()];
  if (ctx.p2p && cid) {
    const bytes = await getBlob(ctx.p2p, cid, join(ctx.dataDir, 'tmp'), signal ? { signal } : {});
    ctx.log(`got spec ${specHash.slice(0, 10)}… over libp2p (blob ${cid.slice(0, 12)}…)`);
    return checkedSpec(bytes, specHash, `blob ${cid}`);
  }
  const shared = new SharedDir(ctx.sharedDir);
  for (let i = 0; ; i++) {
    const text = await shared.get(shared.specPath(specHash));
    if (text !== undefined) return checkedSpec(new TextEncoder().encode(text), specHash, ctx.sharedDir);
    if (i > 200) throw new Error(`no spec for ${specHash} in ${ctx.sharedDir}`);
    await sleep(50);
  }
}

/** Puts a spec: over libp2p (returns its blob CID) when the node has a libp2p node, else into the shared dir. */
export async function putSpec(ctx: NodeContext, spec: JobSpec): Promise<{ specHash: Hex; cid?: string }> {
  const bytes = specBytes(spec);
  const specHash = keccak256(bytes);
  if (ctx.p2p) return { specHash, cid: await putBlob(ctx.p2p, join(ctx.dataDir, 'specs', `${specHash.toLowerCase()}.json`), bytes) };
  const shared = new SharedDir(ctx.sharedDir);
  await shared.put(shared.specPath(specHash), bytes);
  return { specHash };
}

async function fetchRun(ctx: NodeContext, jobId: bigint, who: Address, signal?: AbortSignal): Promise<PublishedRun> {
  const shared = new SharedDir(ctx.sharedDir);
  for (;;) {
    const text = await shared.get(shared.runPath(jobId, who));
    if (text !== undefined) return JSON.parse(text) as PublishedRun;
    await sleep(50, signal);
  }
}

// ---------------------------------------------------------------- submitter

export type PostedJob = { jobId: bigint; specHash: Hex };

export async function submitJob(ctx: NodeContext, o: { spec: JobSpec; reward: bigint; stake: bigint; deadlineIn?: bigint }): Promise<PostedJob> {
  const bytes = specBytes(o.spec);
  const { specHash, cid } = await putSpec(ctx, o.spec);
  const { facts } = jobOf(o.spec);
  const posted = await postJob(ctx.wallet, { market: ctx.contracts.market, spec: bytes, steps: BigInt(o.spec.steps), reward: o.reward, stake: o.stake, deadlineIn: o.deadlineIn ?? 3_600n });
  ctx.tx('postJob', posted.gasUsed, posted.jobId);
  const rules = await send(ctx.wallet, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: 'setRules', args: [posted.jobId, facts.h0, facts.root, facts.size] });
  ctx.tx('setRules', rules.gasUsed, posted.jobId);
  ctx.log(`posted job ${posted.jobId} (${o.spec.steps} steps, spec ${specHash.slice(0, 10)}…${cid ? `, blob ${cid.slice(0, 12)}…` : ''}) with its dispute rules`);
  return { jobId: posted.jobId, specHash };
}

// ---------------------------------------------------------------- solver

export type SolverOptions = {
  /** Cheat at this step (1-based): flip one bit of an op output that writes a parameter. */
  cheatAt?: number;
  /** Stop after this many jobs. */
  maxJobs?: number;
  signal?: AbortSignal;
};

export type SolverResult = { jobId: bigint; phase: string; root: Hex; model: string; modelCid?: string; dispute?: DisputeOutcome };

export function cheatingProgram(honest: TrainProgram, t: number): TrainProgram {
  const writer = rulesOf(honest).structure(t).stateOutputs.find((s) => s.name.startsWith('params.'))!.source as { index: number };
  return adversary.flipOpOutput(honest, t, writer.index, 0, 3);
}

async function openJobs(ctx: NodeContext): Promise<GetJobReturnType[]> {
  const logs = await getContractEvents(ctx.publicClient, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'JobPosted', fromBlock: 0n });
  const ids = logs.map((l) => (l.args as { jobId: bigint }).jobId);
  const jobs = await Promise.all(ids.map((jobId) => getJob(ctx.publicClient, { market: ctx.contracts.market, jobId })));
  return jobs.filter((j) => j.phase === 'Open');
}

export async function runSolver(ctx: NodeContext, o: SolverOptions = {}): Promise<SolverResult[]> {
  const results: SolverResult[] = [];
  while (results.length < (o.maxJobs ?? Infinity)) {
    const [job] = await openJobs(ctx);
    if (!job) {
      await sleep(100, o.signal);
      continue;
    }
    try {
      const { gasUsed } = await claimJob(ctx.wallet, { market: ctx.contracts.market, jobId: job.jobId });
      ctx.tx('claimJob', gasUsed, job.jobId);
    } catch {
      continue; // another solver was first
    }
    results.push(await solve(ctx, job, o));
  }
  return results;
}

async function solve(ctx: NodeContext, job: GetJobReturnType, o: SolverOptions): Promise<SolverResult> {
  const shared = new SharedDir(ctx.sharedDir);
  const spec = await fetchSpec(ctx, job.specHash, o.signal);
  const j = jobOf(spec);
  const cheat = o.cheatAt !== undefined ? Math.min(Math.max(1, o.cheatAt), spec.steps) : undefined;
  const program = cheat === undefined ? j.program : cheatingProgram(j.program, cheat);
  const store = new Store(join(ctx.dataDir, `job-${job.jobId}`));
  ctx.log(`claimed job ${job.jobId}; training ${spec.steps} steps${cheat === undefined ? '' : ` (cheating at step ${cheat})`}`);
  const started = performance.now();
  const { record } = await runJob(program, { store, signal: o.signal });
  const root = `0x${record.commitment!}` as Hex;
  const weights = await store.getObject(record.checkpoints[String(spec.steps)]);
  let model = shared.modelPath(job.jobId);
  let modelCid: string | undefined;
  if (ctx.p2p) {
    // The model goes out as a blob over libp2p: the path is this node's own copy.
    model = join(ctx.dataDir, 'models', `job-${job.jobId}.safetensors`);
    modelCid = await putBlob(ctx.p2p, model, weights);
  } else {
    await shared.put(model, weights);
  }
  await shared.put(shared.runPath(job.jobId, ctx.address), JSON.stringify({ stepHashes: record.stepHashes, commitment: record.commitment! } satisfies PublishedRun));
  ctx.emit({ type: 'model', node: ctx.name, jobId: job.jobId.toString(), path: model, root, ...(modelCid ? { cid: modelCid } : {}) });
  const committed = await commitRoot(ctx.wallet, { market: ctx.contracts.market, jobId: job.jobId, root });
  ctx.tx('commitRoot', committed.gasUsed, job.jobId);
  ctx.log(`trained job ${job.jobId} in ${((performance.now() - started) / 1000).toFixed(1)} s; committed root ${root.slice(0, 10)}…`);
  return { jobId: job.jobId, root, model, ...(modelCid ? { modelCid } : {}), ...(await afterCommit(ctx, job.jobId, j, { program, store, record }, o.signal)) };
}

async function afterCommit(ctx: NodeContext, jobId: bigint, j: Job, mine: { program: TrainProgram; store: Store; record: RunRecord }, signal?: AbortSignal): Promise<{ phase: string; dispute?: DisputeOutcome }> {
  for (;;) {
    const job = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
    if (job.phase === 'Finalized' || job.phase === 'Refuted') return { phase: job.phase };
    if (job.phase === 'Disputed') {
      ctx.log(`job ${jobId} was challenged by ${job.challenger.slice(0, 10)}…: playing the dispute as solver`);
      const theirs = await fetchRun(ctx, jobId, job.challenger, signal);
      const party = replayParty({ role: 'solver', program: mine.program, reference: j.program, store: mine.store, record: mine.record, opponentHashes: theirs.stepHashes });
      const dispute = await playDispute(ctx, { disputeId: job.disputeId, jobId, rules: j.rules, facts: j.facts, party, roots: { solver: job.root, challenger: job.challengerRoot }, signal });
      const after = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
      ctx.log(`job ${jobId}: dispute ruled, ${dispute.loser} lost (${dispute.at}); job ${after.phase}`);
      return { phase: after.phase, dispute };
    }
    if (job.phase === 'Committed') {
      const now = await chainNow(ctx);
      if (now > job.challengeEnds) {
        try {
          const { gasUsed } = await finalize(ctx.wallet, { market: ctx.contracts.market, jobId });
          ctx.tx('finalize', gasUsed, jobId);
          ctx.log(`job ${jobId} finalized unchallenged: reward and stake paid`);
        } catch {
          /* a challenge landed first, or the window is not over by the next block's clock */
        }
        continue;
      }
    }
    await sleep(200, signal);
  }
}

// ---------------------------------------------------------------- verifier

export type VerifierOptions = { maxJobs?: number; signal?: AbortSignal };
export type VerifierResult = { jobId: bigint; agreed: boolean; dispute?: DisputeOutcome };

export async function runVerifier(ctx: NodeContext, o: VerifierOptions = {}): Promise<VerifierResult[]> {
  const seen = new Set<string>();
  const work: Promise<VerifierResult>[] = [];
  while (work.length < (o.maxJobs ?? Infinity)) {
    const logs = await getContractEvents(ctx.publicClient, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'RootCommitted', fromBlock: 0n });
    for (const l of logs) {
      const { jobId } = l.args as { jobId: bigint };
      if (seen.has(jobId.toString()) || work.length >= (o.maxJobs ?? Infinity)) continue;
      seen.add(jobId.toString());
      work.push(verifyJob(ctx, jobId, o.signal));
    }
    if (work.length < (o.maxJobs ?? Infinity)) await sleep(100, o.signal);
  }
  return Promise.all(work);
}

async function verifyJob(ctx: NodeContext, jobId: bigint, signal?: AbortSignal): Promise<VerifierResult> {
  const shared = new SharedDir(ctx.sharedDir);
  const job = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
  const spec = await fetchSpec(ctx, job.specHash, signal);
  const j = jobOf(spec);
  const store = new Store(join(ctx.dataDir, `job-${jobId}`));
  ctx.log(`re-executing job ${jobId} (${spec.steps} steps) to check root ${job.root.slice(0, 10)}…`);
  const { record } = await runJob(j.program, { store, signal });
  const mine = `0x${record.commitment!}` as Hex;
  if (mine.toLowerCase() === job.root.toLowerCase()) {
    ctx.log(`job ${jobId}: root agrees with my re-execution; no challenge`);
    return { jobId, agreed: true };
  }
  await shared.put(shared.runPath(jobId, ctx.address), JSON.stringify({ stepHashes: record.stepHashes, commitment: record.commitment! } satisfies PublishedRun));
  const theirs = await fetchRun(ctx, jobId, getAddress(job.solver), signal);
  const first = theirs.stepHashes.findIndex((h, i) => h !== record.stepHashes[i]);
  ctx.log(`job ${jobId}: root disagrees (first differing state: step ${first}); challenging`);
  const c = await challenge(ctx.wallet, { market: ctx.contracts.market, jobId, root: mine });
  ctx.tx('challenge', c.gasUsed, jobId);
  const party = replayParty({ role: 'challenger', program: j.program, reference: j.program, store, record, opponentHashes: theirs.stepHashes });
  const dispute = await playDispute(ctx, { disputeId: c.disputeId, jobId, rules: j.rules, facts: j.facts, party, roots: { solver: job.root, challenger: mine }, signal });
  ctx.log(`job ${jobId}: dispute ruled, ${dispute.loser} lost (${dispute.at}) after ${dispute.moves} moves`);
  return { jobId, agreed: false, dispute };
}
