/**
 * A role node's libp2p side: a MycelNode with its Ethereum key as its libp2p identity, bootstrapped from a known peer
 * (the devnet's submitter), moving job specs, step hashes and models as content-addressed blobs (`put` announces on
 * the DHT, `get` fetches chunk by chunk, each chunk verified against the blob's manifest).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexToBytes, type Hex } from 'viem';
import { NodeStoppedError } from '../p2p/errors.js';
import { identityFromRaw } from '../p2p/identity.js';
import { MycelNode } from '../p2p/node.js';
import { sleep } from './context.js';

/**
 * Where a node listens (by default 127.0.0.1 and a free TCP port) and how much of the network it keeps: the scale
 * simulation runs many nodes on one machine with NAT traversal off and fewer connections each (MycelNode, createHost).
 */
export type P2pOptions = { host?: string; port?: number; nat?: boolean; autoDialTarget?: number; maxConnections?: number; connectionMonitor?: boolean; dialTimeoutMs?: number };

/** Starts a node's libp2p side. */
export async function startP2p(o: { privateKey: Hex; dataDir: string; bootstrap?: string[] } & P2pOptions): Promise<MycelNode> {
  return MycelNode.start({
    identity: identityFromRaw(hexToBytes(o.privateKey)),
    dataDir: join(o.dataDir, 'p2p'),
    host: o.host ?? '127.0.0.1',
    tcpPort: o.port ?? 0,
    wsPort: -1,
    bootstrap: o.bootstrap ?? [],
    relay: false,
    ...(o.nat !== undefined ? { nat: o.nat } : {}),
    ...(o.autoDialTarget !== undefined ? { autoDialTarget: o.autoDialTarget } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
    ...(o.connectionMonitor !== undefined ? { connectionMonitor: o.connectionMonitor } : {}),
    ...(o.dialTimeoutMs !== undefined ? { dialTimeoutMs: o.dialTimeoutMs } : {}),
  });
}

/** The address other nodes bootstrap from (TCP on loopback, with the peer id). */
export function bootstrapAddr(node: MycelNode): string {
  const addrs = node.multiaddrs();
  return addrs.find((a) => a.includes('/tcp/') && a.includes('/p2p/')) ?? `${addrs[0]}/p2p/${node.peerId.toString()}`;
}

/** Adds bytes (written to `file` first) to the node's blob store and announces them; returns the CID. */
export async function putBlob(node: MycelNode, file: string, bytes: Uint8Array): Promise<string> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, bytes);
  const { cid } = await node.putFile(file);
  return cid;
}

/**
 * Fetches a blob by CID (retrying while no provider is known yet) and copies it to `out`; `providers` are asked first.
 * Each attempt gets twice the time of the one before (5 s, 10 s, 20 s, then 30 s): on a loaded machine a dial, its
 * handshakes and the manifest request passed 5 s, and an attempt that always ends at 5 s cancels its own dial and
 * never succeeds (bench scale, 50 nodes at load 45: no blob replicated, the solvers never got a spec).
 */
export async function getBlobTo(node: MycelNode, cid: string, out: string, o: { attempts?: number; signal?: AbortSignal; providers?: readonly string[] } = {}): Promise<void> {
  await mkdir(join(out, '..'), { recursive: true });
  for (let i = 1; ; i++) {
    try {
      await node.fetch(cid, { timeoutMs: Math.min(30_000, 5_000 * 2 ** (i - 1)), ...(o.signal ? { signal: o.signal } : {}), ...(o.providers ? { providers: o.providers } : {}) });
      await node.exportBlob(cid, out);
      return;
    } catch (error) {
      if (o.signal?.aborted || error instanceof NodeStoppedError || i >= (o.attempts ?? 8)) throw error;
      await sleep(250, o.signal);
    }
  }
}

/** Fetches a blob by CID and returns its bytes. */
export async function getBlob(node: MycelNode, cid: string, tmpDir: string, o: { signal?: AbortSignal; providers?: readonly string[] } = {}): Promise<Uint8Array> {
  const out = join(tmpDir, `${cid}.blob`);
  await getBlobTo(node, cid, out, o);
  try {
    const bytes = new Uint8Array(await readFile(out));
    return bytes;
  } finally {
    await rm(out, { force: true });
  }
}
