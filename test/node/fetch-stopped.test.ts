// A blob fetch on a node that is stopped ends at once. getBlobTo retried a fetch the node's stop had aborted, and each
// retry on the stopped node looked providers up in a DHT that was stopped ('QueryManager not started'), several times
// a second, until its attempts ran out: minutes (bench scale: a fetcher stopped by the churn kept at it for 60 s and,
// being back up by then, was counted as a fetch that failed).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBlobTo } from '../../src/node/p2p.js';
import { NodeStoppedError } from '../../src/p2p/errors.js';
import { startNode, tempDir } from '../p2p/helpers.js';

const NOBODY = 'bafkreiftazjwnbcw44tzm5qmo6fgdttpmfeurxq5mwnrtgi2isk4rivfzu';

describe('fetching on a stopped node', () => {
  it('a fetch under way when the node stops, and one begun after, end at once with NodeStoppedError', async () => {
    const peer = await startNode();
    const node = await startNode([peer.multiaddrs()[0]]);
    const out = join(await tempDir(), 'out.bin');
    try {
      const fetching = getBlobTo(node, NOBODY, out);
      fetching.catch(() => undefined); // awaited below
      await new Promise((r) => setTimeout(r, 300));
      await node.stop();
      const stoppedAt = Date.now();
      // Before the fix: retried on the stopped node for its 8 attempts (about 3 minutes), then NoProvidersError.
      await expect(fetching).rejects.toBeInstanceOf(NodeStoppedError);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      await expect(getBlobTo(node, NOBODY, out)).rejects.toBeInstanceOf(NodeStoppedError);
    } finally {
      await Promise.all([node.stop(), peer.stop()]);
    }
  }, 60_000);
});
