/**
 * What a role node must not forget across a crash: the jobs it holds (a solver's claimed job, a verifier's job under
 * check or in dispute), with the spec it fetched and the blocks it needs to read the chain from again. Kept in an
 * embedded LMDB database (`<data dir>/state.lmdb`): every write is a committed transaction, so a node killed at any
 * point (SIGKILL included) reopens with the last write whole. The chain stays the authority on each job's phase, its
 * stake and the dispute's moves (playDispute rebuilds the position from the chain); this store only says which jobs
 * to go back to, and how.
 */
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

export type HeldJob = {
  role: 'solver' | 'verifier';
  jobId: string;
  /** The job spec as the node fetched and checked it (canonical JSON). */
  spec: string;
  /** A block at or before the job's commit: its dispute moves are read from there. */
  fromBlock: string;
  /** Solver, for demos: the step it cheats at. */
  cheatAt?: number;
};

export class NodeState {
  private constructor(private readonly db: RootDatabase<HeldJob, string>) {}

  static open(dataDir: string): NodeState {
    return new NodeState(open<HeldJob, string>({ path: join(dataDir, 'state.lmdb') }));
  }

  /** Records a job before the node acts on it (claims, or starts checking); resolves once it is on disk. */
  async hold(job: HeldJob): Promise<void> {
    await this.db.put(`job/${job.role}/${job.jobId}`, job);
  }

  async release(role: HeldJob['role'], jobId: bigint | string): Promise<void> {
    await this.db.remove(`job/${role}/${jobId}`);
  }

  held(role: HeldJob['role']): HeldJob[] {
    return [...this.db.getRange({ start: `job/${role}/`, end: `job/${role}/\uffff` })].map(({ value }) => value);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
