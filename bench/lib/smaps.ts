/**
 * Where a process's resident memory is, from /proc/self/smaps (Linux): the soak's RSS slope says memory grows, this
 * says in which kind of mapping. Each mapping's Rss is put in one group:
 * - `lmdb`: file maps of LMDB databases (the node's `state.lmdb`, its lock file); pages read or written stay resident until the kernel reclaims them;
 * - `code`: other file maps (node, shared libraries, the native addon);
 * - `brk`: glibc's main malloc arena (`[heap]`), `arena`: its other arenas (anonymous maps aligned to 64 MiB, the
 *   arena size on 64-bit glibc), where native code (libp2p's crypto, LMDB's buffers, Node's Buffers) allocates;
 * - `wasm`: anonymous reservations of at least 1 GiB (V8 reserves 8-10 GiB per WebAssembly memory, guard included);
 * - `stack`: 8 MiB anonymous maps (thread stacks: worker threads, libuv's pool) and `[stack]`;
 * - `anon`: every other anonymous map (mostly V8's heap pages and its code space).
 */
import { readFileSync } from 'node:fs';

export const SMAPS_GROUPS = ['lmdb', 'code', 'brk', 'arena', 'wasm', 'stack', 'anon'] as const;
export type SmapsGroup = (typeof SMAPS_GROUPS)[number];
export type SmapsMapping = { start: string; sizeKb: number; rssKb: number; name: string; group: SmapsGroup };
export type SmapsSummary = { mb: Record<SmapsGroup, number>; mappings: SmapsMapping[]; threads: number };

const ARENA_ALIGN = 64n * 2n ** 20n;

function groupOf(start: bigint, sizeKb: number, name: string): SmapsGroup {
  if (/\.(lmdb|mdb)(-lock)?$/.test(name)) return 'lmdb';
  if (name === '[heap]') return 'brk';
  if (name === '[stack]' || name.startsWith('[stack:')) return 'stack';
  if (name.startsWith('/')) return 'code';
  if (name !== '') return 'anon'; // [vvar], [vdso], [anon:...]
  if (sizeKb >= 2 ** 20) return 'wasm';
  if (sizeKb === 8192 || sizeKb === 8196) return 'stack';
  if (start % ARENA_ALIGN === 0n && sizeKb <= 65536) return 'arena';
  return 'anon';
}

/** Null where /proc/self/smaps does not exist (not Linux). */
export function readSmaps(): SmapsSummary | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return null;
  }
  const mappings: SmapsMapping[] = [];
  let current: SmapsMapping | null = null;
  let startBig = 0n;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      startBig = BigInt(`0x${head[1]}`);
      const sizeKb = Number((BigInt(`0x${head[2]}`) - startBig) / 1024n);
      current = { start: head[1], sizeKb, rssKb: 0, name: head[3], group: groupOf(startBig, sizeKb, head[3]) };
      mappings.push(current);
    } else if (current && line.startsWith('Rss:')) {
      current.rssKb = Number(line.slice(4).trim().split(/\s+/)[0]);
    }
  }
  const mb = Object.fromEntries(SMAPS_GROUPS.map((g) => [g, 0])) as Record<SmapsGroup, number>;
  for (const m of mappings) mb[m.group] += m.rssKb / 1024;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  return { mb, mappings, threads };
}

/** The mappings whose Rss grew most from `before` to `after` (matched by start address and name), at most `top`. */
export function smapsGrowth(before: SmapsSummary, after: SmapsSummary, top = 10): { start: string; name: string; group: SmapsGroup; sizeKb: number; grewKb: number }[] {
  const was = new Map(before.mappings.map((m) => [`${m.start} ${m.name}`, m.rssKb]));
  return after.mappings
    .map((m) => ({ start: m.start, name: m.name, group: m.group, sizeKb: m.sizeKb, grewKb: m.rssKb - (was.get(`${m.start} ${m.name}`) ?? 0) }))
    .sort((a, b) => b.grewKb - a.grewKb)
    .slice(0, top);
}
