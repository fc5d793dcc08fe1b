import { CorruptCheckpointError, MissingCheckpointError, Store, buildProgram, decodeCheckpoint, loadCheckpointState, stateHash, type JobProgram, type RunRecord, type TrainState } from '../../train/index.js';
import { assistRunProgram, assistSpecOf } from '../assist-run.js';
import { dataDirOf } from './p2p-flags.js';
import { loadTextFileBytes } from '../../data/index.js';
import { UsageError } from '../../platform/errors.js';
import { UnknownJobError, catchProbability, locateDivergence, rulesOf, sampleSteps, type Divergence } from '../../verify/index.js';
import { intFlag, interruptedExit, type Command, type Flags } from '../command.js';
import { JOB_FLAGS } from '../job.js';
import { findStoredRun, runStores, type RunStore } from '../run-stores.js';

/** The run a job id or run commitment (or a unique prefix of either) names in the store. */
export async function findRun(store: Store, ref: string): Promise<RunRecord> {
  return (await findStoredRun([{ name: 'train', store }], ref)).record;
}

/** The run's program: a GPT job's from its spec (and its text), an assist job's from its spec and blobs (assist-run.ts). */
export async function programOf(record: RunRecord, flags: Flags): Promise<JobProgram> {
  const assist = assistSpecOf(record.spec);
  if (assist) return assistRunProgram(assist, dataDirOf(flags));
  if (record.spec.data.kind !== 'text') return buildProgram(record.spec);
  const { bytes } = await loadTextFileBytes(record.spec.data.path);
  return buildProgram(record.spec, { text: new TextDecoder().decode(bytes) });
}

const hex = (w: number) => `0x${(w >>> 0).toString(16).padStart(8, '0')}`;
const asFloat = (w: number) => new Float32Array(new Int32Array([w]).buffer)[0];

export function describeDivergence(d: Divergence): string[] {
  return [
    `  op ${d.op}: ${d.opName} (a ${d.opKind})`,
    `  element ${d.element} of ${d.tensor}: committed ${hex(d.theirs)} (${asFloat(d.theirs)}), re-executed ${hex(d.ours)} (${asFloat(d.ours)})`,
    `  instruction ${d.instruction} of that element's program (${d.opcode}) is the first whose result cannot lead to the committed value`,
  ];
}

/** What loading each of a run's checkpoints found: its state, or why it cannot be used. */
export type CheckpointCheck = { step: number; intact: true } | { step: number; intact: false; reason: string };

/**
 * Loads every checkpoint of the run: its bytes must hash to its name, its tensors to the state hash it
 * claims, and that hash must be the run's committed step hash. Broken ones are reported, never changed.
 */
export async function checkCheckpoints(store: Store, record: RunRecord): Promise<CheckpointCheck[]> {
  const checks: CheckpointCheck[] = [];
  for (const step of Object.keys(record.checkpoints).map(Number).sort((a, b) => a - b)) {
    const hash = record.checkpoints[String(step)];
    try {
      const { info } = decodeCheckpoint(await store.getObject(hash), `${hash} (step ${step})`);
      if (info.stateHash !== record.stepHashes[step]) checks.push({ step, intact: false, reason: `its state hash is not the committed h_${step}` });
      else checks.push({ step, intact: true });
    } catch (error) {
      if (!(error instanceof CorruptCheckpointError || error instanceof MissingCheckpointError)) throw error;
      checks.push({ step, intact: false, reason: error.shortMessage });
    }
  }
  return checks;
}

export const verify: Command = {
  name: 'verify',
  summary: 're-execute a committed run (or K sampled steps) and report agreement or the first divergence',
  usage: '<job id | run commitment | job-N>',
  description: `
Finds the run in the data dir's train store or among the market jobs a node on this data dir solved
or re-executed (<data-dir>/job-N: name it job-N, or by its job id or commitment).
Re-executes the run's steps with this node's runtime, from the run's own intact checkpoints, and
compares every step hash with the commitment. A divergence is located to the step, and, where the
run has a checkpoint of the diverging step, to the op (with its place in the model), the element and
the element-program instruction. Every checkpoint is also loaded and checked (bytes against their
name, tensors against the committed step hash); a corrupt or missing one is reported, and replay
starts from an earlier one instead.

Examples:
  mycel verify 3fa9c1
  mycel verify job-7 --data-dir ~/.mycel-node     # market job 7, as this node ran it
  mycel verify 3fa9c1 --sample 5 --seed 42 --json`,
  flags: {
    ...JOB_FLAGS,
    sample: { type: 'string', value: 'K', description: 'check K steps chosen from a public seed instead of all' },
    seed: { type: 'string', value: 'SEED', description: 'the public seed of --sample (default: the run commitment)' },
    'each-step': { type: 'boolean', description: 'print a line for every step checked (default: a progress bar and the summary)' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length !== 1) throw new UsageError('verify takes one job id or run commitment.', { metaMessages: ['List them: mycel inspect'] });
    let bar: ReturnType<typeof out.progress> | undefined;
    const { text, ...result } = await verifyRun(await runStores(dataDirOf(flags)), args[0], flags, signal, (t, done, total) => {
      if (flags['each-step']) out.log(`step ${t}: agrees`);
      else (bar ??= out.progress('verifying', total)).update(done);
    });
    bar?.done();
    out.result(result, text);
    return interruptedExit(signal); // cut short by Ctrl-C or SIGTERM: 130 or 143, never a pass
  },
};

