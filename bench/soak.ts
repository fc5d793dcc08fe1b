// `npm run bench -- soak [--minutes 30] [--sample-seconds 10] [--max-rss-slope 20] [--json]`: the market's roles
// (a submitter, two solvers, a verifier, in this process, on a fresh anvil) run jobs without pause for the given time
// (bench/lib/soak.ts). One row per memory sample (after a full GC), then the summary: RSS and heap slopes in MB per
// hour by least squares over the samples after the warm-up (the first sixth of the run). It exits 1 when the RSS
// slope is above --max-rss-slope: memory that grows at that rate is a leak, whatever a short run's noise.
import { makeReporter } from './report.js';
import { soak } from './lib/soak.js';

/** MB per hour. A 30-minute run's GC and allocator noise stays well under it; a node leaking 20 MB/h is out of memory within weeks. */
const DEFAULT_MAX_RSS_SLOPE = 20;

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
    console.error('Usage: npm run bench -- soak [--minutes 30] [--sample-seconds 10] [--max-rss-slope MB_PER_HOUR] [--json]');
    return;
  }
  const report = makeReporter(args);
  const minutes = numberFlag(args, 'minutes', 30);
  const bound = numberFlag(args, 'max-rss-slope', DEFAULT_MAX_RSS_SLOPE);
  const r = await soak({
    seconds: minutes * 60,
    sampleSeconds: numberFlag(args, 'sample-seconds', 10),
    onSample: (s) => report({ name: 'soak.sample', seconds: s.seconds, rss_mb: round(s.rssMb), heap_mb: round(s.heapMb), external_mb: round(s.externalMb), jobs: s.jobs }),
    onJob: (j) => process.stderr.write(`job ${j.jobId}: ${j.phase}${j.accepted ? ', model fetched' : ''} in ${j.seconds.toFixed(1)} s\n`),
  });
  const pass = r.rssSlope <= bound;
  report({
    name: 'soak',
    minutes: round(r.seconds / 60),
    samples: r.samples.length,
    warmup_minutes: round(r.warmupSeconds / 60),
    jobs_posted: r.jobsPosted,
    jobs_finalized: r.jobsFinalized,
    jobs_other: r.jobsOther,
    rss_start_mb: round(r.rssStartMb),
    rss_end_mb: round(r.rssEndMb),
    rss_slope_mb_per_hour: round(r.rssSlope),
    heap_slope_mb_per_hour: round(r.heapSlope),
    max_rss_slope_mb_per_hour: bound,
    pass,
    note: 'submitter, 2 solvers and a verifier in one process; memory sampled after a full GC; slopes by least squares after the warm-up',
  });
  for (const p of r.problems) process.stderr.write(`reported: ${p}\n`);
  if (!pass) {
    console.error(`RSS grew ${r.rssSlope.toFixed(1)} MB/hour after the warm-up, above the bound of ${bound} MB/hour: a leak.`);
    process.exitCode = 1;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
