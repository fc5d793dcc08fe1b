/**
 * What a role node must not forget across a crash: the jobs it holds (a solver's claimed job, a verifier's job under
 * check or in dispute), with the spec it fetched and the blocks it needs to read the chain from again, and where it
 * stopped reading the market's events (cursor.ts). Kept in an
 * embedded LMDB database (`<data dir>/state.lmdb`): every write is a committed transaction, so a node killed at any
 * point (SIGKILL included) reopens with the last write whole. The chain stays the authority on each job's phase, its
 * stake and the dispute's moves (playDispute rebuilds the position from the chain); this store only says which jobs
 * to go back to, and how.
 */
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { EventPosition } from './cursor.js';

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

type Stored = HeldJob | { block: string; logIndex: number };

export class NodeState {
  private constructor(private readonly db: RootDatabase<Stored, string>) {}

  static open(dataDir: string): NodeState {
    return new NodeState(open<Stored, string>({ path: join(dataDir, 'state.lmdb') }));
  }

  /** The position up to which the events `name` ("solver/JobPosted") were handled, if any was stored. */
  cursor(name: string): EventPosition | undefined {
    const v = this.db.get(`cursor/${name}`) as { block: string; logIndex: number } | undefined;
    return v && { block: BigInt(v.block), logIndex: v.logIndex };
  }

  async setCursor(name: string, p: EventPosition): Promise<void> {
    await this.db.put(`cursor/${name}`, { block: p.block.toString(), logIndex: p.logIndex });
  }

  /** Records a job before the node acts on it (claims, or starts checking); resolves once it is on disk. */
  async hold(job: HeldJob): Promise<void> {
    await this.db.put(`job/${job.role}/${job.jobId}`, job);
  }

  async release(role: HeldJob['role'], jobId: bigint | string): Promise<void> {
    await this.db.remove(`job/${role}/${jobId}`);
  }

  held(role: HeldJob['role']): HeldJob[] {
    return [...this.db.getRange({ start: `job/${role}/`, end: `job/${role}/\uffff` })].map(({ value }) => value as HeldJob);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
