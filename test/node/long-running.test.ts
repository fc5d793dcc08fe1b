/**
 * What a node running for weeks must not accumulate (issue 11, memory): built jobs (node/roles.ts jobOf keeps the most
 * recent few; unbounded, bench soak measured 165 MB/hour), and its own announcements (node/announce.ts: re-published
 * every second until the job is settled, then forgotten). The soak itself is `npm run bench -- soak --minutes 30`.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Announcements, HEARD_TTL_MS, type Announcement } from '../../src/node/announce.js';
import { jobOf } from '../../src/node/roles.js';
import type { MycelNode } from '../../src/p2p/node.js';
import { medianSlope, slope, tinySpec } from '../../bench/lib/market.js';

describe('job cache', () => {
  test('keeps the most recently used jobs and drops the oldest', () => {
    const a = jobOf(tinySpec(1));
    expect(jobOf(tinySpec(1))).toBe(a);
    for (const seed of [2, 3, 4]) jobOf(tinySpec(seed));
    expect(jobOf(tinySpec(1))).toBe(a); // used again: the most recent now
    for (const seed of [5, 6, 7, 8]) jobOf(tinySpec(seed));
    expect(jobOf(tinySpec(1))).not.toBe(a); // four others since: dropped, built again
    expect(jobOf(tinySpec(1)).spec).toEqual(a.spec);
  });
});

describe('announcements', () => {
  afterEach(() => vi.useRealTimers());

  test('are re-published every second until their job is forgotten', async () => {
    vi.useFakeTimers();
    const published: Announcement[] = [];
    const topic = { subscribe: () => () => {}, publish: async (_type: string, body: Announcement) => (published.push(body), 1), stats: { accepted: 0, rejected: 0, ignored: 0 } };
    const node = { topic: () => topic } as unknown as MycelNode;
    const ann = Announcements.open(node, 31337, '0x0000000000000000000000000000000000000001');
    const key = `0x${'ab'.repeat(32)}`;
    await ann.announce({ kind: 'spec', jobId: '1', key, cid: 'bafkreiaaaaaaaaaa' });
    await ann.announce({ kind: 'model', jobId: '2', key, cid: 'bafkreibbbbbbbbbb' });
    await vi.advanceTimersByTimeAsync(3_000);
    const jobs = () => published.map((a) => a.jobId);
    expect(jobs().filter((j) => j === '1')).toHaveLength(4);
    ann.forget(1n);
    published.length = 0;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(jobs()).toEqual(['2', '2', '2']);
    ann.close();
  });

  test('heard from a peer are kept while it re-publishes them, and dropped once it stopped for HEARD_TTL_MS', async () => {
    vi.useFakeTimers();
    let deliver: (m: { body: Announcement; from: string }) => void = () => {};
    const topic = { subscribe: (h: typeof deliver) => ((deliver = h), () => {}), publish: async () => 1, stats: { accepted: 0, rejected: 0, ignored: 0 } };
    const node = { topic: () => topic } as unknown as MycelNode;
    const ann = Announcements.open(node, 31337, '0x0000000000000000000000000000000000000001');
    const key = `0x${'ab'.repeat(32)}`;
    const live = { kind: 'spec', jobId: '1', key, cid: 'bafkreiaaaaaaaaaa' } as const;
    const settled = { kind: 'model', jobId: '2', key, cid: 'bafkreibbbbbbbbbb' } as const;
    deliver({ body: live, from: 'peer-a' });
    deliver({ body: settled, from: 'peer-a' });
    expect(ann.heardCount).toBe(2);
    // The live one is re-published every second (here every minute is enough); the settled one no more.
    for (let minute = 1; minute <= 15; minute++) {
      await vi.advanceTimersByTimeAsync(60_000);
      deliver({ body: live, from: 'peer-a' });
    }
    expect(ann.heardCount).toBe(1);
    const got = await ann.candidates('spec', 1n, key).next();
    expect(got.value).toMatchObject({ ...live, from: 'peer-a' });
    await vi.advanceTimersByTimeAsync(HEARD_TTL_MS + 2_000);
    expect(ann.heardCount).toBe(0);
    ann.close();
  });
});

describe('soak slope', () => {
  test('is the least-squares slope', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(slope([0, 1, 2, 3], [5, 4, 6, 5])).toBeCloseTo(0.2);
    expect(slope([1], [1])).toBeNaN();
  });

  test('as a median of pairwise slopes, is not moved by one high sample', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const flat = [100, 101, 100, 99, 100, 101, 100, 99, 100, 160]; // one sample caught a job's tensors
    expect(slope(xs, flat)).toBeGreaterThan(2.5);
    expect(Math.abs(medianSlope(xs, flat))).toBeLessThan(0.2);
    expect(medianSlope(xs, xs.map((x) => 3 * x + 1))).toBeCloseTo(3);
    expect(medianSlope([1], [1])).toBeNaN();
  });
});
