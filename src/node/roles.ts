/**
 * The three roles of a node. A submitter posts a job (the spec's keccak256 on chain, the spec itself as a libp2p blob
 * announced on the market topic; the dispute-game facts with setRules while the job is Open, and a challenge window
 * sized from the job, node/window.ts) and collects the model. A solver claims an open job, trains it with runJob
 * (optionally cheating at step T: it flips one bit of an op that writes a parameter), announces its step hashes (for
 * the submitter's model check; the game never needs them) and model as blobs, commits its run root, then plays every
 * dispute opened on the job and finalizes once the window has closed with none in play. A verifier re-executes every
 * committed job, challenges a root it disagrees with, and plays its side of its own dispute.
 *
 * Roles learn of jobs from confirmed market events, starting at the block they joined at, or after a restart where
 * they stopped reading (events.ts, cursor.ts: a job posted while the node was down is still taken); whatever they
 * get from a peer (spec, step hashes, model) is checked against the chain before it is used.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { anySignal } from 'any-signal';
import { concat, getAddress, keccak256, type Hex } from 'viem';
import { getBlock, getBlockNumber, getContractEvents, readContract } from 'viem/actions';
import { send } from '../chain/actions/send.js';
import { challenge, claimJob, commitRoot, ContractRevertError, finalize, getJob, JobRulesMismatchError, JobSpecMismatchError, postJob, type GetJobReturnType } from '../chain/index.js';
import { JobMarketAbi } from '../chain/generated/JobMarket.js';
import { jobFacts, type JobFacts } from '../chain/dispute-moves.js';
import { MycelError } from '../platform/errors.js';
import { canonicalJson, decodeCheckpoint, runJob, Store, writeAtomic, type JobProgram, type ProgramSpec, type RunRecord, type StepReport, type TrainProgram } from '../train/index.js';
import { adversary, catchProbability, checkSampledSteps, replayParty, rulesOf, sampleSteps, type Rules } from '../verify/index.js';
import type { AnnounceKind } from './announce.js';
import { playDispute, type DisputeOutcome } from './dispute.js';
import { sleep, trainEvents, type NodeContext } from './context.js';
import { confirmedEvents } from './events.js';
import { getBlob, putBlob } from './p2p.js';
import { challengeWindowFor } from './window.js';
import { checkedStepHashes, checkModel, encodeStepHashes } from './step-hashes.js';
import { blobsOf, memoryOf, parseMarketSpec, programOf, type MarketSpec } from './job-kinds.js';
import { NodeState, type HeldJob } from './state.js';
import { EventCursor, type EventPosition } from './cursor.js';

/** `factsSeconds`: how long building the facts took here (what the submitter sizes the challenge window from). */
export type Job = { spec: MarketSpec; program: JobProgram; rules: Rules; facts: JobFacts; factsSeconds: number };

/**
 * Built jobs kept, the most recently used last. A job's program, rules and facts tree are large (4.6 MB for a 4-step
 * micro job, growing with its steps) and a node works on a few jobs at a time (a solver one, a verifier those under
 * check); a job evicted while in use stays with whoever uses it. Unbounded, the cache grew with every distinct spec a
 * long-running node saw: bench soak measured 165 MB/hour of RSS.
 */
const jobCache = new Map<string, Job>();
const JOB_CACHE_SIZE = 4;

/**
 * The program, game rules and facts of a spec (cached per spec: rules and facts are pure functions of it and of the
 * blobs it names by CID, handed in as `blobs`). The facts are built on first use: they take a pass over every step's
 * program, which a submitter (setRules), a solver before it claims and a verifier before it challenges need.
 */
export function jobOf(spec: MarketSpec, blobs?: ReadonlyMap<string, Uint8Array>): Job {
  const key = canonicalJson(spec);
  let job = jobCache.get(key);
  if (job) jobCache.delete(key); // set again below, as the most recent
  else {
    const program = programOf(spec, blobs);
    const rules = rulesOf(program);
    let facts: JobFacts | undefined;
    let seconds = 0;
    const build = () => {
      const started = performance.now();
      facts = jobFacts(rules);
      seconds = (performance.now() - started) / 1000;
      return facts;
    };
    job = { spec, program, rules, get facts() { return facts ?? build(); }, get factsSeconds() { if (!facts) build(); return seconds; } };
  }
  jobCache.set(key, job);
  if (jobCache.size > JOB_CACHE_SIZE) jobCache.delete(jobCache.keys().next().value!);
  return job;
}

/**
 * jobOf, after fetching the blobs the spec names (an assistant job's dataset and base model) over libp2p: from this
 * node's own store if it holds them (no transfer), else from `providers` (the peers that announced the job's spec) or the DHT. The
 * program checks them (a dataset that is not its CID's, or not signed by the person the spec names, is a DatasetError).
 */
export async function loadJob(ctx: Pick<NodeContext, 'p2p' | 'dataDir' | 'log'>, spec: MarketSpec, o: { signal?: AbortSignal; providers?: readonly string[] } = {}): Promise<Job> {
  const cids = blobsOf(spec);
  if (cids.length === 0) return jobOf(spec);
  // Fetched even when the job is built already (by another role of this process): a node that takes up a job holds,
  // and so serves, the data it is trained on.
  const blobs = new Map<string, Uint8Array>();
  for (const cid of cids) {
    blobs.set(cid, await getBlob(ctx.p2p, cid, join(ctx.dataDir, 'tmp'), { ...(o.signal ? { signal: o.signal } : {}), ...(o.providers ? { providers: o.providers } : {}) }));
    ctx.log(`got blob ${cid.slice(0, 12)}… (${blobs.get(cid)!.length} bytes), named by a job's spec`);
  }
  return jobOf(spec, blobs);
}

/** The peers that announced the job's spec (heard already, or within 200 ms): they hold the blobs it names too. */
async function specAnnouncers(ctx: Pick<NodeContext, 'announcements'>, job: Pick<GetJobReturnType, 'jobId' | 'specHash'>): Promise<string[]> {
  const from: string[] = [];
  try {
    for await (const a of ctx.announcements.candidates('spec', job.jobId, job.specHash, AbortSignal.timeout(200))) from.push(a.from);
  } catch {
    // The wait is over: those heard so far.
  }
  return from;
}

