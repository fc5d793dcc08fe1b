/**
 * Scale, simulated (issue 11): many real mycel nodes in this process on TCP over loopback, with churn
 * (bench/lib/scale.ts). The small version runs in CI so that the simulation cannot rot: 8 nodes, a few stopped and
 * restarted, gossip probes and blob trials, no chain jobs. The full one (MYCEL_LONG=1) runs 60 nodes with a
 * submitter, two solvers and a verifier as node processes killed with SIGKILL and restarted, and jobs on anvil.
 * `npm run bench -- scale --json` prints the figures. The bounds are behaviour on a busy machine, not speed: most
 * nodes get most messages, a blob stays fetchable after its publisher left while others hold it, jobs finalize.
 */
import { describe, expect, test } from 'vitest';
import { simulateScale } from '../../bench/lib/scale.js';

const LONG = process.env.MYCEL_LONG === '1';

describe('scale, simulated', () => {
  test('10 nodes with churn: gossip reaches most nodes, blobs outlive their publisher, stopped nodes come back', async () => {
    const r = await simulateScale({ nodes: 8, seconds: 12, churnPerMinute: 12, jobs: 0, blobEverySeconds: 3, gossipWindowSeconds: 5, downSeconds: [1, 2] });
    console.log(JSON.stringify(r));
    expect(r.stops).toBeGreaterThanOrEqual(1);
    expect(r.restarts).toBe(r.stops);
    expect(r.gossip_messages).toBeGreaterThan(5);
    expect(r.gossip_delivery).toBeGreaterThan(0.5);
    expect(r.blob_fetches).toBeGreaterThanOrEqual(1);
    expect(r.blob_availability).toBeGreaterThanOrEqual(0.5);
  }, 900_000);

  test.skipIf(!LONG)('60 nodes, churn among plain and role nodes, jobs on anvil (MYCEL_LONG=1)', async () => {
    const r = await simulateScale({ nodes: 60, seconds: 180, churnPerMinute: 12, jobs: 4, log: (t) => console.log(t) });
    console.log(JSON.stringify(r));
    expect(r.restarts).toBe(r.stops);
    expect(r.gossip_delivery).toBeGreaterThan(0.8);
    expect(r.blob_availability).toBeGreaterThan(0.8);
    expect(r.jobs_finalized).toBe(r.jobs_posted);
  }, 1_800_000);
});
