/**
 * The soak: the market's roles run jobs without pause for a given time, in this process, on a fresh anvil, while the
 * process's memory is sampled. A submitter keeps `inFlight` jobs posted (each a distinct spec), two solvers claim,
 * train, announce and commit them, a verifier re-executes every one, and the solvers finalize once the window has
 * closed; the submitter fetches each model over libp2p. Every `sampleSeconds` a full garbage collection runs, then
 * RSS and the V8 heap are read. The slopes (MB per hour, least squares) are taken over the samples after the
 * warm-up: the JIT, the first jobs' caches and libp2p's connections settle in the first minutes, a leak goes on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { anySignal } from 'any-signal';
import { getBlockNumber } from 'viem/actions';
import type { NodeEvent } from '../../src/node/context.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { awaitJob, runSolver, runVerifier, submitJob } from '../../src/node/roles.js';
import { startNode, type RunningNode } from '../../src/node/run.js';
import { readSmaps, SMAPS_GROUPS, smapsGrowth, type SmapsGroup, type SmapsSummary } from './smaps.js';
import { medianSlope, REWARD, slope, STAKE, startMarket, tinySpec, WINDOW_BLOCKS } from './market.js';

export type SoakSample = {
  seconds: number;
  rssMb: number;
  heapMb: number;
  /** The V8 heap's committed size: with `smaps`, the part of `anon` that is V8's (the rest is native). */
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  jobs: number;
  /** With `smaps`: resident MB by kind of mapping (bench/lib/smaps.ts) and the process's thread count. */
  smaps?: Record<SmapsGroup, number>;
  threads?: number;
  /** With `smaps`: the committed MB of each V8 heap space (new_space, old_space, code_space, large_object_space...). */
  v8Spaces?: Record<string, number>;
};
export type SoakOptions = {
  seconds: number;
  sampleSeconds?: number;
  /** Samples before this are left out of the slopes; default a sixth of the run, at least 30 s. */
  warmupSeconds?: number;
  /**
   * The warm-up also lasts until this many jobs have settled (default 5): what fills with jobs (node/roles.ts keeps
   * the 4 most recent built jobs) is full only then, and its filling is not a leak.
   */
  warmupJobs?: number;
  /** Jobs posted and not yet settled at any time. */
  inFlight?: number;
  onSample?: (s: SoakSample) => void;
  onJob?: (j: { jobId: string; phase: string; seconds: number; accepted: boolean }) => void;
  log?: (text: string) => void;
  /** Also read /proc/self/smaps at each sample, and report the mappings that grew most after the warm-up. */
  smaps?: boolean;
  /** Ends the run early (no job is posted after it; the nodes and the chain are stopped). */
  signal?: AbortSignal;
  /**
   * Writes a V8 heap snapshot (after a full GC) when this many jobs have settled, for each number given, named
   * soak-<jobs>-jobs.heapsnapshot in `snapshotDir` (bench heap-diff compares two). Writing one grows RSS by the
   * snapshot's size, which glibc keeps: a run with snapshots finds what grows, its RSS slope is no figure.
   */
  snapshotsAt?: readonly number[];
  snapshotDir?: string;
  onSnapshot?: (path: string) => void;
};
/** How long the submitter waits for one job to settle before it counts the job as stalled and posts the next. */
const JOB_STALL_MS = 10 * 60_000;

export type SoakResult = {
  seconds: number;
  samples: SoakSample[];
  /** When the warm-up ended (its seconds, or when `warmupJobs` had settled if later; Infinity if they never did). */
  warmupSeconds: number;
  jobsPosted: number;
  /** Jobs settled after the warm-up (those of the warm-up are `jobsWarmup`): what the slopes were measured over. */
  jobsFinalized: number;
  jobsOther: number;
  jobsWarmup: number;
  /** Jobs given up after JOB_STALL_MS without settling (not in the other counts). */
  jobsStalled: number;
  /** MB per hour after the warm-up. */
  rssSlope: number;
  /** The RSS slope as the median of pairwise slopes (market.ts medianSlope): what a few samples taken mid-job do not move. */
  rssMedianSlope: number;
  heapSlope: number;
  /** MB per hour of the V8 heap's committed size (heap used is `heapSlope`): V8 growing its spaces, not a leak by itself. */
  heapTotalSlope: number;
  /** With `smaps`: MB per hour of each kind of mapping after the warm-up (where the RSS slope comes from). */
  smapsSlopes?: Record<SmapsGroup, number>;
  rssStartMb: number;
  rssEndMb: number;
  /** The last problems the nodes reported (a failed fetch, a reverted transaction), at most 20. */
  problems: string[];
  /** With `smaps`: the mappings whose resident size grew most from the first sample after the warm-up to the last. */
  smapsGrowth?: ReturnType<typeof smapsGrowth>;
};