/**
 * The job of a posted spec (loadJob), or undefined, said in the log and as a `refused` event, when the blobs it names
 * are refused (a dataset that is not its CID's or not signed by the person the spec names): nobody can train it.
 */
async function loadPostedJob(ctx: NodeContext, job: GetJobReturnType, spec: MarketSpec, consequence: string, signal?: AbortSignal): Promise<Job | undefined> {
  try {
    return await loadJob(ctx, spec, { ...(signal ? { signal } : {}), providers: await specAnnouncers(ctx, job) });
  } catch (error) {
    if (!(error instanceof MycelError)) throw error;
    ctx.emit({ type: 'refused', node: ctx.name, jobId: job.jobId.toString(), reason: error.shortMessage });
    ctx.log(`job ${job.jobId}: ${consequence}: ${error.message}`);
    return undefined;
  }
}

/**
 * Throws JobRulesMismatchError unless the job's dispute rules on chain are the ones its spec gives (h_0 and the facts
 * tree): a party checks them before it stakes, since a dispute is refereed by those facts, not by the spec.
 */
export async function checkRules(ctx: Pick<NodeContext, 'publicClient' | 'contracts'>, jobId: bigint, j: Pick<Job, 'facts'>): Promise<void> {
  const actual = await readContract(ctx.publicClient, { address: ctx.contracts.market, abi: JobMarketAbi, functionName: 'rulesOf', args: [jobId] });
  const expected = { h0: j.facts.h0, root: j.facts.root, size: j.facts.size };
  const same = actual.set && actual.h0.toLowerCase() === expected.h0.toLowerCase() && actual.factsRoot.toLowerCase() === expected.root.toLowerCase() && actual.factsSize === expected.size;
  if (!same) throw new JobRulesMismatchError({ jobId, expected, actual });
}

/**
 * Checks the job's rules (checkRules); on a mismatch the node logs it and emits an `unverified` event, and returns the
 * reason: whatever happens to the job on chain, this node never calls it verified.
 */
async function rulesVerdict(ctx: NodeContext, jobId: bigint, j: Pick<Job, 'facts'>, consequence: string): Promise<string | undefined> {
  try {
    await checkRules(ctx, jobId, j);
    return undefined;
  } catch (error) {
    if (!(error instanceof JobRulesMismatchError)) throw error;
    ctx.emit({ type: 'unverified', node: ctx.name, jobId: jobId.toString(), reason: error.message });
    ctx.log(`job ${jobId}: NOT VERIFIED: ${error.message} ${consequence}`);
    return error.message;
  }
}

/**
 * Whether the job's memory estimate (train/memory.ts) fits `limit` bytes; if not, the node says so (a `log` line and
 * a `refused` event) before it stakes or trains anything.
 */
function fitsMemory(ctx: NodeContext, jobId: bigint, spec: MarketSpec, limit: number | undefined, consequence: string): boolean {
  if (limit === undefined) return true;
  // The vocabulary is asked only of a GPT job, whose program needs no blob to build.
  const { bytes, breakdown } = memoryOf(spec, () => (jobOf(spec).program as TrainProgram).tokenizer.vocabSize);
  if (bytes <= limit) return true;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const reason = `needs about ${mib(bytes)} of memory (${breakdown}), above this node's limit of ${mib(limit)}`;
  ctx.emit({ type: 'refused', node: ctx.name, jobId: jobId.toString(), reason });
  ctx.log(`job ${jobId}: ${consequence}: it ${reason}. Raise the limit with --max-memory GIB.`);
  return false;
}

const specBytes = (spec: MarketSpec) => new TextEncoder().encode(canonicalJson(spec));

/**
 * The first announced blob of (kind, job, key) that `check` accepts. A blob that cannot be fetched or that `check`
 * rejects (a MycelError naming why) is reported and skipped: a forged announcement must not stop the node, which
 * waits for the genuine one.
 */
