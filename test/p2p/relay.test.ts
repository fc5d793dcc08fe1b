// Circuit relay v2 on loopback: A serves as relay, B has no listener of its own (it is reachable only through
// a reservation on A), C dials B through A and exchanges a ping and a blob over the relayed connection.
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { BLOB_PROTOCOL, BlobRequester } from '../../src/p2p/blob/protocol.js';
import { parseBlobCid } from '../../src/p2p/blob/manifest.js';
import { isRelayedAddr, MycelNode } from '../../src/p2p/node.js';
import { randomSecp256k1, startNode, tempDir, waitFor } from './helpers.js';

const HOP = '/libp2p/circuit/relay/0.2.0/hop';

describe('circuit relay v2 on loopback', () => {
  let relay: MycelNode;
  let hidden: MycelNode;
  let dialer: MycelNode;
  const nodes: MycelNode[] = [];
  beforeAll(async () => {
    relay = await startNode();
    nodes.push(relay);
    hidden = await MycelNode.start({
      identity: identityFromRaw(randomSecp256k1()),
      dataDir: await tempDir(),
      host: '127.0.0.1',
      tcpPort: -1, // no TCP listener: nobody can dial B directly
      wsPort: -1,
      bootstrap: [relay.multiaddrs()[0]],
      relayListen: true,
    });
    nodes.push(hidden);
    dialer = await startNode(); // C knows neither B's address nor anyone else's
    nodes.push(dialer);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => rm(join(n.store.dir, '..'), { recursive: true, force: true })));
  });

  it('B reserves a slot on the relay and advertises only /p2p-circuit addresses', async () => {
    expect(relay.host.getProtocols()).toContain(HOP);
    await waitFor(() => hidden.multiaddrs().some(isRelayedAddr), 10_000, 'a relay reservation');
    const addrs = hidden.multiaddrs();
    expect(addrs.length).toBeGreaterThan(0);
    expect(addrs.every(isRelayedAddr)).toBe(true);
    expect(addrs[0]).toContain(`/p2p/${relay.peerId}/p2p-circuit/p2p/${hidden.peerId}`);
  });

  it('C reaches B through A: a relayed (limited) connection, a ping and a blob', async () => {
    await waitFor(() => hidden.multiaddrs().some(isRelayedAddr), 10_000, 'a relay reservation');
    const circuit = multiaddr(hidden.multiaddrs().find(isRelayedAddr)!);
    const connection = await dialer.host.dial(circuit);
    expect(connection.remotePeer.equals(hidden.peerId)).toBe(true);
    expect(connection.remoteAddr.toString()).toContain('/p2p-circuit');
    expect(connection.limits).toBeDefined(); // the relay's data/duration limits apply
    await expect(dialer.host.services.ping.ping(circuit)).resolves.toBeTypeOf('number'); // rejects unless B answers through A

    // A small blob, served by B over the relayed connection (the blob protocol runs on limited connections).
    const dir = await tempDir();
    const bytes = randomBytes(200 * 1024);
    await writeFile(join(dir, 'in.bin'), bytes);
    const { cid } = await hidden.putFile(join(dir, 'in.bin'));
    const stream = await dialer.host.dialProtocol(hidden.peerId, BLOB_PROTOCOL, { runOnLimitedConnection: true });
    const requester = new BlobRequester(hidden.peerId, stream);
    const got = await requester.manifest(parseBlobCid(cid));
    expect(got?.manifest.size).toBe(bytes.byteLength);
    const chunk = await requester.request('chunk', parseBlobCid(cid), 0);
    requester.close();
    expect(createHash('sha256').update(chunk!).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    // C never reached B directly: any direct connection between them was dialled out by B (B, "behind NAT",
    // learns C's address over the relayed link; DCUtR is attempted but B has no address of its own to offer).
    const direct = dialer.host.getConnections(hidden.peerId).filter((c) => !c.remoteAddr.toString().includes('/p2p-circuit'));
    expect(direct.every((c) => c.direction === 'inbound')).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('a node started with relay off does not serve as a relay', async () => {
    const plain = await MycelNode.start({ identity: identityFromRaw(randomSecp256k1()), dataDir: await tempDir(), host: '127.0.0.1', tcpPort: 0, wsPort: -1, bootstrap: [], relay: false });
    nodes.push(plain);
    expect(plain.host.getProtocols()).not.toContain(HOP);
  });
});
