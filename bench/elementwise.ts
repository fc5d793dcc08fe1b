// `npm run bench -- elementwise [--json]`: throughput in GB/s (bytes read + written) of the runtime's
// elementwise and reduction ops, beside a plain typed-array loop over the same data in the same run
// (the anchor: what JavaScript does with no tensor machinery and no NaN canonicalisation).
import { Rng } from '../src/tensor/index.js';
import { makeReporter } from './report.js';
import { bestSeconds } from './lib/best-seconds.js';

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const n = 1 << 22;
  const rng = new Rng(3);
  const a = rng.uniform([n / 1024, 1024]);
  const b = rng.uniform([n / 1024, 1024]);
  const row = rng.uniform([1024]);
  const [ad, bd, rd] = [a.data as Float32Array, b.data as Float32Array, row.data as Float32Array];
  const out = new Float32Array(n);

  const cases: { name: string; bytes: number; ours: () => unknown; anchor: () => void }[] = [
    {
      name: 'add',
      bytes: 12 * n,
      ours: () => a.add(b),
      anchor: () => { for (let i = 0; i < n; i++) out[i] = ad[i] + bd[i]; },
    },
    {
      name: 'add_broadcast_row',
      bytes: 8 * n,
      ours: () => a.add(row),
      anchor: () => { for (let i = 0; i < n; i++) out[i] = ad[i] + rd[i & 1023]; },
    },
    {
      name: 'mul',
      bytes: 12 * n,
      ours: () => a.mul(b),
      anchor: () => { for (let i = 0; i < n; i++) out[i] = ad[i] * bd[i]; },
    },
    {
      name: 'sum_last_axis',
      bytes: 4 * n,
      ours: () => a.sum(-1),
      anchor: () => {
        for (let r = 0; r < n / 1024; r++) {
          let acc = 0;
          for (let i = 0; i < 1024; i++) acc = Math.fround(acc + ad[r * 1024 + i]);
          out[r] = acc;
        }
      },
    },
    {
      name: 'sum_first_axis',
      bytes: 4 * n,
      ours: () => a.sum(0),
      anchor: () => {
        out.fill(0, 0, 1024);
        for (let r = 0; r < n / 1024; r++) for (let i = 0; i < 1024; i++) out[i] += ad[r * 1024 + i];
      },
    },
    {
      name: 'max_last_axis',
      bytes: 4 * n,
      ours: () => a.max(-1),
      anchor: () => {
        for (let r = 0; r < n / 1024; r++) {
          let acc = -Infinity;
          for (let i = 0; i < 1024; i++) acc = Math.max(acc, ad[r * 1024 + i]);
          out[r] = acc;
        }
      },
    },
  ];
  for (const c of cases) {
    const ours = c.bytes / bestSeconds(() => c.ours(), 7) / 1e9;
    const anchor = c.bytes / bestSeconds(c.anchor, 7) / 1e9;
    report({ name: c.name, elements: n, gb_per_s: ours, anchor: 'plain typed-array loop', anchor_gb_per_s: anchor, ratio: ours / anchor });
  }
}
