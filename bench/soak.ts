// `npm run bench -- soak [--minutes 30] [--sample-seconds 10] [--max-rss-slope 20] [--smaps] [--json]`: the market's roles
// (a submitter, two solvers, a verifier, in this process, on a fresh anvil) run jobs without pause for the given time
// (bench/lib/soak.ts). One row per memory sample (after a full GC), then the summary: RSS and heap slopes in MB per
// hour by least squares over the samples after the warm-up (the first sixth of the run, and until 5 jobs have
// settled: the caches that fill with jobs are full by then). --smaps adds resident MB by kind of mapping
// (bench/lib/smaps.ts) to each row and lists the mappings that grew most after the warm-up. It exits 1 when the RSS
// slope is above --max-rss-slope: memory that grows at that rate is a leak, whatever a short run's noise.
import { makeReporter } from './report.js';
import { soak } from './lib/soak.js';

/** MB per hour. A 30-minute run's GC and allocator noise stays well under it; a node leaking 20 MB/h is out of memory within weeks. */
const DEFAULT_MAX_RSS_SLOPE = 20;
/** Jobs that must settle after the warm-up for the slope to say anything about growth per job. */
const MIN_JOBS_AFTER_WARMUP = 10;

function numberFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} takes a positive number, got "${args[i + 1] ?? ''}".`);
    process.exit(2);
  }
  return v;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.error('Usage: npm run bench -- soak [--minutes 30] [--sample-seconds 10] [--max-rss-slope MB_PER_HOUR] [--smaps] [--snapshots JOBS,JOBS [--snapshot-dir DIR]] [--json]');
    console.error('  --snapshots 10,50: a heap snapshot when 10 and when 50 jobs have settled (compare them with bench heap-diff); they grow RSS, so the run is no figure.');
    return;
  }
  const snapshotsAt = args.includes('--snapshots') ? (args[args.indexOf('--snapshots') + 1] ?? '').split(',').map(Number) : undefined;
  if (snapshotsAt?.some((n) => !Number.isInteger(n) || n <= 0)) {
    console.error(`--snapshots takes job counts like 10,50, got "${args[args.indexOf('--snapshots') + 1] ?? ''}".`);
    process.exit(2);
  }
  const report = makeReporter(args);
  const minutes = numberFlag(args, 'minutes', 30);
  const bound = numberFlag(args, 'max-rss-slope', DEFAULT_MAX_RSS_SLOPE);
  // Ctrl-C or SIGTERM ends the run early, with its nodes and its anvil stopped.
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort(new Error(sig)));
  const r = await soak({
    signal: stop.signal,
    seconds: minutes * 60,
    sampleSeconds: numberFlag(args, 'sample-seconds', 10),
    smaps: args.includes('--smaps'),
    ...(snapshotsAt ? { snapshotsAt, snapshotDir: args.includes('--snapshot-dir') ? args[args.indexOf('--snapshot-dir') + 1] : '.', onSnapshot: (path: string) => process.stderr.write(`heap snapshot: ${path}\n`) } : {}),
    onSample: (s) =>
      report({
        name: 'soak.sample',
        seconds: s.seconds,
        rss_mb: round(s.rssMb),
        heap_mb: round(s.heapMb),
        heap_total_mb: round(s.heapTotalMb),
        external_mb: round(s.externalMb),
        array_buffers_mb: round(s.arrayBuffersMb),
        jobs: s.jobs,
        ...(s.smaps ? { smaps_mb: Object.fromEntries(Object.entries(s.smaps).map(([k, v]) => [k, round(v)])), threads: s.threads } : {}),
        ...(s.v8Spaces ? { v8_spaces_mb: Object.fromEntries(Object.entries(s.v8Spaces).map(([k, v]) => [k, round(v)])) } : {}),
      }),
    onJob: (j) => process.stderr.write(`job ${j.jobId}: ${j.phase}${j.accepted ? ', model fetched' : ''} in ${j.seconds.toFixed(1)} s\n`),
  });
  // Fewer than 10 samples after the warm-up (a machine too busy for the run's jobs): no slope to judge by.
  const samplesAfter = r.samples.filter((s) => s.seconds >= r.warmupSeconds).length;
  // Growth per job needs jobs: a run whose jobs stalled samples an idle node (a 50-minute run on a loaded machine:
  // 7 jobs after the warm-up, none in its last 33 minutes, and a slope of -24.6 MB/hour that said nothing).
  const conclusive = samplesAfter >= 10 && r.jobsFinalized + r.jobsOther >= MIN_JOBS_AFTER_WARMUP;
  const pass = conclusive && r.rssSlope <= bound;
  report({
    name: 'soak',
    minutes: round(r.seconds / 60),
    samples: r.samples.length,
    warmup_minutes: round(r.warmupSeconds / 60),
    samples_after_warmup: samplesAfter,
    jobs_posted: r.jobsPosted,
    jobs_finalized: r.jobsFinalized,
    jobs_other: r.jobsOther,
    jobs_warmup: r.jobsWarmup,
    jobs_stalled: r.jobsStalled,
    rss_start_mb: round(r.rssStartMb),
    rss_end_mb: round(r.rssEndMb),
    rss_slope_mb_per_hour: round(r.rssSlope),
    rss_median_slope_mb_per_hour: round(r.rssMedianSlope),
    heap_slope_mb_per_hour: round(r.heapSlope),
    heap_total_slope_mb_per_hour: round(r.heapTotalSlope),
    ...(r.smapsSlopes ? { smaps_slopes_mb_per_hour: Object.fromEntries(Object.entries(r.smapsSlopes).map(([k, v]) => [k, round(v)])) } : {}),
    max_rss_slope_mb_per_hour: bound,
    ...(snapshotsAt ? { heap_snapshots_at_jobs: snapshotsAt.join(',') } : {}),
    pass,
    note: 'submitter, 2 solvers and a verifier in one process; memory sampled after a full GC; slopes by least squares after the warm-up',
  });
  for (const g of r.smapsGrowth ?? []) report({ name: 'soak.smaps_growth', start: g.start, mapping: g.name || '(anonymous)', group: g.group, size_kb: g.sizeKb, grew_kb: g.grewKb });
  for (const p of r.problems) process.stderr.write(`reported: ${p}\n`);
  if (!conclusive) {
    console.error(`Only ${samplesAfter} samples and ${r.jobsFinalized + r.jobsOther} jobs settled after the warm-up (${r.jobsWarmup} in it, which lasts until 5 have; ${r.jobsStalled} stalled; at least 10 samples and ${MIN_JOBS_AFTER_WARMUP} jobs needed): too few for a slope. Run longer (--minutes), or on a less busy machine.`);
    process.exitCode = 1;
  } else if (!pass) {
    console.error(`RSS grew ${r.rssSlope.toFixed(1)} MB/hour after the warm-up, above the bound of ${bound} MB/hour: a leak.`);
    process.exitCode = 1;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
