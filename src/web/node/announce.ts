/**
 * The tab's side of the market's announcements (node/announce.ts): what it solved is announced as a Node solver
 * announces it: its step hashes and model under the run root it commits, and each checkpoint under its state hash (a
 * sampling verifier replays a sampled step from the one before it), each a blob the tab serves (blobs.ts). Gossip is
 * not stored, so each announcement is re-published every ANNOUNCE_EVERY_MS until the job is settled.
 */
import type { Address, Hex } from 'viem';
import { ANNOUNCE_EVERY_MS, announceCodec, announceTopic, type Announcement } from '../../node/announce.js';
import { encodeStepHashes } from '../../node/step-hashes.js';
import { serveBytes } from './blobs.js';
import type { TabHost } from './libp2p.js';

/** A trained run, as the worker gives it: its step hashes h_0..h_T and its checkpoints (encoded), by step. */
export type TrainedRun = { stepHashes: string[]; checkpoints: [number, Uint8Array][] };

/** What the tab announced of a job: the CIDs of its step-hash list and of its model (the final checkpoint). */
export type Published = { steps: string; model: string; states: number };

export class TabAnnouncer {
  private readonly mine = new Map<string, Announcement>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly topic: string;

  constructor(private readonly host: TabHost, chainId: number, market: Address) {
    this.topic = announceTopic(chainId, market);
    host.services.pubsub.subscribe(this.topic); // publishing reaches the mesh of a topic one is subscribed to
    this.timer = setInterval(() => { for (const a of this.mine.values()) this.send(a); }, ANNOUNCE_EVERY_MS);
  }

  /** Serves the run's step hashes, model and checkpoints, and announces them (before the commit, as a Node solver does). */
  async publish(jobId: bigint, root: Hex, run: TrainedRun): Promise<Published> {
    const T = run.stepHashes.length - 1;
    const steps = await serveBytes(this.host, encodeStepHashes(run.stepHashes));
    this.announce({ kind: 'steps', jobId: jobId.toString(), key: root.toLowerCase(), cid: steps });
    let model: string | undefined;
    for (const [step, bytes] of run.checkpoints) {
      const cid = await serveBytes(this.host, bytes);
      if (step === T) {
        model = cid;
        this.announce({ kind: 'model', jobId: jobId.toString(), key: root.toLowerCase(), cid });
      }
      this.announce({ kind: 'state', jobId: jobId.toString(), key: `0x${run.stepHashes[step]}`, cid });
    }
    if (!model) throw new Error(`the run of job ${jobId} kept no checkpoint of its last step (${T})`);
    return { steps, model, states: run.checkpoints.length };
  }

  /** Stops re-publishing a settled job's announcements (its blobs are still served while the tab stays). */
  forget(jobId: bigint): void {
    for (const [id, a] of this.mine) if (a.jobId === jobId.toString()) this.mine.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private announce(a: Announcement): void {
    this.mine.set(`${a.kind}/${a.jobId}/${a.key}/${a.cid}`, a);
    this.send(a);
  }

  private send(a: Announcement): void {
    void this.host.services.pubsub.publish(this.topic, announceCodec.encode('announce', a)).catch(() => undefined);
  }
}
