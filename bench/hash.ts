// `npm run bench -- hash [--json] [--mib N]`: the chunk root of a tensor commitment (tensor-commitment.ts: RFC 6962
// leaves over 256-byte chunks, then the tree) with every batched SHA-256 implementation that runs here
// (sha256-batch.ts: native SHA-NI / portable C, WebAssembly SIMD, and 'js', one node:crypto call per hash: what state
// hashing did before batching). Per implementation: leaves/s and MB/s of data for the leaves alone, MB/s for the
// whole root, and ratio_to_node_crypto (root throughput over the 'js' row's, in the same run). The last row is
// node:crypto over 1 KiB chunks, the layout before 256-byte chunks, for reference. Data: N MiB (default 8, about a
// gpt-tiny training state with its AdamW moments).
import { merkleRootOfLevel, sha256Batches, type Sha256Batch } from '../src/tensor/index.js';
import { makeReporter } from './report.js';
import { bestSeconds } from './lib/best-seconds.js';

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const at = args.indexOf('--mib');
  const mib = at >= 0 ? Number(args[at + 1]) : 8;
  if (!(mib > 0)) throw new Error(`--mib wants a positive number of MiB, got ${args[at + 1]}`);
  const data = new Uint8Array(Float32Array.from({ length: (mib * 2 ** 20) / 4 }, (_, i) => Math.sin(i)).buffer);
  const measure = (batch: Sha256Batch, chunk: number) => {
    const leaves = data.length / chunk;
    const leafSeconds = bestSeconds(() => batch.leaves(data, chunk), 5);
    const rootSeconds = bestSeconds(() => merkleRootOfLevel(batch.leaves(data, chunk), Math.ceil(leaves), batch), 5);
    return { leaves_per_s: leaves / leafSeconds, leaves_mb_per_s: data.length / 1e6 / leafSeconds, root_mb_per_s: data.length / 1e6 / rootSeconds, root_ms: rootSeconds * 1000 };
  };
  const batches = sha256Batches();
  const js = batches.find((b) => b.name === 'js')!;
  const anchor = measure(js, 256);
  for (const batch of batches) {
    const figures = batch === js ? anchor : measure(batch, 256);
    report({ bench: 'hash', impl: batch.name, chunk_bytes: 256, mib, ...figures, ratio_to_node_crypto: figures.root_mb_per_s / anchor.root_mb_per_s });
  }
  const before = measure(js, 1024);
  report({ bench: 'hash', impl: 'js', chunk_bytes: 1024, mib, ...before, ratio_to_node_crypto: before.root_mb_per_s / anchor.root_mb_per_s });
}