/** `stores`: where to look for the run (runStores: the data dir's train store and its market jobs'). `onAgreed(t, done, total)` is told each checked step that agrees. */
export async function verifyRun(stores: Store | readonly RunStore[], ref: string, flags: Flags, signal?: AbortSignal, onAgreed?: (t: number, done: number, total: number) => void) {
  const { store, record } = await findStoredRun(stores instanceof Store ? [{ name: 'train', store: stores }] : stores, ref);
  if (!record.commitment) throw new UnknownJobError(`${ref}: the run is unfinished and has no commitment yet`);
  const program = await programOf(record, flags);
  const T = record.spec.steps;
  const seed = (flags.seed as string | undefined) ?? record.commitment;
  const chosen = flags.sample === undefined ? Array.from({ length: T }, (_, i) => i + 1) : sampleSteps(seed, T, intFlag(flags, 'sample', 1, 1, T));
  const checks = await checkCheckpoints(store, record);
  const intact = new Set(checks.flatMap((c) => (c.intact ? [c.step] : [])));
  // Loaded again when used rather than kept: a long run's states do not all fit in memory at once.
  const load = async (step: number) => (intact.has(step) ? (await loadCheckpointState(store, record, step)) : undefined);
  const broken = checks.flatMap((c) => (c.intact ? [] : [{ step: c.step, reason: c.reason }]));
  // Step 0 is the spec's own init: replay can always start there.
  const starts = [0, ...intact.keys()];
  let state: TrainState | undefined;
  let executed = 0;
  let divergence: { t: number; committed: string; computed: string; located?: Divergence } | undefined;
  outer: for (const t of chosen) {
    const from = Math.max(...starts.filter((c) => c <= t - 1));
    if (!state || state.step > t - 1 || state.step < from) {
      state = (await load(from)) ?? program.init();
      if (stateHash(state) !== record.stepHashes[from]) {
        divergence = { t: from, committed: record.stepHashes[from], computed: stateHash(state) };
        break;
      }
    }
    while (state.step < t) {
      if (signal?.aborted) break outer;
      const before: TrainState = state;
      state = program.step(before).state;
      executed++;
      const computed = stateHash(state);
      if (computed !== record.stepHashes[state.step]) {
        const theirs = await load(state.step);
        const located = theirs ? locateDivergence(rulesOf(program), program, before, theirs) : undefined;
        divergence = { t: state.step, committed: record.stepHashes[state.step], computed, located };
        break outer;
      }
    }
    onAgreed?.(t, chosen.indexOf(t) + 1, chosen.length);
  }
  // A sampled check catches a cheat confined to one step with at least this probability (more: replay from a
  // checkpoint also checks the steps between it and the sampled one).
  const catches = catchProbability(T, chosen.length, 1);
  const what = flags.sample === undefined ? `all ${T} steps` : `${chosen.length} steps sampled from seed ${seed.slice(0, 16)} (${chosen.join(', ')}; a one-step cheat is caught with probability >= ${catches.toFixed(3)})`;
  const text = divergence
    ? [
        `Run ${record.commitment} (job ${record.jobId.slice(0, 16)}) DIVERGES at step ${divergence.t}.`,
        `  h_${divergence.t}: committed ${divergence.committed.slice(0, 16)}…, re-executed ${divergence.computed.slice(0, 16)}…`,
        ...(divergence.located ? describeDivergence(divergence.located) : ['  no checkpoint of that step to compare tensors with: `mycel dispute` locates it with the committer\'s moves']),
      ].join('\n')
    : signal?.aborted
      ? `Run ${record.commitment} (job ${record.jobId.slice(0, 16)}): INTERRUPTED after ${executed} steps run; those agree, the rest of ${what} was not checked.`
      : `Run ${record.commitment} (job ${record.jobId.slice(0, 16)}): ${what} re-executed (${executed} steps run); every step hash agrees.`;
  const integrity = broken.length === 0
    ? `Checkpoints: all ${checks.length} intact.`
    : [`Checkpoints: ${checks.length - broken.length} of ${checks.length} intact; ${broken.length} unusable (left as they are):`, ...broken.map((b) => `  step ${b.step}: ${b.reason}`)].join('\n');
  return {
    job_id: record.jobId,
    commitment: record.commitment,
    checked: chosen,
    catch_probability: catches,
    steps_executed: executed,
    agrees: !divergence && !signal?.aborted,
    interrupted: !!signal?.aborted && !divergence,
    divergence: divergence ?? null,
    checkpoints: { total: checks.length, intact: checks.length - broken.length, unusable: broken },
    text: `${text}\n${integrity}`,
  };
}