async function discover<T>(ctx: Pick<NodeContext, 'p2p' | 'announcements' | 'dataDir' | 'log'>, kind: AnnounceKind, jobId: bigint, key: Hex, check: (bytes: Uint8Array, cid: string) => T, signal?: AbortSignal): Promise<T & {}> {
  for await (const a of ctx.announcements.candidates(kind, jobId, key, signal)) {
    let bytes: Uint8Array;
    try {
      // The announcer holds the blob: it is asked first, the DHT's providers after it.
      bytes = await getBlob(ctx.p2p, a.cid, join(ctx.dataDir, 'tmp'), { providers: [a.from], ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw error;
      ctx.log(`job ${jobId}: the ${kind} blob ${a.cid.slice(0, 12)}… announced by ${a.from.slice(-8)} could not be fetched: ${(error as Error).message}`);
      continue;
    }
    try {
      const value = check(bytes, a.cid);
      ctx.log(`job ${jobId}: got the ${kind} over libp2p (blob ${a.cid.slice(0, 12)}… from ${a.from.slice(-8)}), checked against the chain`);
      return value as T & {};
    } catch (error) {
      if (!(error instanceof MycelError)) throw error;
      ctx.log(`job ${jobId}: rejected the ${kind} blob ${a.cid.slice(0, 12)}… from ${a.from.slice(-8)}: ${error.message}`);
    }
  }
  throw signal?.reason ?? new Error('announcements closed');
}

/** A job's spec, fetched over libp2p by its announced CID and checked against the on-chain spec hash. */
function fetchSpec(ctx: NodeContext, job: GetJobReturnType, signal?: AbortSignal): Promise<MarketSpec> {
  return discover(ctx, 'spec', job.jobId, job.specHash, (bytes) => {
    const actual = keccak256(bytes);
    if (actual.toLowerCase() !== job.specHash.toLowerCase()) throw new JobSpecMismatchError({ expected: job.specHash, actual, jobId: job.jobId });
    return parseMarketSpec(JSON.parse(new TextDecoder().decode(bytes)));
  }, signal);
}

/**
 * The job's spec (fetchSpec), or undefined once the chain has reached block `until`, or the job has left the phases
 * the node waits in (`waitIn`: a solver waits while it is Open, a verifier while it can be challenged), with no spec
 * announced: the node says so and moves on (the job stays on chain for whoever has its spec). Without this a node
 * would wait for ever for a spec nobody announces (its submitter gone, a job of another network on the same chain).
 */
async function specWithin(ctx: NodeContext, job: GetJobReturnType, until: bigint, waitIn: readonly string[], signal?: AbortSignal): Promise<MarketSpec | undefined> {
  const gaveUp = new AbortController();
  // anySignal, cleared when done, not AbortSignal.any: Node 20 keeps every signal made from a long-lived one for good.
  const fetchSignal = anySignal([signal, gaveUp.signal]);
  const fetching = fetchSpec(ctx, job, fetchSignal);
  fetching.catch(() => {}); // awaited below
  let why: string | undefined;
  const watching = (async () => {
    while (!gaveUp.signal.aborted) {
      await sleep(SPEC_POLL_MS, gaveUp.signal);
      // A read that fails (a busy or restarting RPC) is tried again at the next poll: the wait must not die with it.
      const read = await Promise.all([getBlockNumber(ctx.publicClient, { cacheTime: 0 }), getJob(ctx.publicClient, { market: ctx.contracts.market, jobId: job.jobId })]).catch(() => undefined);
      if (!read) continue;
      const [block, now] = read;
      if (block >= until) why = `no peer announced its spec by block ${until} (the wait after its posting)`;
      else if (!waitIn.includes(now.phase)) why = `it is ${now.phase} and its spec was never announced to this node`;
      if (why) gaveUp.abort(new Error(why));
    }
  })();
  watching.catch(() => {}); // ends with the abort
  try {
    return await fetching;
  } catch (error) {
    if (why === undefined || signal?.aborted) throw error;
    ctx.log(`job ${job.jobId}: passed over: ${why}. Its submitter must announce the spec (mycel node run --role submitter does) for a node to take it up.`);
    return undefined;
  } finally {
    gaveUp.abort();
    fetchSignal.clear();
  }
}

/** How often a solver waiting for a spec checks the chain's height and the job's phase. */
const SPEC_POLL_MS = 500;

/** The step hashes of the party that committed `root` for the job, checked against that root. */
export function fetchStepHashes(ctx: Pick<NodeContext, 'p2p' | 'announcements' | 'dataDir' | 'log'>, jobId: bigint, root: Hex, steps: number, signal?: AbortSignal): Promise<string[]> {
  return discover(ctx, 'steps', jobId, root, (bytes, cid) => checkedStepHashes(bytes, { jobId, root, steps, cid }), signal);
}

/** Puts this node's step hashes as a blob and announces it for the job and its run root. */
async function announceStepHashes(ctx: NodeContext, jobId: bigint, root: Hex, stepHashes: readonly string[]): Promise<string> {
  const cid = await putBlob(ctx.p2p, join(ctx.dataDir, 'published', `job-${jobId}-steps.json`), encodeStepHashes(stepHashes));
  await ctx.announcements.announce({ kind: 'steps', jobId: jobId.toString(), key: root, cid });
  return cid;
}

// ---------------------------------------------------------------- submitter

export type PostedJob = { jobId: bigint; specHash: Hex; specCid: string };

/**
 * Posts a job: the spec goes into this node's blob store, the job and its dispute rules on chain, then the spec's CID
 * is announced (after setRules: a solver claims only a job whose spec it got, so the rules are set before any claim).
 */
export async function submitJob(
  ctx: NodeContext,
  o: { spec: MarketSpec; reward: bigint; stake: bigint; deadlineIn?: bigint; challengeWindow?: bigint; blockSeconds?: number },
): Promise<PostedJob> {
  const bytes = specBytes(o.spec);
  const specHash = keccak256(bytes);
  const specCid = await putBlob(ctx.p2p, join(ctx.dataDir, 'specs', `${specHash.toLowerCase()}.json`), bytes);
  // An assistant job's dataset is in this node's store (the person's app put it there): the facts are built from it.
  const j = await loadJob(ctx, o.spec);
  const { facts } = j;
  // Blocks, sized from the job (node/window.ts) unless given: a verifier must be able to re-execute it in time.
  const min = await readContract(ctx.publicClient, { address: ctx.contracts.market, abi: JobMarketAbi, functionName: 'MIN_CHALLENGE_WINDOW' });
  const challengeWindow = o.challengeWindow ?? challengeWindowFor(j.factsSeconds, { blockSeconds: o.blockSeconds ?? 12, min });
  const posted = await postJob(ctx.wallet, { market: ctx.contracts.market, spec: bytes, steps: BigInt(o.spec.steps), reward: o.reward, stake: o.stake, deadlineIn: o.deadlineIn ?? 3_600n, challengeWindow });
  ctx.tx('postJob', posted.gasUsed, posted.jobId);
  const rules = await send(ctx.wallet, { address: ctx.contracts.market, abi: JobMarketAbi, functionName: 'setRules', args: [posted.jobId, facts.h0, facts.root, facts.size] });
  ctx.tx('setRules', rules.gasUsed, posted.jobId);
  await ctx.announcements.announce({ kind: 'spec', jobId: posted.jobId.toString(), key: specHash, cid: specCid });
  ctx.log(`posted job ${posted.jobId} (${o.spec.steps} steps, spec ${specHash.slice(0, 10)}…, challenge window ${challengeWindow} blocks) with its dispute rules; spec announced as blob ${specCid.slice(0, 12)}…`);
  return { jobId: posted.jobId, specHash, specCid };
}

/**
 * `accepted`: the job is Finalized and its dispute rules on chain are its spec's, so its model is kept. That is not
 * "verified": the chain only says that nobody proved the root wrong. `standing` says how far it went: `unchallenged`
 * (nobody contested it within its window; the chain does not show that anyone re-executed it, and this node did not)
 * or `upheld` (the solver won each of its `disputes`). A job Finalized under other rules was never open to a fair
 * challenge: it is reported with `unverified` (the reason) and its model is not fetched.
 */
export type SubmitterResult = {
  jobId: bigint; phase: string; accepted: boolean; standing?: 'unchallenged' | 'upheld'; disputes: number; unverified?: string; root?: Hex; model?: string; modelCid?: string;
};

/** A Finalized job's standing, in words that claim no more than the chain shows. */
export function describeStanding(r: Pick<SubmitterResult, 'standing' | 'disputes'>): string {
  return r.standing === 'upheld'
    ? `upheld: the solver won all ${r.disputes} dispute(s) over it`
    : 'unchallenged: nobody contested it within its challenge window (no re-execution is recorded on chain)';
}

/**
 * Waits until the job is settled (Finalized, Refuted or Expired) and, for an accepted result, keeps the model that
 * the solver announced for the committed root in `<dataDir>/models`, once its state hash is the run's h_T (a refuted
 * job's model is deleted). A Finalized
 * job whose model no peer serves is still Finalized: the model is then missing from the result.
 */
export async function awaitJob(ctx: NodeContext, jobId: bigint, signal?: AbortSignal, spec?: MarketSpec): Promise<SubmitterResult> {
  const path = join(ctx.dataDir, 'models', `job-${jobId}.safetensors`);
  const fetchingDone = new AbortController();
  const fetchSignal = anySignal([signal, fetchingDone.signal]);
  let model: Promise<{ path: string; cid: string } | undefined> | undefined;
  let rules: { checked: false } | { checked: true; unverified?: string } = { checked: false };
  try {
    for (;;) {
      const job = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
      // The rules are fixed once the job is claimed; checked when a root is committed (or the job settled).
      if (!rules.checked && job.phase !== 'Open' && job.phase !== 'Claimed') {
        const unverified = await rulesVerdict(ctx, jobId, await loadJob(ctx, spec ?? (await fetchSpec(ctx, job, signal)), signal ? { signal } : {}), 'Its result will not be called verified, and its model is not kept.');
        rules = { checked: true, ...(unverified === undefined ? {} : { unverified }) };
        if (unverified !== undefined) model = Promise.resolve(undefined);
      }
      // The model is fetched as soon as a root is committed: the solver may go away once it is paid.
      if (!model && (job.phase === 'Committed' || job.phase === 'Disputed' || job.phase === 'Finalized')) {
        // The model must be the final state of the committed run: h_T of the step hashes that the root commits to.
        const steps = Number(job.steps);
        const fetching = fetchStepHashes(ctx, jobId, job.root, steps, fetchSignal)
          .then((stepHashes) => discover(ctx, 'model', jobId, job.root, (bytes, cid) => (checkModel(bytes, { jobId, finalHash: stepHashes[steps], cid }), { bytes, cid }), fetchSignal))
          .then(async ({ bytes, cid }) => {
            await writeAtomic(path, bytes);
            return { path, cid };
          });
        model = fetching.catch(() => undefined);
      }
      const unverified = rules.checked ? rules.unverified : undefined;
      if (job.phase === 'Refuted' || job.phase === 'Expired') {
        await rm(path, { force: true });
        return { jobId, phase: job.phase, accepted: false, disputes: job.disputes, ...(unverified === undefined ? {} : { unverified }) };
      }
      if (job.phase === 'Finalized') {
        if (unverified !== undefined) {
          ctx.log(`job ${jobId}: Finalized on chain, but NOT VERIFIED (its dispute rules on chain are not its spec's)`);
          return { jobId, phase: job.phase, accepted: false, disputes: job.disputes, unverified, root: job.root };
        }
        const got = model ? await withTimeout(model, MODEL_WAIT_MS, signal) : undefined;
        const standing = job.disputes > 0 ? 'upheld' : 'unchallenged';
        ctx.log(`job ${jobId}: Finalized, ${describeStanding({ standing, disputes: job.disputes })}; ${got ? `model saved to ${got.path}` : 'no peer served its model'}`);
        return { jobId, phase: job.phase, accepted: true, standing, disputes: job.disputes, root: job.root, ...(got ? { model: got.path, modelCid: got.cid } : {}) };
      }
      await sleep(POLL_MS, signal);
    }
  } finally {
    fetchingDone.abort();
    fetchSignal.clear();
    // Settled (or this node stops waiting): its spec is no longer re-published every second.
    ctx.announcements.forget(jobId);
  }
}

/** `p`, or undefined after `ms` (the timer is cleared either way, so it does not keep the process alive). */
async function withTimeout<T>(p: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | undefined> {
  const timer = new AbortController();
  const waiting = anySignal([signal, timer.signal]);
  try {
    return await Promise.race([p, sleep(ms, waiting).then(() => undefined)]);
  } finally {
    timer.abort();
    waiting.clear();
  }
}

/** How often a role re-reads a job's phase while it waits on it. */
const POLL_MS = 200;
/** How long a submitter waits for the model of a finalized job after the job is settled. */
const MODEL_WAIT_MS = 30_000;

// ---------------------------------------------------------------- solver

/** Reports training progress: throttled `train` events (metrics), and each step's loss (the dashboard's curves). */
function progressOf(ctx: NodeContext, jobId: bigint, steps: number): (r: StepReport) => void {
  const train = trainEvents(ctx, jobId, steps);
  return (r) => {
    train(r);
    ctx.emit({ type: 'step', node: ctx.name, jobId: jobId.toString(), step: r.state.step, loss: r.loss });
  };
}

export type SolverOptions = {
  /** Cheat at this step (1-based): flip one bit of an op output that writes a parameter. */
  cheatAt?: number;
  /** Refuse (before claiming) a job whose memory estimate is above this many bytes. */
  maxMemoryBytes?: number;
  /** Stop after this many jobs. */
  maxJobs?: number;
  /** Blocks after a job's posting to wait for its spec to be announced before passing it over (default SPEC_WAIT_BLOCKS). */
  specWaitBlocks?: bigint;
  signal?: AbortSignal;
};

/**
 * How many blocks after a job is posted a solver waits for its spec to be announced: a submitter announces it right
 * after setRules, so a job whose spec nobody announces (its submitter went away, or never meant it) would otherwise
 * stall the solver for good. 50 blocks is 10 minutes of 12-second blocks.
 */
export const SPEC_WAIT_BLOCKS = 50n;

/** `dispute`: the last dispute ruled on the job; `disputes`: every one the solver played to its ruling. */
export type SolverResult = { jobId: bigint; phase: string; root: Hex; model: string; modelCid: string; dispute?: DisputeOutcome; disputes: DisputeOutcome[] };

export function cheatingProgram<P extends JobProgram>(honest: P, t: number): P {
  const writer = rulesOf(honest).structure(t).stateOutputs.find((s) => s.name.startsWith('params.'))!.source as { index: number };
  return adversary.flipOpOutput(honest, t, writer.index, 0, 3);
}

/** Claims and solves posted jobs, learned from confirmed JobPosted events since the node joined. */
export async function runSolver(ctx: NodeContext, o: SolverOptions = {}): Promise<SolverResult[]> {
  // Kept for a run of maxJobs, which returns them; a run without end (a long-running node) keeps none: it would grow with every job.
  const results: SolverResult[] = [];
  let solved = 0;
  const settled = (r: SolverResult) => {
    solved++;
    if (o.maxJobs !== undefined) results.push(r);
  };
  const max = o.maxJobs ?? Infinity;
  if (max <= 0) return results;
  const state = NodeState.open(ctx.dataDir);
  try {
    // Jobs this node held when it stopped (or was killed) come first: their stake is on the line.
    for (const held of state.held('solver')) {
      const job = await heldJobOnChain(ctx, held);
      const mine = job?.solver.toLowerCase() === ctx.address.toLowerCase();
      if (!job || !mine || !['Claimed', 'Committed', 'Disputed'].includes(job.phase)) {
        await state.release('solver', held.jobId);
        continue;
      }
      ctx.log(`job ${job.jobId}: held before a restart (${job.phase}); resuming it`);
      const cheat = held.cheatAt === undefined ? {} : { cheatAt: held.cheatAt };
      settled(await solve(ctx, job, parseMarketSpec(JSON.parse(held.spec)), { ...o, ...cheat }, BigInt(held.fromBlock)));
      ctx.announcements.forget(job.jobId);
      await state.release('solver', held.jobId);
      if (solved >= max) return results;
    }
    // From where it stopped reading (a job posted while it was down is still taken), or from the block it joined at.
    const cursor = new EventCursor(state, 'solver/JobPosted', ctx.fromBlock, ctx.fromBlockOverridesCursor);
    for await (const log of confirmedEvents<{ jobId: bigint }>(ctx, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'JobPosted', fromBlock: ctx.fromBlock, cursor, ...(o.signal ? { signal: o.signal } : {}) })) {
      const result = await takeUp(ctx, state, log.args.jobId, log.blockNumber, o);
      // Handled (solved, or passed over) only now: a crash before this replays the event, and the job is held or Open.
      cursor.done({ block: log.blockNumber, logIndex: log.logIndex });
      if (!result) continue;
      settled(result);
      if (solved >= max) break;
    }
    return results;
  } finally {
    await state.close();
  }
}

/**
 * Claims a posted job and solves it, unless it is no longer Open, its spec is not announced in time, or its rules or its
 * memory estimate forbid it. `postedAt`: the block of its JobPosted event.
 */
async function takeUp(ctx: NodeContext, state: NodeState, jobId: bigint, postedAt: bigint, o: SolverOptions): Promise<SolverResult | undefined> {
  const job = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
  if (job.phase !== 'Open') return undefined;
  // The spec and its dispute rules first: a solver never stakes on a job it cannot train or could not defend.
  const spec = await specWithin(ctx, job, postedAt + (o.specWaitBlocks ?? SPEC_WAIT_BLOCKS), ['Open'], o.signal);
  if (!spec) return undefined;
  if (!fitsMemory(ctx, job.jobId, spec, o.maxMemoryBytes, 'not claimed')) return undefined;
  const j = await loadPostedJob(ctx, job, spec, 'not claimed', o.signal);
  if (!j) return undefined;
  if ((await rulesVerdict(ctx, job.jobId, j, 'Not claimed: a dispute over it would be refereed by those rules, not by its spec.')) !== undefined) return undefined;
  // Held before the claim is sent: a crash right after it still finds the job (a claim that failed is released).
  const fromBlock = await getBlockNumber(ctx.publicClient, { cacheTime: 0 });
  await state.hold({ role: 'solver', jobId: job.jobId.toString(), spec: canonicalJson(spec), fromBlock: fromBlock.toString(), ...(o.cheatAt === undefined ? {} : { cheatAt: o.cheatAt }) });
  try {
    const { gasUsed } = await claimJob(ctx.wallet, { market: ctx.contracts.market, jobId: job.jobId });
    ctx.tx('claimJob', gasUsed, job.jobId);
  } catch (error) {
    await state.release('solver', job.jobId);
    ctx.log(`job ${job.jobId}: not claimed (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  const result = await solve(ctx, job, spec, o, fromBlock);
  // Settled: its step hashes and model are no longer re-published (the blobs are still served).
  ctx.announcements.forget(job.jobId);
  await state.release('solver', job.jobId);
  return result;
}

/** Trains (resuming from this node's checkpoints), publishes, commits unless already committed, then settles. `fromBlock`: at or before the claim. */
async function solve(ctx: NodeContext, job: GetJobReturnType, spec: MarketSpec, o: SolverOptions, fromBlock: bigint): Promise<SolverResult> {
  const j = await loadJob(ctx, spec, o.signal ? { signal: o.signal } : {});
  const cheat = o.cheatAt !== undefined ? Math.min(Math.max(1, o.cheatAt), spec.steps) : undefined;
  const program = cheat === undefined ? j.program : cheatingProgram(j.program, cheat);
  const store = new Store(join(ctx.dataDir, `job-${job.jobId}`));
  ctx.log(`claimed job ${job.jobId}; training ${spec.steps} steps${cheat === undefined ? '' : ` (cheating at step ${cheat})`}`);
  const started = performance.now();
  const { record } = await runJob(program, { store, signal: o.signal, onStep: progressOf(ctx, job.jobId, spec.steps) });
  const root = `0x${record.commitment!}` as Hex;
  const weights = await store.getObject(record.checkpoints[String(spec.steps)]);
  const model = join(ctx.dataDir, 'models', `job-${job.jobId}.safetensors`);
  const modelCid = await putBlob(ctx.p2p, model, weights);
  // Announced before the commit, so that whoever reacts to the commit finds them.
  const stepsCid = await announceStepHashes(ctx, job.jobId, root, record.stepHashes);
  await ctx.announcements.announce({ kind: 'model', jobId: job.jobId.toString(), key: root, cid: modelCid });
  // Every checkpoint, keyed by its state hash: a sampling verifier replays a sampled step from the one before it.
  for (const [step, object] of Object.entries(record.checkpoints)) {
    const cid = Number(step) === spec.steps ? modelCid : await putBlob(ctx.p2p, join(ctx.dataDir, 'published', `job-${job.jobId}-state-${step}.safetensors`), await store.getObject(object));
    await ctx.announcements.announce({ kind: 'state', jobId: job.jobId.toString(), key: `0x${record.stepHashes[Number(step)]}`, cid });
  }
  ctx.emit({ type: 'model', node: ctx.name, jobId: job.jobId.toString(), path: model, root, cid: modelCid });
  // A solver restarted after its commit finds the job Committed (or further): the root on chain is its own.
  if ((await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId: job.jobId })).phase === 'Claimed') {
    const committed = await commitRoot(ctx.wallet, { market: ctx.contracts.market, jobId: job.jobId, root });
    ctx.tx('commitRoot', committed.gasUsed, job.jobId);
  }
  ctx.log(`trained job ${job.jobId} in ${((performance.now() - started) / 1000).toFixed(1)} s; step hashes (blob ${stepsCid.slice(0, 12)}…) and model announced; committed root ${root.slice(0, 10)}…`);
  return { jobId: job.jobId, root, model, modelCid, ...(await afterCommit(ctx, job.jobId, fromBlock, j, { program, store, record }, o.signal)) };
}

/**
 * After the commit: plays every dispute opened on the job (any number of challengers, each its own game, played
 * side by side), and finalizes once the window has closed with none in play. Returns when the job is settled: the
 * solver has nothing at stake once it is Refuted (later disputes refund their challengers).
 */
async function afterCommit(ctx: NodeContext, jobId: bigint, commitBlock: bigint, j: Job, mine: { program: JobProgram; store: Store; record: RunRecord<ProgramSpec> }, signal?: AbortSignal): Promise<{ phase: string; dispute?: DisputeOutcome; disputes: DisputeOutcome[] }> {
  const watching = new AbortController();
  const watchSignal = anySignal([signal, watching.signal]);
  const outcomes: DisputeOutcome[] = [];
  const playing: Promise<void>[] = [];
  const root = (await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId })).root;
  const challenges = (async () => {
    type Challenged = { jobId: bigint; challenger: Hex; challengerRoot: Hex; disputeId: bigint };
    for await (const log of confirmedEvents<Challenged>(ctx, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'JobChallenged', fromBlock: commitBlock, signal: watchSignal })) {
      const c = log.args;
      if (c.jobId !== jobId) continue;
      ctx.log(`job ${jobId} was challenged by ${c.challenger.slice(0, 10)}… (dispute ${c.disputeId}): playing it as solver`);
      const party = replayParty({ role: 'solver', program: mine.program, reference: j.program, store: mine.store, record: mine.record });
      const game = playDispute(ctx, { disputeId: c.disputeId, jobId, rules: j.rules, facts: j.facts, party, roots: { solver: root, challenger: c.challengerRoot }, parties: { solver: ctx.address, challenger: getAddress(c.challenger) }, fromBlock: commitBlock, signal: watchSignal })
        .then((outcome) => {
          outcomes.push(outcome);
          ctx.log(`job ${jobId}: dispute ${c.disputeId} ruled, ${outcome.loser} lost (${outcome.at})`);
        });
      game.catch(() => {}); // awaited below
      playing.push(game);
    }
  })();
  challenges.catch(() => {});
  try {
    for (;;) {
      const job = await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
      if (job.phase === 'Finalized' || job.phase === 'Refuted') {
        // Every game's own ruling is in (a dispute still in play on a Refuted job is moot for the solver).
        if (job.phase === 'Finalized') await Promise.all(playing);
        return { phase: job.phase, dispute: outcomes[outcomes.length - 1], disputes: [...outcomes] };
      }
      if (job.phase === 'Committed' && (await getBlockNumber(ctx.publicClient, { cacheTime: 0 })) >= job.challengeEnds) {
        try {
          const { gasUsed } = await finalize(ctx.wallet, { market: ctx.contracts.market, jobId });
          ctx.tx('finalize', gasUsed, jobId);
          ctx.log(`job ${jobId} finalized${job.disputes > 0 ? ` after ${job.disputes} dispute(s), all won` : ' unchallenged'}: reward and stake paid`);
        } catch {
          /* a challenge landed first */
        }
        continue;
      }
      await sleep(POLL_MS, signal);
    }
  } finally {
    watching.abort();
    watchSignal.clear();
  }
}

/**
 * A job this node held before a restart, as the chain has it now; undefined (said in the log) when the chain has no
 * such job: the data dir was used on another chain, or the dev chain was reset. The caller releases it and carries on.
 */
async function heldJobOnChain(ctx: NodeContext, held: HeldJob): Promise<GetJobReturnType | undefined> {
  try {
    return await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId: BigInt(held.jobId) });
  } catch (error) {
    if (!(error instanceof ContractRevertError && error.errorName === 'JobUnknown')) throw error;
    ctx.log(`job ${held.jobId}: held before a restart, but market ${ctx.contracts.market} has no such job (this data dir was used on another chain, or the chain was reset); released`);
    return undefined;
  }
}

// ---------------------------------------------------------------- verifier

/** The steps to sample from a job of `steps` steps under the policy, or undefined: re-execute it in full. */
function sampleSize(p: PolicyState, steps: number): number | undefined {
  const { policy, budget } = p;
  if (policy.kind === 'full') return undefined;
  if (policy.kind === 'budget' && budget.spent + steps <= policy.fullSteps) {
    budget.spent += steps;
    return undefined;
  }
  return Math.min(policy.steps, steps);
}

/**
 * The sampled check (verify/sampled-check.ts) of a committed job: its step hashes (checked against the root) and the
 * committer's checkpoints (checked against their step hashes) come over libp2p; the K steps are drawn from a seed
 * the committer could not know when it committed: the root, the hash of the block its commit is in, and this
 * verifier's address (so verifiers sample independently).
 */
async function sampleJob(ctx: NodeContext, job: GetJobReturnType, j: Job, k: number, committedAt: bigint, signal?: AbortSignal): Promise<{ agrees: true; verdict: SampledVerdict } | { agrees: false; reason: string }> {
  const T = j.spec.steps;
  const wait = anySignal([signal, AbortSignal.timeout(SAMPLE_FETCH_MS)]);
  try {
    const stepHashes = await fetchStepHashes(ctx, job.jobId, job.root, T, wait);
    const block = await getBlock(ctx.publicClient, { blockNumber: committedAt });
    const steps = sampleSteps(keccak256(concat([job.root, block.hash!, ctx.address])), T, k);
    const checkpoints = Array.from({ length: T + 1 }, (_, t) => t).filter((t) => t === 0 || t === T || t % j.spec.checkpointEvery === 0);
    ctx.log(`job ${job.jobId}: checking ${steps.length} sampled steps of ${T} (${steps.join(', ')}) from the committer's checkpoints`);
    const loadState = (c: number) => discover(ctx, 'state', job.jobId, `0x${stepHashes[c]}`, (bytes, cid) => {
      checkModel(bytes, { jobId: job.jobId, finalHash: stepHashes[c], cid });
      return decodeCheckpoint(bytes, `blob ${cid}`).state;
    }, wait);
    const check = await checkSampledSteps(j.program, stepHashes, steps, checkpoints, loadState, signal);
    if (!check.agrees) return { agrees: false, reason: `sampled check: the committed h_${check.step} is not what step ${check.step} computes from the committed state before it` };
    const verdict = { steps, executed: check.executed, catchProbability: catchProbability(T, steps.length, 1) };
    ctx.log(`job ${job.jobId}: the ${steps.length} sampled steps agree (${check.executed} steps re-executed of ${T}; a one-step cheat is caught with probability >= ${verdict.catchProbability.toFixed(3)}); no challenge`);
    return { agrees: true, verdict };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { agrees: false, reason: `sampled check not possible (${(error as Error).message.split('\n')[0]})` };
  } finally {
    wait.clear();
  }
}

/**
 * How much of each job a verifier re-executes: all of it (`full`, the default), K steps sampled from a public seed
 * (`sample`; verify/sampling.ts gives the catch probability, docs/verification.md what it misses), or every job in
 * full while the steps re-executed so far stay within a budget, then sampled (`budget`). A sampled check that finds
 * a wrong step, or cannot get the committer's checkpoints, falls back to the full re-execution, which a challenge needs.
 */
export type VerifyPolicy = { kind: 'full' } | { kind: 'sample'; steps: number } | { kind: 'budget'; fullSteps: number; steps: number };
export type VerifierOptions = { maxJobs?: number; signal?: AbortSignal; /** Leave unchecked a job whose memory estimate is above this. */ maxMemoryBytes?: number; policy?: VerifyPolicy };
/** `sampled`: the job was checked on these steps only (`catchProbability`: of a one-step cheat), and agreed. */
export type SampledVerdict = { steps: number[]; executed: number; catchProbability: number };
/** `unverified`: the job's rules on chain are not its spec's; the verifier flagged it instead of re-executing it. */
export type VerifierResult = { jobId: bigint; agreed: boolean; unverified?: string; dispute?: DisputeOutcome; sampled?: SampledVerdict; /** Left unchecked: it does not fit this node's memory limit, it was settled before this node could, its spec never came before its challenge window closed, or the data its spec names was refused. */ skipped?: 'memory' | 'settled' | 'spec' | 'data' };

/** How long a sampling verifier waits for the committer's step hashes and checkpoints before it re-executes in full. */
const SAMPLE_FETCH_MS = 60_000;

/** Re-executes every job whose root is committed (confirmed RootCommitted events since the node joined). */
export async function runVerifier(ctx: NodeContext, o: VerifierOptions = {}): Promise<VerifierResult[]> {
  // Every check, for a run of maxJobs, which returns them; a run without end keeps only those in flight.
  const work: Promise<VerifierResult>[] = [];
  const inFlight = new Set<Promise<VerifierResult>>();
  let started = 0;
  const max = o.maxJobs ?? Infinity;
  const state = NodeState.open(ctx.dataDir);
  // From where it stopped reading (a root committed while it was down is still checked), or the block it joined at.
  const cursor = new EventCursor(state, 'verifier/RootCommitted', ctx.fromBlock, ctx.fromBlockOverridesCursor);
  const budget = { spent: 0 };
  const check = (jobId: bigint, committedAt: bigint, held?: HeldJob, event?: EventPosition) => {
    const checking = verifyJob(ctx, state, jobId, committedAt, o.signal, o.maxMemoryBytes, held, { policy: o.policy ?? { kind: 'full' }, budget });
    // Handled once checked (a crash before replays the event; a held job is resumed instead).
    checking.then(() => event && cursor.done(event), () => {}); // awaited below
    started++;
    inFlight.add(checking);
    void checking.finally(() => inFlight.delete(checking)).catch(() => {});
    if (o.maxJobs !== undefined) work.push(checking);
  };
  try {
    // Jobs it was checking, or disputing, when it stopped (or was killed) first.
    for (const held of state.held('verifier')) {
      if (started >= max) break;
      ctx.log(`job ${held.jobId}: held before a restart; resuming its check`);
      check(BigInt(held.jobId), BigInt(held.fromBlock), held);
    }
    if (started < max) {
      for await (const log of confirmedEvents<{ jobId: bigint }>(ctx, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'RootCommitted', fromBlock: ctx.fromBlock, cursor, ...(o.signal ? { signal: o.signal } : {}) })) {
        const event = { block: log.blockNumber, logIndex: log.logIndex };
        if (state.held('verifier').some((h) => h.jobId === log.args.jobId.toString())) {
          cursor.done(event); // resumed above
          continue;
        }
        check(log.args.jobId, log.blockNumber, undefined, event);
        if (started >= max) break;
      }
    }
    return await Promise.all(work);
  } finally {
    await Promise.allSettled(inFlight);
    await state.close();
  }
}

/** `held`: the job as this node recorded it before a restart (its spec is taken from there). */
type PolicyState = { policy: VerifyPolicy; budget: { spent: number } };

async function verifyJob(ctx: NodeContext, state: NodeState, jobId: bigint, committedAt: bigint, signal: AbortSignal | undefined, maxMemoryBytes: number | undefined, held: HeldJob | undefined, p: PolicyState): Promise<VerifierResult> {
  const result = await checkJob(ctx, state, jobId, committedAt, signal, maxMemoryBytes, held, p);
  await state.release('verifier', jobId);
  return result;
}

async function checkJob(ctx: NodeContext, state: NodeState, jobId: bigint, committedAt: bigint, signal: AbortSignal | undefined, maxMemoryBytes: number | undefined, held: HeldJob | undefined, p: PolicyState): Promise<VerifierResult> {
  const job = held ? await heldJobOnChain(ctx, held) : await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId });
  // Settled while this node was down (or never on this chain): nothing is left to check or to play.
  if (!job || (held && job.phase !== 'Committed' && job.phase !== 'Disputed')) return { jobId, agreed: false, skipped: 'settled' };
  // Waited for while the job can still be challenged: a spec nobody announces (the submitter gone) must not hold the node.
  const spec = held ? parseMarketSpec(JSON.parse(held.spec)) : await specWithin(ctx, job, job.challengeEnds, ['Committed', 'Disputed'], signal);
  if (spec === undefined) return { jobId, agreed: false, skipped: 'spec' };
  if (!held) await state.hold({ role: 'verifier', jobId: jobId.toString(), spec: canonicalJson(spec), fromBlock: committedAt.toString() });
  if (!fitsMemory(ctx, jobId, spec, maxMemoryBytes, 'not re-executed (so never challenged by this node)')) return { jobId, agreed: false, skipped: 'memory' };
  const j = await loadPostedJob(ctx, job, spec, 'not re-executed (its data is refused, so no run of it can be right)', signal);
  if (!j) return { jobId, agreed: false, skipped: 'data' };
  // Rules first: a challenge would be refereed by the rules on chain, so under rules that are not the spec's an
  // honest challenger could lose its stake. Such a job is flagged (never called verified), not challenged.
  const unverified = await rulesVerdict(ctx, jobId, j, 'Not challenging it (a dispute would be refereed by those rules): flagged as unverified instead.');
  if (unverified !== undefined) return { jobId, agreed: false, unverified };
  const k = sampleSize(p, spec.steps);
  if (k !== undefined) {
    const sampled = await sampleJob(ctx, job, j, k, committedAt, signal);
    if (sampled.agrees) return { jobId, agreed: true, sampled: sampled.verdict };
    ctx.log(`job ${jobId}: ${sampled.reason}; re-executing it in full`);
  }
  const store = new Store(join(ctx.dataDir, `job-${jobId}`));
  ctx.log(`re-executing job ${jobId} (${spec.steps} steps) to check root ${job.root.slice(0, 10)}…`);
  const { record } = await runJob(j.program, { store, signal, onStep: progressOf(ctx, jobId, spec.steps) });
  const mine = `0x${record.commitment!}` as Hex;
  if (mine.toLowerCase() === job.root.toLowerCase()) {
    ctx.log(`job ${jobId}: root agrees with my re-execution (verified by re-execution); no challenge`);
    ctx.emit({ type: 'agreed', node: ctx.name, jobId: jobId.toString() });
    return { jobId, agreed: true };
  }
  // The game never needs the solver's step hashes (each party reveals its own run tree): a solver that withholds them cannot stop the challenge.
  ctx.log(`job ${jobId}: root disagrees with my re-execution; challenging`);
  // After a restart the challenge may be on chain already: the dispute is then this node's to play on.
  const opened = await getContractEvents(ctx.publicClient, { address: ctx.contracts.market, abi: JobMarketAbi, eventName: 'JobChallenged', args: { jobId, challenger: ctx.address }, fromBlock: committedAt, toBlock: 'latest' });
  let disputeId: bigint;
  if (opened.length > 0) disputeId = (opened[0].args as { disputeId: bigint }).disputeId;
  else if (!['Committed', 'Disputed'].includes((await getJob(ctx.publicClient, { market: ctx.contracts.market, jobId })).phase)) return { jobId, agreed: false, skipped: 'settled' };
  else {
    const c = await challenge(ctx.wallet, { market: ctx.contracts.market, jobId, root: mine });
    ctx.tx('challenge', c.gasUsed, jobId);
    disputeId = c.disputeId;
  }
  const party = replayParty({ role: 'challenger', program: j.program, reference: j.program, store, record });
  const dispute = await playDispute(ctx, { disputeId, jobId, rules: j.rules, facts: j.facts, party, roots: { solver: job.root, challenger: mine }, parties: { solver: getAddress(job.solver), challenger: ctx.address }, fromBlock: committedAt, ...(signal ? { signal } : {}) });
  ctx.log(`job ${jobId}: dispute ruled, ${dispute.loser} lost (${dispute.at}) after ${dispute.moves} moves`);
  return { jobId, agreed: false, dispute };
}
