import { Store, buildProgram, decodeCheckpoint, stateHash, type RunRecord, type TrainProgram, type TrainState } from '../../train/index.js';
import { loadTextFileBytes } from '../../data/index.js';
import { UsageError } from '../../platform/errors.js';
import { UnknownJobError, locateDivergence, rulesOf, sampleSteps, type Divergence } from '../../verify/index.js';
import { intFlag, type Command, type Flags } from '../command.js';
import { JOB_FLAGS, trainStore } from '../job.js';

/** The run a job id or run commitment (or a unique prefix of either) names in the store. */
export async function findRun(store: Store, ref: string): Promise<RunRecord> {
  const wanted = ref.toLowerCase();
  const matches: RunRecord[] = [];
  for (const id of await store.runs()) {
    const record = await store.readRun(id);
    if (record && (id.startsWith(wanted) || record.commitment?.startsWith(wanted))) matches.push(record);
  }
  if (matches.length !== 1 || wanted.length < 4) throw new UnknownJobError(`${ref} in ${store.dir}${matches.length > 1 ? ` (${matches.length} runs match: give more digits)` : ''}`);
  return matches[0];
}

export async function programOf(record: RunRecord): Promise<TrainProgram> {
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

async function checkpointState(store: Store, record: RunRecord, step: number): Promise<TrainState | undefined> {
  const hash = record.checkpoints[String(step)];
  return hash ? decodeCheckpoint(await store.getObject(hash), `${hash} (step ${step})`).state : undefined;
}

export const verify: Command = {
  name: 'verify',
  summary: 're-execute a committed run (or K sampled steps) and report agreement or the first divergence',
  usage: '<job id | run commitment>',
  description: `
Re-executes the run's steps with this node's runtime, from the run's own checkpoints (each checked
against the committed step hash), and compares every step hash with the commitment. A divergence is
located to the step, and, where the run has a checkpoint of the diverging step, to the op (with its
place in the model), the element and the element-program instruction.

Examples:
  mycel verify 3fa9c1
  mycel verify 3fa9c1 --sample 5 --seed 42 --json`,
  flags: {
    ...JOB_FLAGS,
    sample: { type: 'string', value: 'K', description: 'check K steps chosen from a public seed instead of all' },
    seed: { type: 'string', value: 'SEED', description: 'the public seed of --sample (default: the run commitment)' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length !== 1) throw new UsageError('verify takes one job id or run commitment.', { metaMessages: ['List them: mycel inspect'] });
    const { text, ...result } = await verifyRun(trainStore(flags), args[0], flags, signal, (line) => out.log(line));
    out.result(result, text);
  },
};

export async function verifyRun(store: Store, ref: string, flags: Flags, signal?: AbortSignal, log?: (line: string) => void) {
  const record = await findRun(store, ref);
  if (!record.commitment) throw new UnknownJobError(`${ref}: the run is unfinished and has no commitment yet`);
  const program = await programOf(record);
  const T = record.spec.steps;
  const seed = (flags.seed as string | undefined) ?? record.commitment;
  const chosen = flags.sample === undefined ? Array.from({ length: T }, (_, i) => i + 1) : sampleSteps(seed, T, intFlag(flags, 'sample', 1, 1, T));
  const checkpoints = Object.keys(record.checkpoints).map(Number).sort((a, b) => a - b);
  let state: TrainState | undefined;
  let executed = 0;
  let divergence: { t: number; committed: string; computed: string; located?: Divergence } | undefined;
  outer: for (const t of chosen) {
    const from = Math.max(...checkpoints.filter((c) => c <= t - 1));
    if (!state || state.step > t - 1 || state.step < from) {
      state = from === 0 && !record.checkpoints['0'] ? program.init() : await checkpointState(store, record, from);
      if (!state || stateHash(state) !== record.stepHashes[from]) {
        divergence = { t: from, committed: record.stepHashes[from], computed: state ? stateHash(state) : 'missing checkpoint' };
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
        const theirs = await checkpointState(store, record, state.step);
        const located = theirs ? locateDivergence(rulesOf(program), program, before, theirs) : undefined;
        divergence = { t: state.step, committed: record.stepHashes[state.step], computed, located };
        break outer;
      }
    }
    log?.(`step ${t}: agrees`);
  }
  const what = flags.sample === undefined ? `all ${T} steps` : `${chosen.length} steps sampled from seed ${seed.slice(0, 16)} (${chosen.join(', ')})`;
  const text = divergence
    ? [
        `Run ${record.commitment} (job ${record.jobId.slice(0, 16)}) DIVERGES at step ${divergence.t}.`,
        `  h_${divergence.t}: committed ${divergence.committed.slice(0, 16)}…, re-executed ${divergence.computed.slice(0, 16)}…`,
        ...(divergence.located ? describeDivergence(divergence.located) : ['  no checkpoint of that step to compare tensors with: `mycel dispute` locates it with the committer\'s moves']),
      ].join('\n')
    : `Run ${record.commitment} (job ${record.jobId.slice(0, 16)}): ${what} re-executed (${executed} steps run); every step hash agrees.`;
  return { job_id: record.jobId, commitment: record.commitment, checked: chosen, steps_executed: executed, agrees: !divergence, divergence: divergence ?? null, text };
}
