/** Jobs and their phases: posted, claimed, committed, challenged, finalized or refuted, each with its block and time. */
import type { JobView } from '../../node/dashboard/state.js';
import { clock, fill, h, short, table } from './dom.js';

const FLOW = ['posted', 'claimed', 'committed', 'challenged', 'finalized'] as const;

/** The job's phases as a row of steps: done ones filled, the current one outlined, refuted/expired in red. */
function phases(job: JobView): HTMLElement {
  const seen = new Set<string>(job.timeline.map((e) => e.phase));
  const ending = job.phase === 'refuted' || job.phase === 'expired' ? job.phase : 'finalized';
  const flow = [...FLOW.filter((p) => p !== 'finalized' && (p !== 'challenged' || seen.has('challenged'))), ending];
  return h('ol', { class: 'phases' }, ...flow.map((p) => {
    const event = job.timeline.find((e) => e.phase === p);
    const cls = p === job.phase ? `current ${p}` : seen.has(p) ? 'done' : 'todo';
    return h('li', { class: cls, title: event ? `block ${event.block}, ${clock(event.time)}: ${event.detail}` : 'not yet' }, p);
  }));
}

export function renderJobs(jobs: JobView[]): void {
  fill('jobs-count', `${jobs.length} job${jobs.length === 1 ? '' : 's'}`);
  fill('jobs',
    table(['job', 'phases', 'solver', 'steps', 'reward', 'stake', 'root'],
      jobs.map((j) => [`#${j.jobId}`, phases(j), j.solver ? h('span', {}, j.solverRole ?? '', ' ', short(j.solver, 4)) : '—', j.steps, j.reward, j.stake, j.root ? short(j.root) : '—']),
      'No job has been posted on this chain yet.'),
    ...jobs.filter((j) => j.timeline.length).map((j) => h('details', { class: 'timeline' }, h('summary', {}, `job #${j.jobId}: ${j.timeline.length} events`),
      table(['phase', 'block', 'time', 'what'], j.timeline.map((e) => [h('span', { class: `chip ${e.phase}` }, e.phase), e.block, clock(e.time), e.detail]), ''))),
  );
}
