/** Real mycel nodes on 127.0.0.1 with temp data dirs, for the p2p tests. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';

export type TestNet = { nodes: MycelNode[]; dirs: string[]; stop(): Promise<void> };

export async function tempDir(prefix = 'mycel-p2p-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function startNode(bootstrap: string[] = [], dir?: string): Promise<MycelNode> {
  return MycelNode.start({
    identity: identityFromRaw(randomSecp256k1()),
    dataDir: dir ?? (await tempDir()),
    host: '127.0.0.1',
    tcpPort: 0,
    wsPort: -1,
    bootstrap,
  });
}

/** One bootstrap node, then `count - 1` nodes that know only its address. */
export async function startNet(count: number): Promise<TestNet> {
  const first = await startNode();
  const addr = first.multiaddrs()[0];
  const rest = await Promise.all(Array.from({ length: count - 1 }, () => startNode([addr])));
  const nodes = [first, ...rest];
  return {
    nodes,
    dirs: [],
    async stop() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      await Promise.all(nodes.map((n) => rm(join(n.store.dir, '..'), { recursive: true, force: true })));
    },
  };
}

export function randomSecp256k1(): Uint8Array {
  // Any 32 random bytes are a valid key except with negligible probability (>= the group order).
  return Uint8Array.from(randomBytes(32));
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
