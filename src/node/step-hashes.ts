/**
 * A party's published step hashes h_0..h_T: the list its opponent needs to bisect. They travel as a libp2p blob
 * (JSON `{"stepHashes": [...]}`), and the receiver accepts them only if their RFC 6962 Merkle root (runCommitment)
 * is the run root that party committed on chain: the chain, not the sender, says which list is the real one.
 * A trained model (the final checkpoint) is accepted the same way: its state hash must be h_T of that list.
 */
import type { Hex } from 'viem';
import { MycelError } from '../platform/errors.js';
// The modules themselves, not train/index.js (which re-exports the file store): a browser tab's page imports this.
import { decodeCheckpoint } from '../train/checkpoint.js';
import { runCommitment } from '../train/commitment.js';
import { stateHash } from '../train/state.js';

/** A step-hash list that is malformed or whose Merkle root is not the root committed on chain. */
export class StepHashesMismatchError extends MycelError {
  override name = 'StepHashesMismatchError';
  constructor({ jobId, root, cid, problem }: { jobId: bigint; root: Hex; cid: string; problem: string }) {
    super(`The step hashes of job ${jobId} in blob ${cid} do not belong to run root ${root}: ${problem}.`, {
      metaMessages: [
        'The announcing peer sent a list that the chain does not back (forged, corrupt or for another run); it was not used.',
        'Nothing to do: the node waits for the committing party\'s own announcement of the list.',
      ],
    });
  }
}

export const encodeStepHashes = (stepHashes: readonly string[]): Uint8Array => new TextEncoder().encode(JSON.stringify({ stepHashes }));

/** The step hashes in `bytes`, checked against the on-chain run root `root` of a `steps`-step job. */
export function checkedStepHashes(bytes: Uint8Array, o: { jobId: bigint; root: Hex; steps: number; cid: string }): string[] {
  const fail = (problem: string) => new StepHashesMismatchError({ jobId: o.jobId, root: o.root, cid: o.cid, problem });
  let list: unknown;
  try {
    list = (JSON.parse(new TextDecoder().decode(bytes)) as { stepHashes?: unknown }).stepHashes;
  } catch {
    throw fail('it is not JSON');
  }
  if (!Array.isArray(list) || !list.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) throw fail('it is not a list of 32-byte lowercase hex hashes');
  if (list.length !== o.steps + 1) throw fail(`it has ${list.length} hashes, a ${o.steps}-step run has ${o.steps + 1}`);
  const actual = runCommitment(list as string[]);
  if (`0x${actual}` !== o.root.toLowerCase()) throw fail(`their Merkle root is 0x${actual}`);
  return list as string[];
}

/** A model blob that is not the final state of the run committed on chain. */
export class ModelMismatchError extends MycelError {
  override name = 'ModelMismatchError';
  constructor({ jobId, cid, problem }: { jobId: bigint; cid: string; problem: string }) {
    super(`The model of job ${jobId} in blob ${cid} is not the committed run's final state: ${problem}.`, {
      metaMessages: ['It was not kept; the node waits for the solver\'s own announcement of the model.'],
    });
  }
}

/** The checkpoint in `bytes`, checked to be the state whose hash is `finalHash` (h_T of the committed run). */
export function checkModel(bytes: Uint8Array, o: { jobId: bigint; finalHash: string; cid: string }): void {
  let actual: string;
  try {
    actual = stateHash(decodeCheckpoint(bytes, `blob ${o.cid}`).state);
  } catch (error) {
    throw new ModelMismatchError({ jobId: o.jobId, cid: o.cid, problem: (error as Error).message });
  }
  if (actual !== o.finalHash) throw new ModelMismatchError({ jobId: o.jobId, cid: o.cid, problem: `its state hash is ${actual}, the run's h_T is ${o.finalHash}` });
}
