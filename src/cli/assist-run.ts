/**
 * A stored run of an assistant-training job (assist/job.ts) for the commands that replay or show runs: `mycel
 * verify`, `mycel dispute --local` and `mycel inspect`. Unlike a GPT job's, its program is not a function of its spec
 * alone: it also needs the blobs the spec names by CID (the person's dataset, a base model), which a node keeps in its
 * blob store (<data-dir>/blobs, or a market node's <data-dir>/p2p/blobs) once it has fetched or published them. buildAssistJob checks each against its CID.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assistBlobRole, assistJobBlobs, buildAssistJob, isAssistJobSpec, type AssistJobProgram, type AssistJobSpec } from '../assist/job.js';
import { MycelError } from '../platform/errors.js';
import type { ProgramSpec } from '../train/index.js';

export class AssistBlobMissingError extends MycelError {
  override name = 'AssistBlobMissingError';
}

/** The spec as an assist job's, if the run is one (a stored run's spec is typed as a GPT job's). */
export const assistSpecOf = (spec: ProgramSpec): AssistJobSpec | undefined => (isAssistJobSpec(spec) ? (spec as unknown as AssistJobSpec) : undefined);

/**
 * Where a data dir keeps blobs: `<data-dir>/blobs` (`mycel blob`, `mycel assist`'s sharing) and `<data-dir>/p2p/blobs`
 * (a market node's: `mycel node start`, whose job runs are in <data-dir>/job-N).
 */
const blobDirs = (dataDir: string): string[] => [join(dataDir, 'blobs'), join(dataDir, 'p2p', 'blobs')];

/** The job's program, built from the blobs its spec names, read from the data dir's blob stores. */
export async function assistRunProgram(spec: AssistJobSpec, dataDir: string): Promise<AssistJobProgram> {
  const blobs = new Map<string, Uint8Array>();
  for (const cid of assistJobBlobs(spec)) {
    let bytes: Buffer | undefined;
    for (const dir of blobDirs(dataDir)) bytes ??= await readFile(join(dir, `${cid}.data`)).catch(() => undefined);
    if (!bytes) {
      const file = join(dataDir, 'blobs', `${cid}.data`);
      throw new AssistBlobMissingError(`This assist job trains on blob ${cid} (its ${assistBlobRole(spec, cid)}), which is not in ${blobDirs(dataDir).join(' or ')}.`, {
        metaMessages: [`A node that posted or took the job keeps it in its data dir's blobs/ or p2p/blobs/: copy ${cid}.data from there, or fetch it with a node running on this data dir: mycel blob get ${cid} -o ${file}`],
      });
    }
    blobs.set(cid, new Uint8Array(bytes));
  }
  return buildAssistJob(spec, blobs);
}

/** What an assist job trains on, for a line of `mycel inspect`. */
export const assistRunData = (spec: AssistJobSpec): string => `assist dataset ${spec.data.cid.slice(0, 16)}…${spec.base ? ` from model ${spec.base.cid.slice(0, 16)}…` : ''}${spec.replay ? ` beside replay ${spec.replay.cid.slice(0, 16)}…` : ''}`;
