/**
 * A node that stops after its last round (--rounds) keeps serving that round's policy blob until the peers whose
 * rollouts it took have fetched it: they re-execute its rollout from that blob, and a peer slower than the node
 * (a browser tab, a loaded machine) would otherwise find no one serving it and reject an honest rollout.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import { ROLLOUT_SCHEMAS, rolloutCodec, rolloutTopic } from '../../src/swarm/rollout-message.js';
import { startRound } from '../../src/swarm/round.js';
import { runSapoNode, type SapoEvent } from '../../src/swarm/sapo-node.js';
import { keyOf, testConfig, testNodes } from './helpers.js';

const config = testConfig({ swarmId: 'drain' });
const ROUND_MS = 60_000;
let dir: string;
const nodes: MycelNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the last round', () => {
  it('a node stopping after --rounds serves its policy blob until its slow peer has fetched it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mycel-sapo-drain-'));
    const start = (i: number, bootstrap: string[]) =>
      MycelNode.start({ identity: identityFromRaw(keyOf(i)), dataDir: join(dir, `p2p-${i}`), host: '127.0.0.1', tcpPort: 0, wsPort: -1, bootstrap });
    const a = await start(0, []);
    nodes.push(a);
    const b = await start(1, [a.multiaddrs()[0]]);
    nodes.push(b);
    // Two policies (two seeds): each must fetch the other's blob to re-execute its rollout (reexecFraction 1).
    const [nodeA] = testNodes(1, config, 1);
    const slow = testNodes(2, config, 2)[1];
    expect(nodeA.id).toBe(a.peerId.toString());
    expect(slow.id).toBe(b.peerId.toString());

    const events: SapoEvent[] = [];
    const genesisMs = Date.now();
    let finishedAt = 0;
    // As `mycel swarm start --rounds 1` does: the node stops once runSapoNode returns.
    const running = runSapoNode({ p2p: a, node: nodeA, dataDir: join(dir, 'a'), genesisMs, roundMs: ROUND_MS, rounds: 1, expectPeers: 1, signal: new AbortController().signal, onEvent: (e) => events.push(e) })
      .then(async () => {
        finishedAt = Date.now();
        await a.stop();
      });

    // The slow peer: it serves its blob, publishes its rollout, and fetches A's blob only after A finished its round.
    const { rollout, blob } = startRound(slow, 0);
    const file = join(dir, 'slow-policy.safetensors');
    await writeFile(file, blob.bytes);
    expect((await b.putFile(file)).cid).toBe(blob.cid);
    const topic = b.topic(rolloutTopic(config.swarmId), ROLLOUT_SCHEMAS);
    let heardA: { cid: string } | undefined;
    topic.subscribe(({ body }) => void (heardA ??= body));
    const bytes = rolloutCodec.encode('rollout', rollout);
    while ((await topic.publishRaw(bytes).catch(() => 0)) === 0) await new Promise((r) => setTimeout(r, 100));
    const deadline = Date.now() + 60_000;
    while (!events.some((e) => e.type === 'round') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const round = events.find((e) => e.type === 'round');
    expect(round?.type === 'round' && round.metrics).toMatchObject({ round: 0, rolloutsIn: config.own, rejected: 0 });
    await new Promise((r) => setTimeout(r, 5_000));
    expect(finishedAt).toBe(0); // round done, still serving

    expect(heardA?.cid).toBe(startRound(nodeA, 0).blob.cid);
    await b.fetch(heardA!.cid, { providers: [a.peerId.toString()], timeoutMs: 10_000 });
    await running;
    expect(finishedAt).toBeGreaterThan(0);
    expect(finishedAt - genesisMs).toBeLessThan(ROUND_MS); // not the round's end: as soon as its peer had the blob
    expect([...a.peersServed(heardA!.cid)]).toEqual([slow.id]);
  }, 90_000);
});