/** A full GC: exposed at run time, so the bench needs no node flag. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const MB = 2 ** 20;

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const sampleSeconds = o.sampleSeconds ?? 10;
  const minWarmup = o.warmupSeconds ?? Math.max(30, o.seconds / 6);
  const warmupJobs = o.warmupJobs ?? 5;
  let warmJobsAt = warmupJobs <= 0 ? 0 : Infinity;
  const inFlight = o.inFlight ?? 2;
  const gc = gcFunction();
  const market = await startMarket();
  const dir = await mkdtemp(join(tmpdir(), 'mycel-soak-'));
  const nodes: RunningNode[] = [];
  const ac = new AbortController();
  const problems: string[] = [];
  // Only counts and the last few problems are kept: the harness itself must not grow with the run.
  const emit = (e: NodeEvent) => {
    if (process.env.MYCEL_SOAK_TRACE && e.type !== 'step' && e.type !== 'train') process.stderr.write(`${elapsed().toFixed(1)} ${JSON.stringify(e)}\n`);
    if (e.type === 'log' && /could not|rejected|not claimed|NOT VERIFIED|cannot/.test(e.text)) {
      problems.push(`${e.node}: ${e.text}`);
      if (problems.length > 20) problems.shift();
    }
  };
  const samples: SoakSample[] = [];
  let jobsPosted = 0;
  let jobsFinalized = 0;
  let jobsOther = 0;
  let jobsWarmup = 0;
  let jobsStalled = 0;
  const settled = () => jobsWarmup + jobsFinalized + jobsOther;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let timer: NodeJS.Timeout | undefined;
  let firstMaps: SmapsSummary | null = null;
  let lastMaps: SmapsSummary | null = null;
  try {
    const fromBlock = await getBlockNumber(market.publicClient, { cacheTime: 0 });
    const start = async (name: string, key: `0x${string}`, bootstrap: string[]) => {
      const node = await startNode(market.config({ name, privateKey: key, dataDir: join(dir, name), bootstrap, fromBlock }), emit);
      nodes.push(node);
      return node;
    };
    const submitter = await start('submitter', market.keys[0], []);
    const boot = [bootstrapAddr(submitter.p2p)];
    const solvers = [await start('solver-1', market.keys[1], boot), await start('solver-2', market.keys[2], boot)];
    const verifier = await start('verifier', market.keys[3], boot);
    const roles = [...solvers.map((s) => runSolver(s, { signal: ac.signal })), runVerifier(verifier, { signal: ac.signal })];
    roles.forEach((r) => r.catch(() => undefined));

    const sample = () => {
      gc();
      const m = process.memoryUsage();
      const s: SoakSample = { seconds: Math.round(elapsed()), rssMb: m.rss / MB, heapMb: m.heapUsed / MB, heapTotalMb: m.heapTotal / MB, externalMb: m.external / MB, arrayBuffersMb: m.arrayBuffers / MB, jobs: settled() };
      const maps = o.smaps ? readSmaps() : null;
      if (maps) {
        s.smaps = maps.mb;
        s.threads = maps.threads;
        s.v8Spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size / MB]));
        // Only two full snapshots are kept (the harness must not grow with the run): the first after the warm-up, the last.
        if (firstMaps === null && s.seconds >= Math.max(minWarmup, warmJobsAt)) firstMaps = maps;
        else lastMaps = maps;
      }
      samples.push(s);
      o.onSample?.(s);
    };
    sample();
    timer = setInterval(sample, sampleSeconds * 1000);

    let seed = 1;
    // One wallet posts for every lane: its transactions go one at a time (each takes the account's next nonce).
    let posting: Promise<unknown> = Promise.resolve();
    const lane = async () => {
      while (elapsed() < o.seconds && !o.signal?.aborted) {
        const spec = tinySpec(seed++);
        const t = performance.now();
        const posted = posting.then(() => submitJob(submitter, { spec, reward: REWARD, stake: STAKE, challengeWindow: WINDOW_BLOCKS }));
        posting = posted.catch(() => undefined);
        let jobId: bigint;
        try {
          ({ jobId } = await posted);
        } catch (error) {
          // A post that failed (a reverted transaction on a loaded chain) is reported; the run goes on with the next.
          problems.push(`submitter: could not post a job: ${(error as Error).message}`);
          if (problems.length > 20) problems.shift();
          continue;
        }
        jobsPosted++;
        let r;
        // A job that does not settle within JOB_STALL_MS is counted as stalled and its lane goes on: awaited without
        // a bound, two stalled jobs held a 50-minute run idle from its 20th minute on, and its slope then measured an
        // idle node.
        // A timer cleared when the job settles (AbortSignal.timeout's stays for its 10 minutes), and anySignal, cleared
        // too, not AbortSignal.any: Node 20 keeps every signal made from a long-lived one (ac's) for good, and the
        // harness itself grew with every job it posted.
        const stall = new AbortController();
        const stallTimer = setTimeout(() => stall.abort(), JOB_STALL_MS);
        const waiting = anySignal([ac.signal, stall.signal, o.signal]);
        try {
          r = await awaitJob(submitter, jobId, waiting, spec);
        } catch (error) {
          if (o.signal?.aborted) return; // ended early: the samples so far are the result
          if (stall.signal.aborted) {
            jobsStalled++;
            problems.push(`submitter: job ${jobId} did not settle within ${JOB_STALL_MS / 60_000} minutes`);
            if (problems.length > 20) problems.shift();
            continue;
          }
          throw error;
        } finally {
          clearTimeout(stallTimer);
          waiting.clear();
        }
        // A job settled in the warm-up (its first minutes, or before warmupJobs had settled) is not the run's.
        if (settled() < warmupJobs || elapsed() < minWarmup) jobsWarmup++;
        else if (r.phase === 'Finalized') jobsFinalized++;
        else jobsOther++;
        if (settled() === warmupJobs) warmJobsAt = elapsed();
        if (o.snapshotsAt?.includes(settled())) {
          gc();
          o.onSnapshot?.(writeHeapSnapshot(join(o.snapshotDir ?? '.', `soak-${settled()}-jobs.heapsnapshot`)));
        }
        o.onJob?.({ jobId: jobId.toString(), phase: r.phase, seconds: (performance.now() - t) / 1000, accepted: r.accepted && r.model !== undefined });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    sample();
  } finally {
    clearInterval(timer);
    ac.abort(new Error('soak over'));
    await Promise.all(nodes.map((n) => n.stop()));
    await market.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const warmupSeconds = Math.max(minWarmup, warmJobsAt);
  const after = samples.filter((s) => s.seconds >= warmupSeconds);
  const hours = after.map((s) => s.seconds / 3600);
  return {
    seconds: elapsed(),
    samples,
    warmupSeconds,
    jobsPosted,
    jobsFinalized,
    jobsOther,
    jobsWarmup,
    jobsStalled,
    rssSlope: slope(hours, after.map((s) => s.rssMb)),
    rssMedianSlope: medianSlope(hours, after.map((s) => s.rssMb)),
    heapSlope: slope(hours, after.map((s) => s.heapMb)),
    heapTotalSlope: slope(hours, after.map((s) => s.heapTotalMb)),
    ...(after.every((s) => s.smaps) && after.length > 0 ? { smapsSlopes: Object.fromEntries(SMAPS_GROUPS.map((g) => [g, slope(hours, after.map((s) => s.smaps![g]))])) as Record<SmapsGroup, number> } : {}),
    rssStartMb: after[0]?.rssMb ?? NaN,
    rssEndMb: samples[samples.length - 1]?.rssMb ?? NaN,
    problems,
    smapsGrowth: firstMaps && lastMaps ? smapsGrowth(firstMaps, lastMaps) : undefined,
  };
}
